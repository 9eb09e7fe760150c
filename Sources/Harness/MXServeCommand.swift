import CertificateAuthority
import DNSCore
import Foundation
import Logging
import NIOPosix
import Policy
import ReferenceMX
import Resolver
import SMTPProtocol
import Sandbox

extension Harness {
    /// `mxharness mx serve`: the built-in MX alone, for trying it with swaks or a real MTA. Lookups go
    /// through libunbound to `resolver`; every session's decision is logged as it ends.
    public static func mxServe(
        policy: Preset, listen endpoints: [ListeningEndpoint], resolver: ResolverAddress, hostname: String,
        bareNewline: SMTPBareNewlineMode = .normalize, requiresProxyHeader: Bool = false,
        xclientHosts: [IPAddress] = [],
        tls: MXServeTLS? = nil, logger: Logger
    ) async throws(HarnessError) {
        let out = Output()
        let (server, port) = (resolver.address, resolver.port)
        let registry = ResourceRegistry.shared
        registry.installSignalHandlers()
        let directory: String
        let dns: DNSResolver
        do {
            directory = try registry.makeTemporaryDirectory("mxserve")
            dns = try await DNSResolver(
                configuration: ResolverConfiguration(server: server, port: port, directory: directory), logger: logger)
        } catch {
            throw .failed("cannot set up the resolver: \(error)")
        }
        defer {
            dns.shutdown()
            registry.removeDirectory(directory)
        }
        do {
            var configuration = MXConfiguration(hostname: hostname, policy: policy.policy, bareNewline: bareNewline)
            configuration.requiresProxyHeader = requiresProxyHeader
            configuration.xclientHosts = xclientHosts
            if let tls {
                let authority = try WorldAuthority()
                let certificate = try authority.certificate(
                    tls.certificate, names: [hostname], addresses: endpoints.map(\.address))
                configuration.tls = try MXTLSConfiguration(
                    chainPEM: certificate.chainPEM, keyPEM: certificate.privateKeyPEM, required: tls.required)
                if let caFile = tls.caFile { try Data(authority.rootPEM.utf8).write(to: URL(fileURLWithPath: caFile)) }
            }
            try await ReferenceMX.serve(
                configuration: configuration, lookup: dns,
                listeningOn: endpoints, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
                ready: { bound in
                    out.line(
                        "mxharness mx: \(hostname), policy \(policy.rawValue), resolver \(server)@\(port), listening on "
                            + bound.map {
                                $0.address.family == .ipv6 ? "[\($0.address)]:\($0.port)" : "\($0.address):\($0.port)"
                            }.joined(separator: ", ")
                            + " (Ctrl-C stops)")
                })
        } catch is CancellationError {
        } catch {
            throw .failed("\(error)")
        }
    }

    /// `ADDR` or `ADDR@PORT`.
    static func parseResolver(_ text: String) -> (IPAddress, UInt16)? {
        ResolverAddress(text).map { ($0.address, $0.port) }
    }
}

/// STARTTLS on `mx serve`: a certificate from an authority made for the run.
public struct MXServeTLS: Sendable {
    public var required: Bool
    public var certificate: CertificateKind
    /// Where to write the authority's certificate for clients.
    public var caFile: String?

    public init(required: Bool, certificate: CertificateKind, caFile: String?) {
        self.required = required
        self.certificate = certificate
        self.caFile = caFile
    }
}

/// A DNS server to ask: `ADDR` or `ADDR@PORT` (port 53 by default), as dig writes it.
public struct ResolverAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init?(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = IPAddress(parts[0].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else {
            return nil
        }
        self.address = address
        self.port = 53
        if parts.count == 2 {
            guard let port = UInt16(parts[1]), port > 0 else { return nil }
            self.port = port
        }
    }

    public var description: String { "\(address)@\(port)" }
}
