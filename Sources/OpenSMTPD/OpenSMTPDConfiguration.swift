import DNSCore
import Foundation
import Policy
import Sandbox

/// Where the harness finds OpenSMTPD: unpacked from Debian's package by `scripts/lib.sh`'s
/// `unpack_mtas` into `$MXHARNESS_MTA_DIR/opensmtpd` (never installed with apt beside Postfix).
public struct OpenSMTPDInstallation: Sendable, Hashable {
    public var binary: String

    public static func find() -> Result<OpenSMTPDInstallation, OpenSMTPDUnsupported> {
        let binary = UnpackedMTAs.path("opensmtpd/usr/sbin/smtpd")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return .failure(
                OpenSMTPDUnsupported(
                    reason:
                        "OpenSMTPD is not unpacked at \(binary): run scripts/lib.sh's unpack_mtas (or set MXHARNESS_MTA_DIR)"
                ))
        }
        for user in ["opensmtpd", "opensmtpq"] where SystemAccounts.user(named: user) == nil {
            return .failure(
                OpenSMTPDUnsupported(
                    reason: "OpenSMTPD needs the system user \(user), which unpack_mtas in scripts/lib.sh creates"))
        }
        guard FileManager.default.fileExists(atPath: "/var/lib/opensmtpd/empty") else {
            return .failure(
                OpenSMTPDUnsupported(
                    reason:
                        "OpenSMTPD needs /var/lib/opensmtpd/empty (its privilege-separation folder), which unpack_mtas creates"
                ))
        }
        return .success(OpenSMTPDInstallation(binary: binary))
    }
}

/// Where one OpenSMTPD instance keeps its files (absolute paths on the host).
public struct OpenSMTPDPaths: Sendable, Hashable {
    public var configuration: String
    /// Bind-mounted over /var/spool/smtpd in the daemon's mount namespace.
    public var spoolDirectory: String
    public var resolvConf: String
    /// smtpd -d logs here (its standard output and error).
    public var log: String

    public init(under directory: String) {
        configuration = directory + "/smtpd.conf"
        spoolDirectory = directory + "/spool"
        resolvConf = directory + "/resolv.conf"
        log = directory + "/smtpd.log"
    }
}

/// The smtpd.conf of one case: the receiver's name and addresses, the domains it accepts mail
/// for and its policy as filters; or the user's own file (`--opensmtpd-config`), run as it is.
public struct OpenSMTPDConfiguration: Sendable, Hashable {
    public var hostname: String
    public var addresses: [IPAddress]
    public var domains: [String]
    public var policy: ReceiverPolicy
    /// What the scenario's DNS holds that OpenSMTPD answers its own way.
    public var world: OpenSMTPDFilters.WorldFacts
    /// The user's smtpd.conf (`--opensmtpd-config`); it must listen on the receiver's addresses.
    public var baseText: String?

    public init(
        hostname: String, addresses: [IPAddress], domains: [String], policy: ReceiverPolicy,
        world: OpenSMTPDFilters.WorldFacts = OpenSMTPDFilters.WorldFacts()
    ) {
        self.hostname = hostname
        self.addresses = addresses
        self.domains = domains
        self.policy = policy
        self.world = world
    }

    public var unsupportedReason: String? {
        guard baseText == nil else { return nil }
        return OpenSMTPDFilters.unsupportedReason(policy, world: world)
    }

    public func render() throws(OpenSMTPDUnsupported) -> String {
        if let baseText { return baseText }
        let filters: [AddressFamily: [String]]
        switch OpenSMTPDFilters.filters(for: policy, world: world) {
        case .success(let lines): filters = lines
        case .failure(let unsupported): throw unsupported
        }
        let host = DNSName.normalize(hostname)
        var lines = ["# Written by mxharness for receiver \(hostname); do not edit.", "smtp max-message-size 50M"]
        let domainList =
            domains.isEmpty ? "\"\(host)\"" : domains.map { "\"\(DNSName.normalize($0))\"" }.joined(separator: ", ")
        lines.append("table mxh_domains { \(domainList) }")
        // Every recipient of those domains is accepted and handed to a command that reads and
        // drops the message, as user nobody: nothing leaves the instance.
        lines.append(#"table mxh_users { "@" = "nobody" }"#)
        lines += OpenSMTPDFilters.tables
        for family in AddressFamily.allCases { lines += filters[family] ?? [] }
        for address in addresses {
            let filter = filters[address.family] == nil ? "" : " filter \"\(OpenSMTPDFilters.chain(address.family))\""
            lines.append("listen on \(address) port 25 hostname \"\(host)\"\(filter)")
        }
        lines.append(#"action "mxh_accept" mda "/bin/sh -c 'cat >/dev/null'" virtual <mxh_users>"#)
        lines.append(#"match from any for domain <mxh_domains> action "mxh_accept""#)
        return lines.joined(separator: "\n") + "\n"
    }
}
