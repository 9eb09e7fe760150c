import DNSCore
import Policy
import Scenario

/// Where one Exim instance keeps its state (absolute paths).
public struct EximPaths: Sendable, Hashable {
    public var configuration: String
    public var spoolDirectory: String
    public var logDirectory: String
    /// The resolv.conf bind-mounted over /etc/resolv.conf for the daemon (the world's unbound).
    public var resolvConf: String
    /// The daemon's standard output and error.
    public var output: String
    /// The certificates and keys of `receiver.tls`.
    public var tlsDirectory: String

    public init(under directory: String) {
        tlsDirectory = directory + "/tls"
        configuration = directory + "/exim.conf"
        spoolDirectory = directory + "/spool"
        logDirectory = directory + "/log"
        resolvConf = directory + "/resolv.conf"
        output = directory + "/exim.out"
    }

    public var mainLog: String { logDirectory + "/mainlog" }
    public var rejectLog: String { logDirectory + "/rejectlog" }
    public var panicLog: String { logDirectory + "/paniclog" }
}

/// The Exim configuration of one case: the receiver's name and addresses, the domains it accepts
/// mail for, its policy as ACLs, the scenario's `receiver.exim`; or the user's own configuration
/// (`--exim-config`), whose ACLs are then the policy. Pure: rendering touches no file.
public struct EximConfiguration: Sendable, Hashable {
    public var hostname: String
    public var addresses: [IPAddress]
    public var domains: [String]
    public var policy: ReceiverPolicy
    public var site: EximSiteSettings
    /// The text of the user's own configuration file (`--exim-config`).
    public var baseText: String?
    /// STARTTLS with the world's certificates (`receiver.tls`); nil: no STARTTLS.
    public var tls: EximTLS?

    public init(
        hostname: String, addresses: [IPAddress], domains: [String], policy: ReceiverPolicy,
        site: EximSiteSettings = EximSiteSettings()
    ) {
        self.hostname = hostname
        self.addresses = addresses
        self.domains = domains
        self.policy = policy
        self.site = site
    }

    /// Main options only the harness sets: where it listens, where it keeps its files, what it logs.
    public static let harnessOwned: Set<String> = [
        "local_interfaces", "daemon_smtp_ports", "daemon_smtp_port", "spool_directory", "log_file_path", "log_selector",
        "queue_only", "exim_user", "exim_group", "pid_file_path",
    ]

    /// Why the case cannot run on Exim: its policy (only when the harness writes the ACLs).
    public func unsupportedReason(hasSPF: Bool) -> String? {
        guard baseText == nil else {
            return tls == nil
                ? nil
                : "receiver.tls is set up in the configuration the harness writes, not in one given with --exim-config"
        }
        return EximACL.unsupportedReason(policy, hasSPF: hasSPF)
    }

    public func render(paths: EximPaths, hasSPF: Bool) throws(EximUnsupported) -> String {
        if let baseText { return Self.ownedOver(baseText, owned: owned(paths: paths)) }
        let statements: String
        switch EximACL.statements(for: policy, hasSPF: hasSPF) {
        case .success(let text): statements = text
        case .failure(let unsupported): throw unsupported
        }
        var main: [(String, String)] = [
            ("primary_hostname", DNSName.normalize(hostname)),
            ("smtp_banner", "$smtp_active_hostname ESMTP"),
            (
                "domainlist local_domains",
                domains.isEmpty ? ":" : domains.map { DNSName.normalize($0) }.joined(separator: " : ")
            ),
            // Exim looks names up only when a check asks (verify = reverse_host_lookup), never
            // calls back with ident, and lets the ACLs judge HELO names (by default it answers a
            // syntactically invalid one with 501 at HELO, before any check).
            ("host_lookup", ""), ("rfc1413_hosts", ""), ("helo_accept_junk_hosts", "*"),
            ("tls_advertise_hosts", ""), ("pipelining_connect_advertise_hosts", ""), ("chunking_advertise_hosts", ""),
            ("keep_environment", ""),
            // One try per query with the world's unbound, as the harness's own resolver does.
            ("dns_retrans", "2s"), ("dns_retry", "1"),
        ]
        // The ACL the policy answers in: RCPT, DATA (acl_smtp_data runs after the final dot), or
        // format 1.2's HELO (acl_smtp_helo, for EHLO and HELO) and MAIL (acl_smtp_mail).
        let stage: String
        switch policy.rejectAt {
        case .helo: stage = "helo"
        case .mail: stage = "mail"
        case .data: stage = "data"
        case .rcpt, .greeting: stage = "rcpt"
        }
        var acls = ["rcpt", "data"]
        for name in EximACLName.allCases
        where (site.acls[name] != nil || name.rawValue == stage) && !acls.contains(name.rawValue) {
            acls.append(name.rawValue)
        }
        if tls?.required == true, !acls.contains("mail") { acls.append("mail") }
        main += acls.map { ("acl_smtp_\($0)", "acl_mxh_\($0)") }
        if let tls {
            for (key, value) in tls.mainOptions(paths: paths) {
                main.removeAll { $0.0 == key }
                main.append((key, value))
            }
        }
        for (key, value) in site.main.sorted(by: { $0.key < $1.key }) where !Self.harnessOwned.contains(key) {
            main.removeAll { $0.0 == key }
            main.append((key, value))
        }
        var text = "# Written by mxharness for receiver \(hostname); do not edit.\n"
        text += EximACL.macros.joined(separator: "\n") + "\n\n"
        text += main.map { "\($0.0) = \($0.1)" }.joined(separator: "\n") + "\n"
        text += owned(paths: paths) + "\n"
        text += "begin acl\n\n"
        for name in acls {
            text += "acl_mxh_\(name):\n"
            if name == "mail", let statement = tls?.mailStatement {
                text += "  # receiver.tls required\n" + statement + "\n"
            }
            if let acl = EximACLName(rawValue: name), let site = site.acls[acl] {
                text += "  # receiver.exim acl_\(name)\n" + site + "\n"
            }
            if name == stage, !statements.isEmpty {
                text += "  # policy \(policy.preset?.rawValue ?? "map")\n" + statements + "\n"
            }
            if name == "rcpt" {
                text += "  accept  domains = +local_domains\n"
                text += "  deny    message = 554 5.7.1 <$local_part@$domain>: Relay access denied\n\n"
            } else if name == "data" {
                // Postfix's wording of an accepted message, which scenarios' expect texts use.
                text += "  accept  message = 250 2.0.0 Ok: queued as $message_exim_id\n\n"
            } else {
                text += "  accept\n\n"
            }
        }
        // Accepted mail stays in the case's spool (queue_only): nothing is delivered onwards.
        text += "begin routers\n\ndiscard:\n  driver = redirect\n  data = :blackhole:\n"
        return text
    }

    /// What the harness owns, as main-section lines.
    func owned(paths: EximPaths) -> String {
        let interfaces = addresses.map(\.description).joined(separator: " ; ")
        return """
            # Owned by the harness (not overridable):
            daemon_smtp_ports = 25
            local_interfaces = <; \(interfaces)
            spool_directory = \(paths.spoolDirectory)
            log_file_path = \(paths.logDirectory)/%slog
            log_selector = +smtp_connection +smtp_no_mail +incoming_interface +received_recipients
            queue_only = true
            """
    }

    /// The user's configuration with the owned main options removed and the harness's appended
    /// to its main section (before the first `begin`).
    static func ownedOver(_ text: String, owned: String) -> String {
        var out: [Substring] = []
        var inMain = true
        var skippingContinuation = false
        var inserted = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if skippingContinuation {
                skippingContinuation = line.hasSuffix("\\")
                continue
            }
            if inMain, trimmed.hasPrefix("begin ") || trimmed == "begin" {
                out.append(Substring(owned))
                inserted = true
                inMain = false
            }
            if inMain, let name = optionName(trimmed), harnessOwned.contains(name) {
                out.append("# (mxharness owns this option) " + line)
                skippingContinuation = line.hasSuffix("\\")
                continue
            }
            out.append(line)
        }
        if !inserted { out.append(Substring(owned)) }
        return out.joined(separator: "\n") + "\n"
    }

    static func optionName(_ line: Substring) -> String? {
        var rest = line
        if rest.hasPrefix("hide ") { rest = rest.dropFirst(5).drop { $0 == " " } }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard name.first?.isLowercase == true else { return nil }
        for prefix in ["no_", "not_"] where name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
        return String(name)
    }
}
