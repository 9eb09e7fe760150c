import CertificateAuthority
import DNSCore
import DNSSEC
import DNSWorld
import Foundation
import Logging
import Resolver
import Runner
import Sandbox
import Scenario

/// A case's world brought up on its own: namespace, unbound, and a resolver pointing at it; for a
/// signed world also the validating twin and a validating resolver.
struct StandaloneWorld {
    let namespace: NetworkNamespace
    let world: DNSWorld
    let resolver: DNSResolver
    let directory: String
    /// The signed world's validating unbound (`DNSWorld.Role.validating`).
    let twin: DNSWorld?
    /// libunbound validating from the world's trust anchor.
    let validator: DNSResolver?

    static func start(_ scenario: ScenarioCase, timeout: Duration, logger: Logger) async throws -> StandaloneWorld {
        // TLSA stand-ins become the digests of certificates from an authority made for this world.
        let scenario = try scenario.preparingTLSA(authority: RunAuthority())
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("dns")
        let addresses = scenario.receiver.addresses + Array(scenario.sender.addresses.values)
        do {
            let namespace = try await NetworkNamespace.create(
                name: registry.makeName("dns"), addresses: addresses, logger: logger)
            var started: [DNSWorld] = []
            var resolvers: [DNSResolver] = []
            do {
                let world = try await DNSWorld.start(scenario.dns, in: namespace, directory: directory, logger: logger)
                started.append(world)
                let resolver = try await DNSResolver(
                    configuration: ResolverConfiguration(
                        server: world.resolverAddress, timeout: timeout, namespace: namespace, directory: directory),
                    logger: logger)
                resolvers.append(resolver)
                var twin: DNSWorld?
                var validator: DNSResolver?
                if scenario.dns.isSigned {
                    let validating = try world.launchValidatingTwin()
                    started.append(validating)
                    try await validating.waitUntilServing()
                    twin = validating
                    validator = try await DNSResolver(
                        configuration: ResolverConfiguration(
                            server: world.resolverAddress, timeout: timeout, namespace: namespace, directory: directory,
                            validation: .validating, trustAnchor: world.trustAnchor), logger: logger)
                }
                return StandaloneWorld(
                    namespace: namespace, world: world, resolver: resolver, directory: directory, twin: twin,
                    validator: validator)
            } catch {
                for resolver in resolvers { resolver.shutdown() }
                for world in started { await world.stop() }
                await namespace.destroy()
                throw error
            }
        } catch {
            registry.removeDirectory(directory)
            throw error
        }
    }

    /// `start`, its failure as the command's error.
    static func up(_ scenario: ScenarioCase, timeout: Duration, logger: Logger) async throws(HarnessError)
        -> StandaloneWorld
    {
        do { return try await start(scenario, timeout: timeout, logger: logger) } catch {
            throw .failed("cannot bring up the world of \(scenario.name): \(error)")
        }
    }

    func stop() async {
        resolver.shutdown()
        validator?.shutdown()
        await twin?.stop()
        await world.stop()
        await namespace.destroy()
        ResourceRegistry.shared.removeDirectory(directory)
    }

    /// What `dns check` shows of the world's DNSSEC: each answer's security state through the
    /// validating resolver, and the validating unbound's extended error for a bogus one.
    var security: WorldReport.Security? {
        guard let validator, let twin, let signed = world.signed else { return nil }
        let namespace = namespace
        return WorldReport.Security(signed: signed, validator: validator) { name, type in
            guard let answer = try? await ServerQuery.ask(name, type.code, server: twin.resolverAddress, in: namespace)
            else { return nil }
            return answer.extendedError.map { ede in
                // The text repeats the question libunbound's reason already names.
                var text = ede.text
                if text.hasPrefix("validation failure <"), let end = text.range(of: ">: ") {
                    text = String(text[end.upperBound...])
                }
                return "EDE \(ede.code) \(ServerAnswer.extendedErrorName(ede.code))" + (text.isEmpty ? "" : ": \(text)")
            }
        }
    }
}

extension Harness {
    /// `mxharness dns check FILE`: every name in the world with what it answers, through libunbound.
    public static func dnsCheck(
        file: String, variant: String?, kinds: ScenarioKinds, timeout: Duration, logger: Logger
    ) async throws(HarnessError) {
        let scenario = try Preflight.oneCase(
            file: file, variant: variant, kinds: kinds, configuration: nil, logger: logger)
        let standalone = try await StandaloneWorld.up(scenario, timeout: timeout, logger: logger)
        Output().line(
            await WorldReport.render(scenario.dns, resolver: standalone.resolver, security: standalone.security))
        await standalone.stop()
    }

    /// `mxharness dns serve FILE`: the world stays up, with instructions for dig, until Ctrl-C.
    public static func dnsServe(file: String, variant: String?, kinds: ScenarioKinds, logger: Logger)
        async throws(HarnessError) -> Never
    {
        let out = Output()
        let scenario = try Preflight.oneCase(
            file: file, variant: variant, kinds: kinds, configuration: nil, logger: logger)
        let standalone = try await StandaloneWorld.up(scenario, timeout: .seconds(2), logger: logger)
        let ns = standalone.namespace.name
        let example = scenario.dns.records.first.map { "\($0.owner) \($0.type)" } ?? "example.test A"
        // Run as an ordinary user, the world is inside the run's own user namespace: enter it first.
        let enter = UserNamespace.enterPrefix ?? ""
        out.line(
            """
            The DNS world of \(scenario.name) is up: unbound on 127.0.0.1 and ::1 port 53 inside network namespace \(ns).
            Query it with:
              \(enter)ip netns exec \(ns) dig @127.0.0.1 \(example)
              \(enter)ip netns exec \(ns) dig @::1 -x \(scenario.sender.addresses.values.first?.description ?? "2001:db8::1")
            unbound configuration: \(standalone.world.configPath)
            query log:             \(standalone.world.logPath)   (tail -f it to watch queries)
            """
                + (standalone.twin.map { twin in
                    """


                    The world is signed: the unbound above does not validate (a non-validating resolver); its
                    validating twin, with the world's root key as trust anchor, is on \(twin.resolverAddress) port 53
                    (AD bit, SERVFAIL with an extended DNS error for bogus answers):
                      \(enter)ip netns exec \(ns) dig +dnssec @\(twin.resolverAddress) \(example)
                    trust anchor:          \(twin.trustAnchor ?? "none (the root is insecure)")
                    zone files:            \(standalone.directory)/zones/
                    validating log:        \(twin.logPath)
                    """
                } ?? "") + "\nPress Ctrl-C to take the world down.")
        // Runs until SIGINT/SIGTERM, whose handler removes the namespace, unbound and the folder.
        while true {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}

/// What every name of a world answers.
enum WorldReport {
    static let types: [RecordType] = [.a, .aaaa, .mx, .txt, .ptr, .cname, .ns, .soa]

    static func kind(_ error: DNSLookupError) -> String {
        switch error {
        case .nxdomain: "NXDOMAIN"
        case .nodata: "NODATA"
        case .servfail: "SERVFAIL"
        case .refused: "REFUSED"
        case .timeout: "no answer (timeout)"
        case .other(_, _, let reason): reason
        case .bogus(_, _, let reason): "SERVFAIL (bogus: \(reason))"
        }
    }

    /// A signed world's DNSSEC, for the report: its zones, a validating resolver, and the
    /// extended error a validating server gives for a question (nil: none).
    struct Security {
        var signed: SignedWorld
        var validator: any DNSLookup
        var extendedError: (String, RecordType) async -> String?

        /// What a validating resolver makes of `name` `type`: `secure`, `insecure`, or `bogus`
        /// with libunbound's reason and the server's extended error.
        func state(_ name: String, _ type: RecordType) async -> String {
            let answer = await validator.securedQuery(name, type)
            guard answer.security == .bogus else {
                if case .failure(let error) = answer.result, error.isTemporary { return error.shortName }
                return answer.security.rawValue
            }
            var text = "bogus: validating resolvers answer SERVFAIL (\(answer.whyBogus ?? "validation failed")"
            if let ede = await extendedError(name, type) { text += "; \(ede)" }
            return text + ")"
        }

        func zoneLine(_ name: String) -> String {
            guard let zone = signed.zone(of: name) else { return "" }
            return "  (zone \(DNSName.absolute(zone.name)), \(zone.state))"
        }
    }

    static func render(_ spec: WorldSpec, resolver: any DNSLookup, security: Security? = nil) async -> String {
        var names: [String] = []
        for record in spec.effectiveRecords where !names.contains(record.owner) { names.append(record.owner) }
        for fault in spec.faults where !names.contains(fault.name) { names.append(fault.name) }
        var lines: [String] = []
        for name in names {
            lines.append(DNSName.absolute(name) + (security?.zoneLine(name) ?? ""))
            var answers: [String] = []
            var errors: [RecordType: DNSLookupError] = [:]
            for type in types {
                do {
                    let records = try await resolver.query(name, type)
                    let state = await security?.state(name, type)
                    for record in records {
                        answers.append(
                            "  \(type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))\(record)"
                                + (state.map { "  [\($0)]" } ?? ""))
                    }
                } catch {
                    if case .nxdomain = error {
                        errors = [:]
                        let state = await security?.state(name, type)
                        answers = ["  NXDOMAIN" + (state.map { "  [\($0)]" } ?? "")]
                        break
                    }
                    if case .nodata = error { continue }
                    errors[type] = error
                }
            }
            // A fault answers every type alike: say it once.
            let kinds = Set(errors.values.map(Self.kind))
            if errors.count == types.count, let kind = kinds.first, kinds.count == 1 {
                answers.append("  \(kind) (every type)")
            } else {
                for type in types {
                    if let error = errors[type] {
                        answers.append(
                            "  \(type.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))\(Self.kind(error))")
                    }
                }
            }
            lines.append(contentsOf: answers.isEmpty ? ["  NODATA for every type"] : answers)
        }
        if names.isEmpty { lines.append("(the world is empty: every name is NXDOMAIN)") }
        return lines.joined(separator: "\n")
    }
}
