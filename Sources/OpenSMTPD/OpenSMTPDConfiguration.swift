import DNSCore
import Foundation
import Policy
import Sandbox
import Synchronization

/// Where the harness finds OpenSMTPD: unpacked from Debian's package by `scripts/lib.sh`'s
/// `unpack_mtas` into `$MXHARNESS_MTA_DIR/opensmtpd` (never installed with apt beside Postfix).
public struct OpenSMTPDInstallation: Sendable, Hashable {
    public var binary: String
    /// What `smtpd -h` says after `version: OpenSMTPD ` (`7.4.0-portable`).
    public var version: String

    /// Before 7.3 every STARTTLS handshake fails with OpenSSL 3: smtpd logs `smtp disconnected
    /// reason="io-error: error:0A080006:SSL routines::EVP lib"` after `elliptic curve
    /// routines::missing private key` (seen with 6.8.0p2, Debian 12's own package, with ECDSA and
    /// RSA keys): its privilege-separated key operations never reach the key (OpenSMTPD issues 1171
    /// and 1239, fixed by pull request 1208, in 7.3.0). `unpack_mtas` takes it from backports.
    public var startTLSWorks: Bool {
        let parts = version.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return (parts[0], parts[1]) >= (7, 3)
    }

    /// Why a case with `receiver.tls.starttls` cannot run on this installation.
    public var startTLSUnsupportedReason: String? {
        startTLSWorks
            ? nil
            : "receiver.tls: OpenSMTPD \(version) fails every STARTTLS handshake with OpenSSL 3 (SSL routines::EVP lib; OpenSMTPD issues 1171, 1239, fixed in 7.3): run scripts/lib.sh's unpack_mtas opensmtpd again"
    }

    private static let versions = Mutex<[String: String]>([:])

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
        if let known = versions.withLock({ $0[binary] }) {
            return .success(OpenSMTPDInstallation(binary: binary, version: known))
        }
        switch version(of: binary) {
        case .failure(let unsupported): return .failure(unsupported)
        case .success(let version):
            versions.withLock { $0[binary] = version }
            return .success(OpenSMTPDInstallation(binary: binary, version: version))
        }
    }

    /// `smtpd -h` prints `version: OpenSMTPD 7.4.0-portable` and its usage.
    static func version(of binary: String) -> Result<String, OpenSMTPDUnsupported> {
        let output: String
        do {
            output = try Command.runSync(binary, ["-h"])
        } catch let error as CommandError {
            // smtpd exits 1 after printing its version and usage.
            output = error.output
        } catch {
            return .failure(OpenSMTPDUnsupported(reason: "\(binary) does not run: \(error)"))
        }
        let prefix = "version: OpenSMTPD "
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            return .failure(
                OpenSMTPDUnsupported(
                    reason: "\(binary) -h did not say its version (a missing library?): \(output.prefix(300))"))
        }
        return .success(String(line.dropFirst(prefix.count)))
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
    /// The certificates and keys of `receiver.tls`.
    public var tlsDirectory: String
    /// The filter answering a plaintext MAIL when `receiver.tls.required` (`OpenSMTPDTLS`).
    public var requiredFilter: String

    public init(under directory: String) {
        configuration = directory + "/smtpd.conf"
        spoolDirectory = directory + "/spool"
        resolvConf = directory + "/resolv.conf"
        log = directory + "/smtpd.log"
        tlsDirectory = directory + "/tls"
        requiredFilter = directory + "/starttls-required.sh"
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
    /// STARTTLS with the world's certificates (`receiver.tls`); nil: no STARTTLS.
    public var tls: OpenSMTPDTLS?

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
        guard baseText == nil else {
            return tls == nil
                ? nil
                : "receiver.tls is set up in the configuration the harness writes, not in one given with --opensmtpd-config"
        }
        return tls?.unsupportedReason ?? OpenSMTPDFilters.unsupportedReason(policy, world: world)
    }

    /// The configuration's text, for an instance whose files are in `paths` (`tlsDirectory` holds
    /// the files of `tls`, `OpenSMTPDTLS.files`).
    public func render(paths: OpenSMTPDPaths = OpenSMTPDPaths(under: "/nonexistent")) throws(OpenSMTPDUnsupported)
        -> String
    {
        if let baseText { return baseText }
        let filters: [AddressFamily: [String]]
        let leading = tls?.required == true ? [OpenSMTPDTLS.requiredFilterName] : []
        switch OpenSMTPDFilters.filters(for: policy, world: world, leading: leading) {
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
        lines += tls?.filterLines(script: paths.requiredFilter) ?? []
        for family in AddressFamily.allCases { lines += filters[family] ?? [] }
        lines += tls?.pkiLines(directory: paths.tlsDirectory) ?? []
        for address in addresses {
            let filter = filters[address.family] == nil ? "" : " filter \"\(OpenSMTPDFilters.chain(address.family))\""
            let starttls = tls?.listenOptions(for: address) ?? ""
            lines.append("listen on \(address) port 25 hostname \"\(host)\"\(filter)\(starttls)")
        }
        lines.append(#"action "mxh_accept" mda "/bin/sh -c 'cat >/dev/null'" virtual <mxh_users>"#)
        lines.append(#"match from any for domain <mxh_domains> action "mxh_accept""#)
        return lines.joined(separator: "\n") + "\n"
    }
}
