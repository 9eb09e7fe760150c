import CertificateAuthority
import ArgumentParser
import Catalog
import DNSCore
import Harness
import Policy
import ReferenceMX
import Runner
import SMTPProtocol
import Scenario

// The values of options, parsed (and their errors reported) by argument-parser itself.

extension Preset: ExpressibleByArgument {}

extension ReceiverProxyProtocol: ExpressibleByArgument {}

extension CertificateKind: ExpressibleByArgument {}

extension IPAddress: ExpressibleByArgument {
    /// An IPv4 or IPv6 address, without brackets.
    public init?(argument: String) {
        self.init(argument)
    }
}

extension ListeningEndpoint: ExpressibleByArgument {
    /// `ADDR:PORT` (`127.0.0.1:2525`, `[::1]:2525`), or `ADDR` for port 25.
    public init?(argument: String) {
        self.init(argument)
    }
}

extension ResolverAddress: ExpressibleByArgument {
    /// `ADDR` or `ADDR@PORT`.
    public init?(argument: String) {
        self.init(argument)
    }
}

extension CaseShard: ExpressibleByArgument {
    /// `K/N`, 1 ≤ K ≤ N.
    public init?(argument: String) {
        self.init(argument)
    }
}

extension SMTPBareNewlineMode: ExpressibleByArgument {
    /// `no`, `normalize`, `reject`, and `yes` as Postfix's alias for `normalize`.
    public init?(argument: String) {
        self.init(postfixName: argument)
    }

    public static var allValueStrings: [String] { names }
}
