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
            configuration: ResolverConfiguration(server: server, port: port, timeout: timeout, namespace: namespace, directory: directory),
            logger: logger)
        defer { resolver.shutdown() }
        return await DNSCapture.capture(request, lookup: resolver)
    }
}
