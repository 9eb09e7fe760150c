import ExecMX
import Exim
import HAProxy
import ModelProxy
import OpenSMTPD
import Postfix
import ReferenceMX
import Runner
import Sender

extension PartCatalog {
    /// The parts this build of mxharness has, one line per receiver, sender and proxy kind, as both
    /// executables (`mxharness`, `mxharness-bench`) run them: `postfix` is the Postfix receiver kind
    /// a command's options configured, `eximConfiguration` and `openSMTPDConfiguration` the texts of
    /// `--exim-config` and `--opensmtpd-config` (nil: the harness writes one per case).
    public static func standard(
        postfix: PostfixReceivers = PostfixReceivers(), eximConfiguration: String? = nil,
        openSMTPDConfiguration: String? = nil
    ) -> PartCatalog {
        PartCatalog(
            receivers: [
                BuiltinMXReceivers(),
                postfix,
                EximReceivers(configurationText: eximConfiguration),
                OpenSMTPDReceivers(configurationText: openSMTPDConfiguration),
                ExecReceivers(),
            ],
            senders: [ModelSenders(), PostfixSenders(), EximSenders()],
            proxies: [HAProxyProxies(), ModelProxies()])
    }
}
