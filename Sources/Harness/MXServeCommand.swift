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
        policy: String, listen: [String], resolver: String, hostname: String, bareNewline: String = "normalize", logger: Logger
    ) async -> Int32 {
        let out = Output()
        guard let preset = Preset(rawValue: policy) else {
            out.error("mxharness: unknown policy preset \"\(Printable.excerpt(policy))\" (known: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")))")
            return HarnessExit.usage
        }
        guard let bareNewlineMode = SMTPBareNewlineMode(postfixName: bareNewline) else {
            out.error("mxharness: --bare-newline \(Printable.excerpt(bareNewline)): expected \(SMTPBareNewlineMode.names.joined(separator: ", "))")
            return HarnessExit.usage
        }
        var endpoints: [ListeningEndpoint] = []
        for text in listen {
            guard let endpoint = ListeningEndpoint(text) else {
                out.error("mxharness: --listen \(text): expected ADDR:PORT, e.g. 127.0.0.1:2525 or [::1]:2525")
                return HarnessExit.usage
            }
            endpoints.append(endpoint)
        }
        guard let (server, port) = parseResolver(resolver) else {
            out.error("mxharness: --resolver \(resolver): expected ADDR or ADDR@PORT, e.g. 127.0.0.1@5353")
            return HarnessExit.usage
        }
        let registry = ResourceRegistry.shared
        registry.installSignalHandlers()
        let directory: String
        let dns: DNSResolver
        do {
            directory = try registry.makeTemporaryDirectory("mxserve")
            dns = try await DNSResolver(configuration: ResolverConfiguration(server: server, port: port, directory: directory), logger: logger)
        } catch {
            out.error("mxharness: cannot set up the resolver: \(error)")
            return HarnessExit.failures
        }
        defer {
            dns.shutdown()
            registry.removeDirectory(directory)
        }
        do {
            try await ReferenceMX.serve(
                configuration: MXConfiguration(hostname: hostname, policy: preset.policy, bareNewline: bareNewlineMode), lookup: dns,
                listeningOn: endpoints, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
                ready: { bound in
                    out.line("mxharness mx: \(hostname), policy \(policy), resolver \(server)@\(port), listening on "
                        + bound.map { $0.address.family == .ipv6 ? "[\($0.address)]:\($0.port)" : "\($0.address):\($0.port)" }.joined(separator: ", ")
                        + " (Ctrl-C stops)")
                })
        } catch is CancellationError {
        } catch {
            out.error("mxharness: \(error)")
            return HarnessExit.failures
        }
        return HarnessExit.success
    }

    /// `ADDR` or `ADDR@PORT`.
    static func parseResolver(_ text: String) -> (IPAddress, UInt16)? {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        guard let address = IPAddress(parts[0].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else { return nil }
        guard parts.count == 2 else { return (address, 53) }
        guard let port = UInt16(parts[1]), port > 0 else { return nil }
        return (address, port)
    }
}
