import DNSCore
import Policy
import SMTPProtocol

/// Where something is written: a scenario file, a line and a column (both 1-based; columns count
/// Unicode scalars, as libyaml does).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the form editors and compilers use.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One test case: a scenario document, or one of its variants merged onto it.
public struct ScenarioCase: Sendable {
    /// `scenario`, or `scenario/variant` for a variant.
    public var name: String
    public var description: String?
    public var tags: [String]
    /// Where the scenario document starts, or the variant's entry in `variants`.
    public var location: SourceLocation
    public var dns: WorldSpec
    public var receiver: ReceiverSpec
    public var sender: SenderSpec
    public var expect: Expectation

    public init(
        name: String, description: String? = nil, tags: [String] = [], location: SourceLocation,
        dns: WorldSpec, receiver: ReceiverSpec, sender: SenderSpec, expect: Expectation
    ) {
        self.name = name
        self.description = description
        self.tags = tags
        self.location = location
        self.dns = dns
        self.receiver = receiver
        self.sender = sender
        self.expect = expect
    }
}

/// Which MTA plays the receiver (`receiver.target`). A name, not a closed list: the runner finds
/// the receiver for a target in its `PartCatalog`, and the loader takes the names of the kinds it
/// is given (`ScenarioKinds`), so a new receiver is a new part, not a new case here.
public struct ReceiverTarget: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public static let builtin = ReceiverTarget(named: "builtin")
    public static let postfix = ReceiverTarget(named: "postfix")

    /// Any name but the empty one (which kinds there are is the catalog's to say).
    public init?(rawValue: String) {
        guard !rawValue.isEmpty else { return nil }
        self.rawValue = rawValue
    }

    /// A kind's name.
    public init(named name: String) { rawValue = name }

    public var description: String { rawValue }
}

/// Which MTA sends (`sender.mta`): the built-in delivery model or a real MTA. Like
/// `ReceiverTarget`, a name the runner looks up in its `PartCatalog`.
public struct SenderMTA: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public static let builtin = SenderMTA(named: "builtin")
    public static let postfix = SenderMTA(named: "postfix")

    /// Any name but the empty one (which kinds there are is the catalog's to say).
    public init?(rawValue: String) {
        guard !rawValue.isEmpty else { return nil }
        self.rawValue = rawValue
    }

    public init(named name: String) { rawValue = name }

    public var description: String { rawValue }
}

/// The MX under test (`receiver`).
public struct ReceiverSpec: Sendable {
    public static let defaultHostname = "mx.example.test"

    /// The name in the greeting.
    public var hostname: String
    /// Where the MX listens, on port 25.
    public var addresses: [IPAddress]
    /// nil means "builtin unless the runner's `--target` says otherwise".
    public var target: ReceiverTarget?
    public var policy: ReceiverPolicy
    /// `receiver.bare_newline`: what a line ending in a bare <LF> does (Postfix
    /// `smtpd_forbid_bare_newline`); nil: `normalize`, on both targets.
    public var bareNewline: SMTPBareNewlineMode?
    /// The receiver kinds' own keys (`receiver.NAME`) the scenario sets, by name.
    public var settings: [String: any PartSettings] = [:]
    /// `receiver.proxy_protocol`: a PROXY header is required before the greeting; nil: none is.
    public var proxyProtocol: ReceiverProxyProtocol?
    /// `receiver.xclient_hosts`: the clients allowed to send XCLIENT (Postfix
    /// `smtpd_authorized_xclient_hosts`); empty: nobody.
    public var xclientHosts: [IPAddress]
    /// `receiver.resolver`: whether the receiver's lookups go through a validating resolver.
    public var resolver: ResolverValidation = .nonValidating
    /// `receiver.tls`: STARTTLS and the certificate; `.off` when not given.
    public var tls: ReceiverTLSSpec = .off
    /// `receiver.engines`: real policy engines beside the receiver, in the order written; empty
    /// when not given.
    public var engines: [ReceiverEngine] = []
    /// `receiver.rspamd`: rspamd's action thresholds (only with `rspamd` in `engines`).
    public var rspamd = RspamdThresholds()

    public init(
        hostname: String = ReceiverSpec.defaultHostname, addresses: [IPAddress], target: ReceiverTarget? = nil,
        policy: ReceiverPolicy = Preset.open.policy,
        bareNewline: SMTPBareNewlineMode? = nil,
        proxyProtocol: ReceiverProxyProtocol? = nil, xclientHosts: [IPAddress] = []
    ) {
        self.proxyProtocol = proxyProtocol
        self.xclientHosts = xclientHosts
        self.hostname = hostname
        self.addresses = addresses
        self.target = target
        self.policy = policy
        self.bareNewline = bareNewline
    }
}

/// Where the sender delivers (`sender.relay`).
public enum RelaySpec: Sendable, Hashable, CustomStringConvertible {
    /// The MX records of the first recipient's domain (RFC 5321 5.1).
    case mx
    /// One named host, by its A/AAAA records.
    case host(String)

    public var description: String {
        switch self {
        case .mx: "mx"
        case .host(let name): "host \(name)"
        }
    }
}

/// One header of `sender.message.headers`, in the order written.
public struct MessageHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// `sender.message`: the DATA content.
public struct MessageSpec: Sendable, Hashable {
    /// nil when `headers` is not given: the default headers built from the envelope are used.
    public var headers: [MessageHeader]?
    /// nil when `body` is not given: a one-line default body is used.
    public var body: String?
    /// `raw`: everything sent after the 354 reply, byte for byte (UTF-8), its own end of data
    /// included; neither `headers` nor `body` is then given.
    public var raw: String?

    public init(headers: [MessageHeader]? = nil, body: String? = nil, raw: String? = nil) {
        self.headers = headers
        self.body = body
        self.raw = raw
    }
}

/// The sending MTA (`sender`).
public struct SenderSpec: Sendable {
    /// The source address per family; an absent family is unreachable for this sender.
    public var addresses: [AddressFamily: IPAddress]
    /// Which family is tried first among addresses of equal MX preference.
    public var prefer: AddressFamily
    /// The EHLO argument, sent as written.
    public var helo: String
    /// The envelope sender; `""` is the null sender `<>`.
    public var mailFrom: String
    public var rcptTo: [String]
    public var relay: RelaySpec
    public var message: MessageSpec?
    /// nil means "builtin unless the runner's `--sender` says otherwise".
    public var mta: SenderMTA?
    /// `sender.dkim`: the message is signed before DATA.
    public var dkim: DKIMSpec?
    /// The sender kinds' own keys (`sender.NAME`) the scenario sets, by name.
    public var settings: [String: any PartSettings] = [:]
    /// `sender.identity`: how the receiver learns the sender's address.
    public var identity: IdentityPath
    /// `sender.proxy_address`: where the proxy connects from, per family (one for each family of
    /// `addresses` when `identity` is not `socket`).
    public var proxyAddresses: [AddressFamily: IPAddress]
    /// `sender.xclient_name`: the `NAME=` of XCLIENT (a host name, `[UNAVAILABLE]` or
    /// `[TEMPUNAVAIL]`); nil: XCLIENT sends ADDR only.
    public var xclientName: String?
    /// `sender.resolver`: whether the sender's lookups (MX, A/AAAA, TLSA) go through a validating
    /// resolver.
    public var resolver: ResolverValidation = .nonValidating
    /// `sender.tls`: Postfix's `smtp_tls_security_level`; `none` when not given.
    public var tls: TLSSecurityLevel = .none
    /// `sender.proxy`: a real proxy at `proxy_address`, or `model` (the built-in sender writes the
    /// header itself).
    public var proxy: SenderProxy = .model

    public init(
        addresses: [AddressFamily: IPAddress], prefer: AddressFamily = .ipv6, helo: String, mailFrom: String,
        rcptTo: [String], relay: RelaySpec = .mx, message: MessageSpec? = nil, mta: SenderMTA? = nil,
        dkim: DKIMSpec? = nil,
        identity: IdentityPath = .socket, proxyAddresses: [AddressFamily: IPAddress] = [:], xclientName: String? = nil
    ) {
        self.identity = identity
        self.proxyAddresses = proxyAddresses
        self.xclientName = xclientName
        self.mta = mta
        self.dkim = dkim
        self.addresses = addresses
        self.prefer = prefer
        self.helo = helo
        self.mailFrom = mailFrom
        self.rcptTo = rcptTo
        self.relay = relay
        self.message = message
    }
}

/// One entry of `expect.attempts`.
public struct ExpectedAttempt: Sendable, Hashable {
    public var family: AddressFamily
    public var result: AttemptResult
    public var code: CodePattern?
    public var enhanced: EnhancedPattern?
    public var stage: SMTPStage?

    public init(
        family: AddressFamily, result: AttemptResult, code: CodePattern? = nil, enhanced: EnhancedPattern? = nil,
        stage: SMTPStage? = nil
    ) {
        self.family = family
        self.result = result
        self.code = code
        self.enhanced = enhanced
        self.stage = stage
    }
}

/// What must happen (`expect`). Only the keys given (non-nil here) are checked.
public struct Expectation: Sendable, Hashable {
    public var outcome: DeliveryOutcome?
    public var family: AddressFamily?
    public var stage: SMTPStage?
    public var code: CodePattern?
    public var enhanced: EnhancedPattern?
    public var text: TextMatcher?
    public var attempts: [ExpectedAttempt]?
    /// `messages_accepted`: how many messages the receiver accepted in the case (every session,
    /// every message of a session: an SMTP-smuggled second message counts).
    public var messagesAccepted: Int?
    /// `tls`: the deciding session ran over TLS (false: in plaintext).
    public var tls: Bool?

    public init(
        outcome: DeliveryOutcome? = nil, family: AddressFamily? = nil, stage: SMTPStage? = nil,
        code: CodePattern? = nil, enhanced: EnhancedPattern? = nil, text: TextMatcher? = nil,
        attempts: [ExpectedAttempt]? = nil, messagesAccepted: Int? = nil
    ) {
        self.messagesAccepted = messagesAccepted
        self.outcome = outcome
        self.family = family
        self.stage = stage
        self.code = code
        self.enhanced = enhanced
        self.text = text
        self.attempts = attempts
    }
}
