import DNSCore
import Logging
import Policy
import SMTPProtocol

/// What the built-in MX is: its name, its policy, its limits.
public struct MXConfiguration: Sendable {
    /// The name in the greeting, the EHLO reply and the SPF `%{r}` macro.
    public var hostname: String
    public var policy: ReceiverPolicy
    public var limits: SMTPServerLimits
    /// The level at which each finished session's decision is logged (`mx serve` uses `.info`).
    public var sessionLogLevel: Logger.Level
    /// Keep every session's record and every accepted message for `sessions` and `messages`
    /// (the default; a case reads them). `mx serve` runs for as long as it is left running, logs
    /// each decision as the session ends, and keeps only counts: its memory stays flat. Without
    /// kept records a session's transcript is not written either, and of its replies only the
    /// 4xx/5xx ones (its summary needs no more).
    public var keepsRecords: Bool
    /// Log each session's transcript (every command and reply, timed) with its decision, at
    /// `sessionLogLevel`; `mx serve --verbose`. Transcripts are then written even without kept
    /// records, and dropped once logged.
    public var logsTranscripts: Bool
    /// What a line ending in a bare <LF> does, as Postfix's `smtpd_forbid_bare_newline`.
    public var bareNewline: SMTPBareNewlineMode
    /// A PROXY header (v1 or v2) must start every connection (Postfix
    /// `smtpd_upstream_proxy_protocol = haproxy`); the client is then the address it names.
    public var requiresProxyHeader = false
    /// How long the MX waits for that header (Postfix `smtpd_upstream_proxy_timeout`).
    public var proxyTimeout: Duration = .seconds(5)
    /// The clients allowed to send XCLIENT (Postfix `smtpd_authorized_xclient_hosts`).
    public var xclientHosts: [IPAddress] = []
    /// STARTTLS offered (Postfix `smtpd_tls_security_level = may`, or `encrypt` when required);
    /// nil: not offered.
    public var tls: MXTLSConfiguration?
    /// Asked about each message the policy lets through at the end of DATA (a content engine beside
    /// the MX, `receiver.engines`); its verdict is the reply. nil: none.
    public var messageScanner: (any MXMessageScanner)?

    public init(
        hostname: String, policy: ReceiverPolicy, limits: SMTPServerLimits = .init(),
        bareNewline: SMTPBareNewlineMode = .normalize
    ) {
        self.hostname = hostname
        self.policy = policy
        self.limits = limits
        self.bareNewline = bareNewline
        self.sessionLogLevel = .debug
        self.keepsRecords = true
        self.logsTranscripts = false
    }
}

/// An address and port the MX listens on.
public struct ListeningEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `192.0.2.10:25`, `[2001:db8::10]:25` (or a bare address with `defaultPort`).
    public init?(_ text: String, defaultPort: UInt16 = 25) {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = UInt16(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let value = UInt16(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard let address = IPAddress(host) else { return nil }
        self.init(address: address, port: port)
    }

    public var description: String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// A content engine the MX asks after its policy at the end of DATA, as an MTA asks a milter or a
/// scanner there: its verdict replaces the MX's own acceptance.
public protocol MXMessageScanner: Sendable {
    func scan(_ message: SMTPMessage, session: MXScanSession) async -> MXScanVerdict
}

/// What the MX knows of the session a message came in, for a scanner.
public struct MXScanSession: Sendable, Hashable {
    /// The client (the one a PROXY header or XCLIENT named, when one did).
    public var client: IPAddress
    /// The session's TLS, when STARTTLS was completed.
    public var tls: TLSSessionFacts?
    /// The client's name as the MX already holds it: forward-confirmed by its policy's lookups, or
    /// as XCLIENT vouched for it (Postfix takes XCLIENT's NAME without a lookup); nil when the MX
    /// has not looked it up.
    public var fcrdns: FCrDNSFinding?

    public init(client: IPAddress, tls: TLSSessionFacts? = nil, fcrdns: FCrDNSFinding? = nil) {
        self.client = client
        self.tls = tls
        self.fcrdns = fcrdns
    }
}

/// A scanner's answer: the verdict for the message and a line for the session's transcript.
public struct MXScanVerdict: Sendable, Hashable {
    public var verdict: SMTPPolicyVerdict
    public var note: String

    public init(verdict: SMTPPolicyVerdict, note: String) {
        self.verdict = verdict
        self.note = note
    }
}
