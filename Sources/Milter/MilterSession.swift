/// What a filter knows of the SMTP session when it is asked for an answer.
public struct MilterContext: Sendable, Hashable {
    /// Every macro the MTA sent so far for this connection (`{client_resolve}`, `{client_ptr}`, `i`, ...).
    public var macros: [String: String] = [:]
    /// The connect packet's host name (`[ADDR]` when the MTA has none for the client).
    public var hostname = ""
    /// The client address as the MTA wrote it (an IPv6 one without `IPv6:`).
    public var address = ""
    public var helo = ""
    public var mailFrom: [String] = []
    /// The current recipient (at `rcpt`) or every accepted one (at `endOfMessage`).
    public var recipients: [[String]] = []
    /// The message's header fields in order, including those earlier milters added (Postfix passes
    /// each milter the message as the ones before it left it).
    public var headers: [(name: String, value: String)] = []

    public init() {}

    public static func == (lhs: MilterContext, rhs: MilterContext) -> Bool {
        lhs.macros == rhs.macros && lhs.hostname == rhs.hostname && lhs.address == rhs.address && lhs.helo == rhs.helo
            && lhs.mailFrom == rhs.mailFrom && lhs.recipients == rhs.recipients
            && lhs.headers.map { [$0.name, $0.value] } == rhs.headers.map { [$0.name, $0.value] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(helo)
    }

    /// The values of the header fields named `name` (case-insensitive), in order.
    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// The points where a filter may answer.
public enum MilterStage: Sendable, Hashable {
    case rcpt
    case endOfMessage
}

/// A filter's decisions: an SMTP reply (`550 5.7.1 text`, lines joined with CRLF) to refuse at
/// that point, nil to let the MTA go on.
public protocol MilterFilter: Sendable {
    func reply(at stage: MilterStage, context: MilterContext) -> String?
}

/// One milter connection as a state machine: commands in, responses out. No I/O.
public struct MilterSession: Sendable {
    /// SMFIP_NOBODY | SMFIP_NOUNKNOWN (mfdef.h): the filter needs neither the body nor unknown commands.
    public static let wantedSteps: UInt32 = 0x10 | 0x100
    public static let version: UInt32 = 6

    public let filter: any MilterFilter
    public private(set) var context = MilterContext()
    public private(set) var negotiated = false
    /// The connection is over (`Q`).
    public private(set) var finished = false

    public init(filter: any MilterFilter) {
        self.filter = filter
    }

    /// The responses to one command (none for macros, abort and quit).
    public mutating func receive(_ command: MilterCommand) throws(MilterProtocolError) -> [MilterResponse] {
        if case .optionNegotiation(let version, _, let offered) = command {
            guard version >= 2 else {
                throw MilterProtocolError(
                    description: "the MTA offers milter protocol version \(version); version 2 or later is needed")
            }
            negotiated = true
            return [
                .optionNegotiation(
                    version: min(version, Self.version), actions: 0, protocolSteps: Self.wantedSteps & offered)
            ]
        }
        guard negotiated else { throw MilterProtocolError(description: "a command before option negotiation") }
        switch command {
        case .optionNegotiation:
            return []
        case .macros(_, let values):
            context.macros.merge(values) { _, new in new }
            return []
        case .connect(let hostname, _, _, let address):
            context.hostname = hostname
            context.address = address
            return [.continue]
        case .helo(let name):
            context.helo = name
            return [.continue]
        case .mail(let arguments):
            resetMessage()
            context.mailFrom = arguments
            return [.continue]
        case .rcpt(let arguments):
            var asked = context
            asked.recipients = [arguments]
            if let reply = filter.reply(at: .rcpt, context: asked) { return [.replyCode(reply)] }
            context.recipients.append(arguments)
            return [.continue]
        case .header(let name, let value):
            context.headers.append((name, value))
            return [.continue]
        case .endOfMessage:
            let reply = filter.reply(at: .endOfMessage, context: context)
            resetMessage()
            return [reply.map(MilterResponse.replyCode) ?? .continue]
        case .abort:
            resetMessage()
            return []
        case .quit:
            finished = true
            return []
        case .quitNewConnection:
            context = MilterContext()
            return []
        case .data, .endOfHeaders, .body, .unknown, .other:
            return [.continue]
        }
    }

    private mutating func resetMessage() {
        context.mailFrom = []
        context.recipients = []
        context.headers = []
    }
}
