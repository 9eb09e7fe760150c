import CertificateAuthority
import Delivery
import Runner
import Sandbox
import SMTPProtocol
import Scenario

/// The built-in sender (`sender.mta: builtin`): the `postfix` delivery model of the scenario
/// format, an NIO SMTP client connecting from the sender's real source addresses.
public struct ModelSenders: SenderKind {
    public var mta: SenderMTA { .builtin }
    public var displayName: String { "the delivery model" }

    public init() {}

    /// `sender.postfix`, the settings of Postfix's SMTP client it models.
    public var scenarioKeys: [ScenarioKey] { [ModelledPostfixSettings.scenarioKey] }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? { nil }

    /// The model connects from `sender.proxy_address` and writes the header or XCLIENT itself.
    public var writesProxyHeaders: Bool { true }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        ModelSender(
            request: Self.request(for: scenario.sender, settings: settings),
            level: scenario.sender.tls, authority: settings.authority, handshakeTimeout: settings.replyTimeout)
    }

    /// The delivery the model makes: `sender.postfix` settings it honours override `sender.prefer`
    /// and the defaults.
    public static func request(for sender: SenderSpec, settings: RunConfiguration) -> DeliveryRequest {
        let postfix = ModelledPostfixSettings(sender)
        return DeliveryRequest(
            sender, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout,
            limits: postfix.limits, prefer: postfix.preference)
    }
}

struct ModelSender: Sender {
    let request: DeliveryRequest
    let level: TLSSecurityLevel
    let authority: RunAuthority
    /// Postfix's smtp_starttls_timeout is 300s; a case waits as long as for a reply.
    let handshakeTimeout: Duration
    /// Its connections end with the delivery.
    var runsInWarmWorlds: Bool { true }

    func start(in context: CaseContext) async throws -> any RunningSender {
        var request = request
        if level != .none {
            // The world's authority is trusted as a real sender trusts the public ones.
            request.tls = SenderTLS(
                level: level, trustAnchors: [try authority.authority().root], handshakeTimeout: handshakeTimeout)
        }
        return RunningModelSender(
            agent: DeliveryAgent(
                lookup: context.senderResolver, eventLoopGroup: context.eventLoopGroup, logger: context.logger),
            request: request, namespace: context.namespace)
    }
}

/// The delivery model's agent for one case; its connections end with the delivery.
struct RunningModelSender: RunningSender {
    let agent: DeliveryAgent
    let request: DeliveryRequest
    let namespace: NetworkNamespace

    func deliver() async throws -> DeliveryReport {
        await agent.deliver(request, in: namespace)
    }
}

/// `sender.postfix`: Postfix SMTP-client settings (main.cf names), kept as written (`SettingsMap`).
/// The delivery model owns the key, since it models Postfix's SMTP client: it honours the settings
/// it models (`keys`), checks their values whoever sends, and, when it is the sender, refuses any
/// other key; a real Postfix sender gets every setting as written, and other senders read them by
/// the key's name.
public struct ModelledPostfixSettings: Sendable, Hashable {
    public static let keys = [
        "smtp_address_preference", "smtp_mx_address_limit", "smtp_mx_session_limit", "smtp_skip_5xx_greeting",
    ]

    /// `smtp_mx_session_limit`, nil when not set.
    public var sessionLimit: Int?
    /// `smtp_mx_address_limit`, nil when not set.
    public var addressLimit: Int?
    /// `smtp_skip_5xx_greeting`, nil when not set.
    public var skip5xxGreeting: Bool?
    /// `smtp_address_preference` (`ipv6`, `ipv4` or `any`), nil when not set.
    public var addressPreference: String?

    public init(_ settings: [String: String]) {
        sessionLimit = settings["smtp_mx_session_limit"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        addressLimit = settings["smtp_mx_address_limit"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        skip5xxGreeting = settings["smtp_skip_5xx_greeting"].flatMap { Self.boolean($0) }
        addressPreference = settings["smtp_address_preference"].map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
    }

    /// The scenario's `sender.postfix`, empty when it sets none.
    public init(_ sender: SenderSpec) {
        self.init(sender.settings(Self.key, as: SettingsMap.self)?.values ?? [:])
    }

    /// The client limits these settings give, the model's defaults for the rest.
    public var limits: ClientLimits {
        let defaults = ClientLimits()
        return ClientLimits(
            sessionLimit: sessionLimit ?? defaults.sessionLimit, addressLimit: addressLimit ?? defaults.addressLimit,
            skip5xxGreeting: skip5xxGreeting ?? defaults.skip5xxGreeting)
    }

    /// `smtp_address_preference`, which overrides `sender.prefer`; nil when not set.
    public var preference: AddressPreference? { addressPreference.flatMap(AddressPreference.init(rawValue:)) }

    /// The key's name under `sender`.
    public static let key = "postfix"

    /// The key `sender.postfix`: a map of settings, the modelled ones' values checked.
    public static let scenarioKey = ScenarioKey(.sender, key) { value in
        guard let settings = value.settingsMap(what: "Postfix SMTP-client settings") else { return nil }
        return check(value, settings) ? SettingsMap(settings) : nil
    }

    /// Checks the settings against what the model honours: the values of the keys it models
    /// always, and, when the sender is the model (`sender.mta` builtin or not given), that every
    /// key is one of them.
    static func check(_ value: ScenarioValue, _ settings: [String: String]) -> Bool {
        var ok = true
        for entry in value.entries {
            guard let text = settings[entry.name] else { continue }
            if let problem = problem(key: entry.name, value: text) {
                entry.value.invalid(problem)
                ok = false
            } else if !keys.contains(entry.name),
                (value.kind ?? SenderMTA.builtin.rawValue) == SenderMTA.builtin.rawValue
            {
                var message =
                    "the built-in sender does not model \"\(entry.name)\" (it models \(keys.joined(separator: ", "))); "
                    + "set sender.mta: postfix to give it to a real Postfix"
                if let guess = ScenarioValue.closest(to: entry.name, in: keys) {
                    message += "; did you mean \"\(guess)\"?"
                }
                entry.unknown(message)
                ok = false
            }
        }
        return ok
    }

    /// What is wrong with a modelled key's value, nil when it is fine (or the key is not modelled).
    static func problem(key: String, value: String) -> String? {
        let text = value.trimmingCharacters(in: .whitespaces)
        switch key {
        case "smtp_mx_session_limit", "smtp_mx_address_limit":
            guard let number = Int(text), number >= 0 else {
                return "\(key) is a whole number, 0 or more (0: no limit), not \"\(ScenarioValue.quoted(value))\""
            }
            return nil
        case "smtp_skip_5xx_greeting":
            return boolean(text) == nil ? "\(key) is yes or no, not \"\(ScenarioValue.quoted(value))\"" : nil
        case "smtp_address_preference":
            return ["ipv6", "ipv4", "any"].contains(text.lowercased())
                ? nil : "\(key) is ipv6, ipv4 or any, not \"\(ScenarioValue.quoted(value))\""
        default:
            return nil
        }
    }

    /// Postfix's booleans: yes/no (also true/false).
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "yes", "true": true
        case "no", "false": false
        default: nil
        }
    }
}
