import DNSCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import Policy
import SMTPProtocol
import Sandbox
import Synchronization

/// The built-in MX: a SwiftNIO server per listening address, each connection driven by
/// `SMTPServerStateMachine` and answered by the `PolicyEngine`; every session leaves a
/// `SessionRecord` and every accepted message a `ReceivedMessage`.
public final class ReferenceMX: Sendable {
    let core: MXCore
    /// Every listener and session of this MX runs on this one loop of the group given: like
    /// smtp-sink or one smtpd, one thread takes all connections, so a loopback client's
    /// replies are not spread over loops that each sleep and wake per reply. Several MXes
    /// (parallel cases) still spread over the group.
    private let eventLoop: any EventLoop
    private let listeners = Mutex<ListenerState>(ListenerState())

    private struct ListenerState {
        var channels: [any Channel] = []
        var endpoints: [ListeningEndpoint] = []
        var stopped = false
        var tick: RepeatedTask?
    }

    public init(
        configuration: MXConfiguration, lookup: any DNSLookup, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        let eventLoop = eventLoopGroup.next()
        self.eventLoop = eventLoop
        self.core = MXCore(configuration: configuration, lookup: lookup, eventLoop: eventLoop, logger: logger)
    }

    public var configuration: MXConfiguration { core.configuration }

    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16384, maximum: 65536)

    /// Binds every address (port 25 by default) inside `namespace` (nil: the current one) via Sandbox's `Sockets.listen(on:port:in:)` + `ServerBootstrap.withBoundSocket`.
    ///
    /// Port 0 binds each address to a free port of the kernel's choosing; `endpoints` tells which.
    public func start(listeningOn addresses: [IPAddress], port: UInt16 = 25, in namespace: NetworkNamespace?)
        async throws
    {
        try await start(listeningOn: addresses.map { ListeningEndpoint(address: $0, port: port) }, in: namespace)
    }

    /// Binds each endpoint (address and port) inside `namespace`.
    public func start(listeningOn endpoints: [ListeningEndpoint], in namespace: NetworkNamespace?) async throws {
        startTick()
        for endpoint in endpoints {
            let fd: CInt
            do {
                fd = try await Sockets.listen(on: endpoint.address, port: endpoint.port, in: namespace)
            } catch {
                throw MXError(
                    message:
                        "cannot listen on \(endpoint): \(error); is the address configured in the namespace and the port free?"
                )
            }
            let core = self.core
            let channel: any Channel
            do {
                channel = try await ServerBootstrap(group: eventLoop)
                    .serverChannelOption(.backlog, value: 256)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            // NIO reads once per readiness unless the buffer fills; from its default
                            // 2 KiB a message's text took two or three reads (and as many passes
                            // through the handler) before the allocator grew. Set here rather than
                            // as a child channel option, which NIO applies through a future each.
                            try channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveBuffers)
                            // A client's half-close ends its input, not the session (see SMTPServerHandler).
                            try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                            let recorder = core.makeRecorder(channel: channel)
                            try channel.pipeline.syncOperations.addHandler(
                                SMTPServerHandler(core: core, recorder: recorder))
                        }
                    }
                    .withBoundSocket(fd)
                    .get()
            } catch {
                throw MXError(message: "cannot serve on \(endpoint): \(error)")
            }
            let bound = ListeningEndpoint(
                address: endpoint.address, port: UInt16(clamping: channel.localAddress?.port ?? Int(endpoint.port)))
            let stopped = listeners.withLock { state -> Bool in
                if state.stopped { return true }
                state.channels.append(channel)
                state.endpoints.append(bound)
                return false
            }
            if stopped {
                try? await channel.close()
                throw MXError(message: "the MX was stopped while starting on \(endpoint)")
            }
            core.logger.debug(
                "MX listening", metadata: ["endpoint": "\(bound)", "hostname": "\(core.configuration.hostname)"])
        }
    }

    /// One timer for the whole MX instead of one per session (no task scheduled and cancelled per
    /// connection): it fires every `MXCore.tickInterval`, times out the sessions whose command timer ran out and
    /// writes the session decisions that ended since.
    private func startTick() {
        let core = self.core
        listeners.withLock { state in
            guard state.tick == nil, !state.stopped else { return }
            state.tick = eventLoop.scheduleRepeatedTask(initialDelay: core.tickInterval, delay: core.tickInterval) {
                _ in
                core.tick()
            }
        }
    }

    /// Closes listeners and open sessions; idempotent.
    public func stop() async {
        let (channels, tick) = listeners.withLock { state -> ([any Channel], RepeatedTask?) in
            state.stopped = true
            defer {
                state.channels = []
                state.tick = nil
            }
            return (state.channels, state.tick)
        }
        if let tick {
            let cancelled = eventLoop.makePromise(of: Void.self)
            tick.cancel(promise: cancelled)
            try? await cancelled.futureResult.get()
        }
        for channel in channels {
            try? await channel.close()
        }
        for channel in core.openChannels() {
            try? await channel.close()
        }
        // Sessions still open are finished by their handlers' channelInactive; make sure every
        // record ends even if a channel was already gone.
        core.markUnfinished(reason: "MX stopped")
        await core.decisions.drain()
    }

    /// Where the MX listens (with the ports the kernel chose for port 0).
    public var endpoints: [ListeningEndpoint] { listeners.withLock { $0.endpoints } }

    /// Completed and ongoing sessions, in the order they started (only ongoing ones when the
    /// configuration does not keep records).
    public var sessions: [SessionRecord] { core.sessions }

    /// Accepted messages: envelope + bytes, readable back (none when the configuration does not keep records).
    public var messages: [ReceivedMessage] { core.messages }

    /// Sessions started so far, kept or not.
    public var sessionCount: Int { core.sessionCount }

    /// Messages accepted so far, kept or not.
    public var messageCount: Int { core.messageCount }
}

/// Why the MX could not start.
public struct MXError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// What the MX's connections share: configuration, the policy engine, the records.
final class MXCore: Sendable {
    let configuration: MXConfiguration
    let engine: PolicyEngine
    /// Hostname, limits and the replies made of them, shared by every session.
    let serverSettings: SMTPServerSettings
    /// What sessions' reply buffers come from (NIO's default, as a channel's own).
    let allocator = ByteBufferAllocator()
    let logger: Logger
    let eventLoop: any EventLoop
    /// How often `tick()` runs: a tenth of a second, or a quarter of the command timeout when that
    /// is shorter, so a timeout fires at most a quarter late.
    let tickInterval: TimeAmount
    private let state = Mutex<State>(State())
    /// Sessions that ended since the last `tick()`, their decisions logged together.
    let decisions: DecisionLog

    private struct State {
        var nextID = 1
        /// Every session's recorder, when records are kept.
        var recorders: [SessionRecorder] = []
        var open: [Int: OpenSession] = [:]
        var messages: [ReceivedMessage] = []
        var messageCount = 0
    }

    private struct OpenSession {
        let channel: any Channel
        let recorder: SessionRecorder
        /// For `tick()`, on `eventLoop`, where every session of this MX runs.
        let handler: NIOLoopBound<SMTPServerHandler>
    }

    init(configuration: MXConfiguration, lookup: any DNSLookup, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.engine = PolicyEngine(policy: configuration.policy, lookup: lookup, receiver: configuration.hostname)
        self.serverSettings = SMTPServerSettings(
            hostname: configuration.hostname, limits: configuration.limits, bareNewline: configuration.bareNewline,
            identity: SMTPIdentitySettings(
                requiresProxyHeader: configuration.requiresProxyHeader, proxyTimeout: configuration.proxyTimeout,
                xclientHosts: Set(configuration.xclientHosts.map(\.bytes))),
            tls: configuration.tls?.serverSettings)
        self.logger = logger
        self.decisions = DecisionLog(
            logger: logger, level: configuration.sessionLogLevel, withTranscripts: configuration.logsTranscripts)
        self.eventLoop = eventLoop
        let quarter = configuration.limits.commandTimeout / 4
        let nanoseconds = quarter.components.seconds * 1_000_000_000 + quarter.components.attoseconds / 1_000_000_000
        self.tickInterval = .nanoseconds(max(5_000_000, min(100_000_000, nanoseconds)))
    }

    /// On `eventLoop`: command timeouts that ran out, then the decisions to log.
    func tick() {
        let now = ContinuousClock.now
        for handler in state.withLock({ $0.open.values.map(\.handler) }) {
            handler.value.checkDeadline(now)
        }
        decisions.flush()
    }

    func makeRecorder(channel: any Channel) -> SessionRecorder {
        let remote = channel.remoteAddress, local = channel.localAddress
        let client = remote.flatMap(IPAddress.init(socketAddress:)),
            server = local.flatMap(IPAddress.init(socketAddress:))
        let keeps = configuration.keepsRecords, transcript = keeps || configuration.logsTranscripts
        return state.withLock { state in
            let recorder = SessionRecorder(
                record: SessionRecord(
                    id: state.nextID, client: client, clientPort: remote?.port,
                    server: server, serverPort: local?.port), keepsTranscript: transcript)
            state.nextID += 1
            if keeps { state.recorders.append(recorder) }
            return recorder
        }
    }

    /// On `eventLoop`.
    func sessionStarted(_ recorder: SessionRecorder, channel: any Channel, handler: SMTPServerHandler) {
        let session = OpenSession(
            channel: channel, recorder: recorder, handler: NIOLoopBound(handler, eventLoop: eventLoop))
        state.withLock { $0.open[recorder.id] = session }
    }

    /// Sessions started and not yet ended.
    var openSessionCount: Int { state.withLock { $0.open.count } }

    func sessionEnded(_ recorder: SessionRecorder) {
        let wasOpen = state.withLock { $0.open.removeValue(forKey: recorder.id) != nil }
        guard wasOpen, decisions.isEnabled else { return }
        decisions.add(recorder)
    }

    func accepted(_ message: SMTPMessage, recorder: SessionRecorder) {
        recorder.update { $0.messagesAccepted += 1 }
        guard configuration.keepsRecords else {
            state.withLock { $0.messageCount += 1 }
            return
        }
        let received = ReceivedMessage(
            session: recorder.id, client: recorder.update { $0.client }, helo: message.helo,
            mailFrom: message.reversePath,
            recipients: message.recipients, data: message.data, queueID: message.queueID, received: Date())
        state.withLock { state in
            state.messages.append(received)
            state.messageCount += 1
        }
    }

    func openChannels() -> [any Channel] {
        state.withLock { $0.open.values.map(\.channel) }
    }

    /// Every session's recorder when records are kept, else the open sessions', in the order they started.
    private var recorders: [SessionRecorder] {
        let keeps = configuration.keepsRecords
        return state.withLock { state in
            keeps ? state.recorders : state.open.values.map(\.recorder).sorted { $0.id < $1.id }
        }
    }

    func markUnfinished(reason: String) {
        for recorder in recorders {
            recorder.update { record in
                guard record.ended == nil else { return }
                record.ended = Date()
                record.closeReason = reason
            }
        }
    }

    var sessions: [SessionRecord] { recorders.map(\.snapshot) }
    var messages: [ReceivedMessage] { state.withLock { $0.messages } }
    var sessionCount: Int { state.withLock { $0.nextID - 1 } }
    var messageCount: Int { state.withLock { $0.messageCount } }
}

/// One session's record, written by its handler and read by anyone.
final class SessionRecorder: Sendable {
    let id: Int
    let client: IPAddress?
    /// The address the client connected to.
    let server: IPAddress?
    /// Transcript lines are written (`MXConfiguration.keepsRecords`); without, `note` costs nothing.
    let keepsTranscript: Bool
    private let record: Mutex<SessionRecord>

    init(record: SessionRecord, keepsTranscript: Bool = true) {
        self.id = record.id
        self.client = record.client
        self.server = record.server
        self.keepsTranscript = keepsTranscript
        self.record = Mutex(record)
    }

    /// A transcript line, made only when the transcript is kept.
    func note(_ direction: TranscriptLine.Direction, _ text: @autoclosure () -> String) {
        guard keepsTranscript else { return }
        let line = text()
        record.withLock { $0.note(direction, line) }
    }

    var snapshot: SessionRecord { record.withLock { $0 } }

    @discardableResult
    func update<T>(_ body: (inout SessionRecord) -> T) -> T {
        record.withLock { body(&$0) }
    }
}

extension IPAddress {
    /// The address of an IPv4 or IPv6 socket address, from its bytes (no text in between).
    init?(socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let address):
            let raw = address.address.sin_addr.s_addr
            self.init(bytes: withUnsafeBytes(of: raw) { Array($0) })
        case .v6(let address):
            self.init(bytes: withUnsafeBytes(of: address.address.sin6_addr) { Array($0) })
        case .unixDomainSocket:
            return nil
        }
    }
}
