import DKIM
import DNSCore

/// The three milters of a Postfix instance whose policy has DKIM or DMARC checks, in the order
/// smtpd calls them: OpenDKIM verifies signatures, OpenDMARC checks SPF itself and evaluates
/// DMARC from OpenDKIM's results, and the decision milter answers as the policy says. All three
/// listen on 127.0.0.1 in the instance's namespace (each namespace has its own loopback, so the
/// fixed ports never meet another instance's). Pure: rendering touches no file.
public struct MilterConfiguration: Sendable, Hashable {
    public static let openDKIMPort: UInt16 = 8891
    public static let openDMARCPort: UInt16 = 8893
    public static let decisionPort: UInt16 = 8895

    /// The authserv-id both milters write and the decision milter trusts (RFC 8601 2.5): one per
    /// instance, so that an Authentication-Results field the sender wrote is never taken for theirs.
    public var authservID: String
    /// Where the files go (the instance's `milters/` folder).
    public var directory: String

    public init(authservID: String, directory: String) {
        self.authservID = authservID
        self.directory = directory
    }

    /// main.cf parameters (postconf(5)): the three milters for smtpd and nothing else; a milter
    /// that cannot be reached fails the message temporarily (never accepts it unchecked); the
    /// connect macros the decision milter reads.
    public static var mainCF: MainCF {
        var main = MainCF()
        main["smtpd_milters"] = [openDKIMPort, openDMARCPort, decisionPort].map { "inet:127.0.0.1:\($0)" }.joined(
            separator: ", ")
        main["non_smtpd_milters"] = ""
        main["milter_default_action"] = "tempfail"
        main["milter_protocol"] = "6"
        main["milter_connect_macros"] =
            "j {daemon_name} {daemon_addr} v _ {client_addr} {client_name} {client_ptr} {client_resolve}"
        return main
    }

    public var openDKIMConfigPath: String { directory + "/opendkim.conf" }
    public var openDMARCConfigPath: String { directory + "/opendmarc.conf" }
    public var publicSuffixListPath: String { directory + "/public_suffix_list.dat" }
    public var libunboundConfigPath: String { directory + "/libunbound.conf" }

    /// unbound.conf(5) for OpenDKIM's libunbound: every query to the world's unbound on 127.0.0.1
    /// (libunbound refuses to ask localhost unless `do-not-query-localhost: no`, so `Nameservers
    /// 127.0.0.1` alone asks no one), and none of the zones libunbound answers itself by default
    /// (`test.`, the documentation reverse zones: `UnboundDefaultZones`).
    public static var libunbound: String {
        var lines = ["# Written by mxharness: OpenDKIM asks the world's unbound only.", "server:"]
        lines.append("  do-not-query-localhost: no")
        lines.append("  module-config: \"iterator\"")
        lines.append("  qname-minimisation: no")
        lines.append("  use-syslog: no")
        lines.append("  verbosity: 0")
        for zone in UnboundDefaultZones.names { lines.append("  local-zone: \"\(zone)\" nodefault") }
        lines += ["forward-zone:", "  name: \".\"", "  forward-addr: 127.0.0.1@53"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// opendkim.conf(5): verify only, through the world's unbound (`libunbound`), accepting every message (the
    /// decision is the decision milter's), with an Authentication-Results field even for unsigned
    /// mail.
    public var openDKIM: String {
        """
        # Written by mxharness: OpenDKIM verifies, the decision milter decides.
        Mode                    v
        Socket                  inet:\(Self.openDKIMPort)@127.0.0.1
        Background              no
        Syslog                  no
        AuthservID              \(authservID)
        AlwaysAddARHeader       yes
        SoftwareHeader          no
        ResolverConfiguration   \(libunboundConfigPath)
        DNSTimeout              5
        MinimumKeyBits          1024
        On-BadSignature         accept
        On-DNSError             accept
        On-InternalError        accept
        On-KeyNotFound          accept
        On-NoSignature          accept
        On-Security             accept
        On-SignatureError       accept

        """
    }

    /// opendmarc.conf(5): SPF checked by OpenDMARC itself (libspf2, through resolv.conf's unbound),
    /// OpenDKIM's results trusted by their authserv-id, nothing rejected, no reports.
    public var openDMARC: String {
        """
        # Written by mxharness: OpenDMARC evaluates, the decision milter decides.
        Socket                  inet:\(Self.openDMARCPort)@127.0.0.1
        Background              false
        Syslog                  false
        AuthservID              \(authservID)
        TrustedAuthservIDs      \(authservID)
        SPFSelfValidate         true
        SPFIgnoreResults        true
        RejectFailures          false
        FailureReports          false
        RequiredHeaders         false
        HoldQuarantinedMessages false
        PublicSuffixList        \(publicSuffixListPath)

        """
    }

    /// The organisational-domain rule the built-in MX uses (`OrganizationalDomain`: the last two
    /// labels, three under a few two-label suffixes) as a public suffix list (publicsuffix.org's
    /// format), so that OpenDMARC finds the same organisational domain for the worlds' names.
    public static var publicSuffixList: String {
        let tlds = [
            "test", "example", "invalid", "localhost", "com", "net", "org", "edu", "gov", "de", "uk", "au", "nz", "jp",
            "br", "za", "cn", "arpa",
        ]
        return "// Written by mxharness: the organisational-domain rule of its built-in verifier.\n"
            + (tlds + OrganizationalDomain.builtInTwoLabelSuffixes.sorted()).joined(separator: "\n") + "\n"
    }
}
