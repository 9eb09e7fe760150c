import DNSCore
import Logging
import Resolver
import Sandbox

/// A capture through libunbound, forwarding every question to one resolver and nowhere else.
public enum CaptureSession {
    /// Asks `server`@`port` (from inside `namespace`, or the current network namespace when nil)
    /// everything a receiver would look up for `request`.
    public static func capture(
        _ request: CaptureRequest, server: IPAddress, port: UInt16 = 53, namespace: NetworkNamespace? = nil,
        timeout: Duration = .seconds(3), logger: Logger = Logger(label: "mxharness.capture")
    ) async throws -> CapturedWorld {
        let registry = ResourceRegistry.shared
        let directory = try registry.makeTemporaryDirectory("capture")
        defer { registry.removeDirectory(directory) }
        // libunbound with a forward zone for "." sends every question to the forwarder only; it never
        // iterates from the root itself (forward-first is off).
        let resolver = try await DNSResolver(
            configuration: ResolverConfiguration(
                server: server, port: port, timeout: timeout, namespace: namespace, directory: directory),
            logger: logger)
        defer { resolver.shutdown() }
        var world = await DNSCapture.capture(request, lookup: resolver)
        world.security = await securityStates(
            of: world.log, server: server, port: port, namespace: namespace, timeout: timeout)
        return world
    }

    /// What the resolver says of each answer's DNSSEC, where it says anything: the AD bit of a
    /// validating resolver (secure), or its SERVFAIL with a DNSSEC extended error (bogus, RFC 8914
    /// codes 1 to 12). libunbound, which made the capture without validating, does not pass the
    /// AD bit of the server on (an upstream AD is not trusted), so each question is asked once
    /// more, directly, with the DO bit.
    static func securityStates(
        of log: [CapturedAnswer], server: IPAddress, port: UInt16, namespace: NetworkNamespace?, timeout: Duration
    ) async -> [CapturedSecurity] {
        var states: [CapturedSecurity] = []
        var asked = Set<String>()
        for answer in log where asked.insert("\(answer.question) \(answer.type)").inserted {
            // A question that went unanswered would only be waited for again.
            if case .error(.timeout) = answer.outcome { continue }
            guard
                let reply = try? await ServerQuery.ask(
                    answer.question, answer.type.code, server: server, port: port, in: namespace, timeout: timeout)
            else { continue }
            if reply.authenticated {
                states.append(
                    CapturedSecurity(name: answer.question, type: answer.type, security: .secure, detail: "AD set"))
            } else if reply.rcode == 2, let ede = reply.extendedError, (1...12).contains(ede.code) {
                let detail =
                    "SERVFAIL, EDE \(ede.code) \(ServerAnswer.extendedErrorName(ede.code))"
                    + (ede.text.isEmpty ? "" : ": \(ede.text)")
                states.append(
                    CapturedSecurity(name: answer.question, type: answer.type, security: .bogus, detail: detail))
            }
        }
        return states
    }
}
