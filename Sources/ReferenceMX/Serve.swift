import DNSCore
import Logging
import NIOCore
import Sandbox

extension ReferenceMX {
    /// Runs an MX on `endpoints` until the calling task is cancelled, logging each session's
    /// decision (its `summary`, and with a logger at `.debug` its transcript) at `.info` as it
    /// ends and keeping no records (only counts); then stops it. What `mxharness mx serve` runs.
    ///
    /// - Parameter ready: called once every endpoint is bound, with the bound endpoints
    ///   (the kernel's ports for port 0).
    public static func serve(
        configuration: MXConfiguration, lookup: any DNSLookup, listeningOn endpoints: [ListeningEndpoint],
        in namespace: NetworkNamespace? = nil, eventLoopGroup: any EventLoopGroup, logger: Logger,
        ready: @Sendable ([ListeningEndpoint]) -> Void = { _ in }
    ) async throws {
        var configuration = configuration
        configuration.sessionLogLevel = .info
        configuration.keepsRecords = false
        // `mx serve --verbose` (a logger at debug or below): every command and reply too.
        configuration.logsTranscripts = logger.logLevel <= .debug
        let mx = ReferenceMX(
            configuration: configuration, lookup: lookup, eventLoopGroup: eventLoopGroup, logger: logger)
        do {
            try await mx.start(listeningOn: endpoints, in: namespace)
        } catch {
            await mx.stop()
            throw error
        }
        let policy = configuration.policy.preset.map(\.rawValue) ?? "custom"
        logger.info(
            "MX serving",
            metadata: [
                "hostname": "\(configuration.hostname)", "policy": "\(policy)",
                "listening": "\(mx.endpoints.map(\.description).joined(separator: " "))",
            ])
        ready(mx.endpoints)
        // Sleep until cancelled (Task.sleep throws CancellationError then).
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(3600)) } catch { break }
        }
        await mx.stop()
        logger.info("MX stopped", metadata: ["sessions": "\(mx.sessionCount)", "messages": "\(mx.messageCount)"])
    }
}
