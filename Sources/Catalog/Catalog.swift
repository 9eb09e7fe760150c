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
    /// executables (`mxharness`, `mxharness-bench`) run them: `postfix`, `exim` and `openSMTPD` are
    /// the receiver kinds a command's options configured (`PostfixOptions`, `EximOptions`,
    /// `OpenSMTPDOptions`), by default the harness writing each case's configuration.
    public static func standard(
        postfix: PostfixReceivers = PostfixReceivers(), exim: EximReceivers = EximReceivers(),
        openSMTPD: OpenSMTPDReceivers = OpenSMTPDReceivers()
    ) -> PartCatalog {
        PartCatalog(
            receivers: [
                BuiltinMXReceivers(),
                postfix,
                exim,
                openSMTPD,
                ExecReceivers(),
            ],
            senders: [ModelSenders(), PostfixSenders(), EximSenders()],
            proxies: [HAProxyProxies(), ModelProxies()])
    }
}
