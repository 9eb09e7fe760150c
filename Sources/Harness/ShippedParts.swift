import HAProxy
import ModelProxy
import Runner

extension PartCatalog {
    /// The parts this executable ships: the standard receivers and senders, and the proxies
    /// (`sender.proxy`) that live in modules of their own.
    static let shipped = PartCatalog.standard.adding(HAProxyProxies()).adding(ModelProxies())
}
