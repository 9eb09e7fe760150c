import DNSCore
import Delivery
import Logging
import NIOCore
import NIOPosix
import Sandbox
import SMTPProtocol
import STARTTLS

/// Runs one SMTP session to one address. The NIO transport in production; scripted in tests.
package protocol DeliveryTransport: Sendable {
    func attempt(
        to destination: Destination, from source: IPAddress, recipients: [String],
        request: DeliveryRequest, in namespace: NetworkNamespace?, since start: ContinuousClock.Instant
    ) async -> DeliveryAttempt
}

/// The sending MTA: resolves the destination, walks its addresses with Postfix's rules, and
/// reports what happened to each recipient with a transcript of every attempt.
public struct DeliveryAgent: Sendable {
    private let lookup: any DNSLookup
    private let transport: any DeliveryTransport
    private let logger: Logger

    public init(lookup: any DNSLookup, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.init(
            lookup: lookup, transport: NIODeliveryTransport(group: eventLoopGroup, logger: logger), logger: logger)
    }

    package init(lookup: any DNSLookup, transport: any DeliveryTransport, logger: Logger) {
        self.lookup = lookup
        self.transport = transport
        self.logger = logger
    }

    /// Delivers `request`, connecting from inside `namespace` (the current one when nil).
    public func deliver(_ request: DeliveryRequest, in namespace: NetworkNamespace?) async -> DeliveryReport {
        let start = ContinuousClock.now
        var plan = await DestinationResolver(lookup: lookup).resolve(request)
        logger.debug(
            "destinations resolved",
            metadata: [
                "source": "\(plan.source?.rawValue ?? "none")",
                "candidates": "\(plan.candidates.map { "[\($0.address)]" }.joined(separator: " "))",
                "failure": "\(plan.failure?.note ?? "none")",
            ])
        // DANE: each address's TLS policy before any connection (smtp_connect.c looks it up per
        // address and skips one whose TLSA lookup failed, without connecting).
        var policies: [Destination: DANEPolicy] = [:]
        if let tls = request.tls, tls.level == .dane, plan.failure == nil {
            var mxSecure: Bool?
            if plan.source == .mx { mxSecure = await lookup.securedQuery(request.nexthop, .mx).security == .secure }
            for destination in plan.candidates {
                policies[destination] = await DANEResolver(lookup: lookup).policy(
                    for: destination, port: request.port, mxSecure: mxSecure)
            }
        }
        var candidates: [Destination] = []
        for destination in plan.candidates {
            guard case .lookupError(let reason, let warning) = policies[destination] else {
                candidates.append(destination)
                continue
            }
            plan.notes.append("warning: \(warning)")
            if candidates.isEmpty, !plan.candidates.contains(where: { policies[$0].map(Self.isUsable) ?? true }) {
                // dsb_simple(why, "4.7.5", ...): the delivery defers with it when no address is left.
                plan.failure = .init(
                    outcome: .deferred, reply: SMTPReply(code: 451, enhanced: "4.7.5", reason), note: reason)
            }
        }
        var machine = DeliveryStateMachine(
            recipients: request.recipients, destinations: candidates, sources: request.sources,
            sessionLimit: request.limits.sessionLimit)
        var action = plan.failure == nil ? machine.start() : .finished
        while case .attempt(let destination, let source, let recipients) = action {
            var attemptRequest = request
            if let tls = request.tls, let policy = policies[destination] {
                attemptRequest.tls = tls.applying(policy, destination: destination, nexthop: request.nexthop)
            }
            let attempt = await transport.attempt(
                to: destination, from: source, recipients: recipients, request: attemptRequest, in: namespace,
                since: start)
            logger.debug(
                "attempt finished",
                metadata: [
                    "remote": "[\(destination.address)]:\(request.port)", "result": "\(attempt.result)",
                    "stage": "\(attempt.stage)", "reply": "\(attempt.reply?.description ?? "-")",
                ])
            action = machine.attemptFinished(attempt)
        }
        return machine.report(plan: plan)
    }

    static func isUsable(_ policy: DANEPolicy) -> Bool {
        if case .lookupError = policy { return false }
        return true
    }

    static func offset(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// One attempt over TCP: a socket bound to the source address inside the namespace, handed to NIO.
struct NIODeliveryTransport: DeliveryTransport {
    let group: any EventLoopGroup
    let logger: Logger

    func attempt(
        to destination: Destination, from source: IPAddress, recipients: [String],
        request: DeliveryRequest, in namespace: NetworkNamespace?, since start: ContinuousClock.Instant
    ) async -> DeliveryAttempt {
        func offset() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let fd: CInt
        // Through a proxy the connection comes from the proxy's address of the attempt's family.
        let connectFrom = request.proxy?.addresses[source.family] ?? source
        do {
            fd = try await Sockets.connect(
                from: connectFrom, to: destination.address, port: request.port, timeout: request.connectTimeout,
                in: namespace)
        } catch {
            return DeliveryAttempt(
                unreachable: destination, source: source, port: request.port, recipients: recipients,
                error: "connect to \(destination.host)[\(destination.address)]:\(request.port): \(error)", at: offset())
        }
        let connectedAt = offset()

        var configuration = SMTPClientConfiguration(
            helo: request.helo, mailFrom: request.mailFrom, recipients: recipients, message: request.message,
            skip5xxGreeting: request.limits.skip5xxGreeting, rawData: request.rawData)
        request.proxy?.configure(
            &configuration, client: source, server: destination.address, port: request.port, fd: fd)
        configuration.peerName = "\(destination.host)[\(destination.address)]"
        configuration.peerPort = request.port
        var starttls: ClientSTARTTLS?
        if let tls = request.tls, tls.level != .none {
            configuration.tlsLevel = tls.sessionLevel
            do {
                starttls = ClientSTARTTLS(
                    context: try TLSContexts.client(lowest: tls.lowestVersion),
                    authentication: tls.authentication(for: destination, nexthop: request.nexthop),
                    handshakeTimeout: tls.handshakeTimeout)
            } catch {
                logger.error("cannot make a TLS client context: \(error)")
            }
        }
        let eventLoop = group.next()
        let done = eventLoop.makePromise(of: SMTPClientStateMachine.self)
        let replyTimeout = request.replyTimeout
        let session = configuration, sessionTLS = starttls
        let machine: SMTPClientStateMachine
        do {
            let channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPClientHandler(
                            machine: SMTPClientStateMachine(configuration: session),
                            replyTimeout: replyTimeout, start: start, done: done, starttls: sessionTLS)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .withConnectedSocket(fd)
                .get()
            machine = try await done.futureResult.get()
            try? await channel.closeFuture.get()
        } catch {
            done.fail(error)
            var attempt = DeliveryAttempt(
                unreachable: destination, source: source, port: request.port, recipients: recipients,
                error: "cannot run the session over the connected socket: \(error)", at: offset())
            attempt.result = .tempfailed
            attempt.stage = .greeting
            return attempt
        }

        return DeliveryAttempt(
            session: machine, destination: destination, source: source, port: request.port, connectedAt: connectedAt)
    }
}

extension DeliveryAttempt {
    /// The record of a session that got connected, from the finished client state machine.
    package init(
        session machine: SMTPClientStateMachine, destination: Destination, source: IPAddress?, port: UInt16,
        connectedAt: Double
    ) {
        self.init(
            family: destination.family, localAddress: source, remoteAddress: destination.address,
            remoteHost: destination.host, port: port, preference: destination.preference,
            stage: .greeting, reply: nil, result: .tempfailed, recipients: [])
        transcript =
            [
                TranscriptLine(
                    offset: connectedAt, direction: .note,
                    text: "Connected to \(destination.host)[\(destination.address)]:\(port)")
            ]
            + machine.transcript
        guard let result = machine.result else {
            error = "session ended without an outcome"
            recipients = machine.configuration.recipients.map {
                SMTPClientRecipientStatus(
                    address: $0, rcptReply: nil, outcome: .tempfailed, stage: .greeting, reply: nil)
            }
            return
        }
        stage = result.stage
        reply = result.reply
        error = result.error
        recipients = result.recipients
        extensions = result.extensions
        usedHELO = result.usedHELO
        tls = result.tls
        self.result = result.outcome
    }

    /// The record of a connection that could not be made.
    package init(
        unreachable destination: Destination, source: IPAddress?, port: UInt16, recipients: [String],
        error message: String, at offset: Double
    ) {
        self.init(
            family: destination.family, localAddress: source, remoteAddress: destination.address,
            remoteHost: destination.host, port: port, preference: destination.preference,
            stage: .connect, reply: nil, result: .unreachable, error: message,
            transcript: [TranscriptLine(offset: offset, direction: .note, text: message)],
            recipients: recipients.map {
                SMTPClientRecipientStatus(
                    address: $0, rcptReply: nil, outcome: .tempfailed, stage: .connect, reply: nil)
            })
    }
}
