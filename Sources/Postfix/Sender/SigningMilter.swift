#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DKIM
import DNSCore
import Delivery
import Foundation
import Logging
import Sandbox
import Scenario

/// `sender.dkim` on a real Postfix sender: a signing milter as the sender's `non_smtpd_milters`
/// (the message is injected with sendmail(1), so cleanup(8) hands it to the milter before it is
/// queued), signing with the scenario's key, selector, domain, algorithm, canonicalization and
/// header list, as a site's signer signs. The milter is OpenDKIM, except where OpenDKIM cannot
/// sign the case verifiably (`Signer`): then Debian's dkimpy-milter. Pure values; `SigningMilter`
/// runs it.
///
/// The breakages of `sender.dkim.break` are made the way they happen to real mail:
/// - `body-changed`, `header-changed`: the sending Postfix's own `smtp_body_checks` and
///   `smtp_header_checks` (header_checks(5): PREPEND and REPLACE are applied by smtp(8) as it
///   sends, after the message was signed), as a gateway that adds a line or rewrites a field;
/// - `expired`: OpenDKIM's clock a day behind (libfaketime's `FAKETIME=-1d`), with `SignatureTTL`
///   the hour the built-in sender uses (or `expire_after`): `t=` yesterday, `x=` an hour later.
public struct DKIMSigning: Sendable {
    /// The real signer a case gets.
    public enum Signer: String, Sendable, Hashable {
        /// OpenDKIM 2.11 (`opendkim`, `Mode s`).
        case openDKIM = "OpenDKIM"
        /// dkimpy-milter 1.2 (Debian's `dkimpy-milter`, dkimpy's signer).
        case dkimpyMilter = "dkimpy-milter"
    }

    /// Where the signer listens in the case's namespace: apart from the receiver's verifying
    /// OpenDKIM (8891), OpenDMARC (8893) and decision milter (8895) in the same namespace.
    public static let port: UInt16 = 8897

    public enum Breakage: Sendable, Hashable {
        /// A line added before the body's last line.
        case bodyChanged(lastBodyLine: String)
        /// `header` (the last header field the signature covers, as it is in the message) changed.
        case headerChanged(header: String)
        /// Signed a day ago.
        case expired
    }

    /// `sender.dkim`, with the key the runner prepared: selector, algorithm, canonicalization,
    /// `h=`, `expire_after`.
    public var dkim: DKIMSpec
    /// `d=` (`SenderSpec.dkimDomain`: `sender.dkim.domain`, else the From domain).
    public var domain: String
    public var breakage: Breakage?
    /// The loopback address the signer listens on: the family the sending Postfix has
    /// (`inet_protocols`; an IPv6-only sender's cleanup(8) cannot reach 127.0.0.1: "Address family
    /// for hostname not supported").
    public var loopback: AddressFamily = .ipv4

    /// OpenDKIM's `Socket` (libmilter: `inet6:PORT@ADDRESS` for IPv6).
    var socket: String { loopback == .ipv6 ? "inet6:\(Self.port)@::1" : "inet:\(Self.port)@127.0.0.1" }
    /// Postfix's milter endpoint (host_port(3): an IPv6 host in brackets).
    var milterEndpoint: String { loopback == .ipv6 ? "inet:[::1]:\(Self.port)" : "inet:127.0.0.1:\(Self.port)" }
    var listenAddress: IPAddress { IPAddress(loopback == .ipv6 ? "::1" : "127.0.0.1")! }

    public init(dkim: DKIMSpec, domain: String, breakage: Breakage?) {
        self.dkim = dkim
        self.domain = domain
        self.breakage = breakage
    }

    /// OpenDKIM, except for an Ed25519 key under simple header canonicalization, which dkimpy-milter
    /// signs. libopendkim 2.11.0-Beta2 folds the DKIM-Signature field at 75 columns and, while
    /// hashing it with `b=` still empty, forces the line break before `b=` only for RSA keys
    /// (`dkim.c` `dkim_getsighdr_d`: `if (sig->sig_keytype == DKIM_KEYTYPE_RSA)`, from the RSA
    /// signature's predicted length; the milter never calls `dkim_set_margin`, and opendkim.conf(5)
    /// has no setting for it). For an Ed25519 key the empty `b=` stays on the `h=` line in the field
    /// it hashes and goes to a line of its own in the field it adds: the two differ in whitespace,
    /// which simple header canonicalization (RFC 6376 3.4.1) keeps, so no verifier can verify it
    /// (seen: OpenDKIM's own verifier and the built-in MX both answered 5.7.20). dkimpy folds `b=`
    /// onto a line of its own for every key before hashing (`dkim/__init__.py` `sign`: "Force b=
    /// to fold onto it's own line so that refolding after adding sig doesn't change whitespace").
    public var signer: Signer {
        dkim.algorithm == .ed25519SHA256 && dkim.canonicalization.header == .simple ? .dkimpyMilter : .openDKIM
    }

    /// Why the case's signer cannot sign it as the scenario says, or nil: dkimpy-milter 1.2.3
    /// writes no `x=` (its `sign_dkim` passes no expiry to dkimpy, and dkimpy-milter.conf(5) has no
    /// `SignatureTTL`).
    public var unsupportedReason: String? {
        guard signer == .dkimpyMilter, signatureTTL != nil else { return nil }
        return
            "sender.dkim: ed25519-sha256 with simple header canonicalization is signed by dkimpy-milter on the real Postfix sender (OpenDKIM 2.11 cannot sign it verifiably), and dkimpy-milter 1.2.3 writes no x= (no SignatureTTL), so expire_after and break: expired cannot be made"
    }

    /// The key's name in the key table.
    var keyName: String { "\(dkim.selector)._domainkey.\(domain)" }

    /// `x=`: the built-in sender's hour for an expired signature, else `expire_after`.
    var signatureTTL: Int? {
        if case .expired = breakage { return dkim.expireAfter ?? 3_600 }
        return dkim.expireAfter
    }

    /// The signer's configuration file, by its signer.
    public func configuration(directory: String) -> String {
        switch signer {
        case .openDKIM: openDKIMConfiguration(directory: directory)
        case .dkimpyMilter: dkimpyConfiguration(directory: directory)
        }
    }

    /// opendkim.conf(5), with the folder the key and tables are in (`directory`). Every message is
    /// signed with the one key whatever its From domain (the signing table's `*`), as the built-in
    /// sender does; the message comes from sendmail(1), which the milter sees as localhost, an
    /// internal host (its default `InternalHosts`), so it signs rather than verifies.
    func openDKIMConfiguration(directory: String) -> String {
        var lines = [
            "# Written by mxharness: OpenDKIM signs what the sending Postfix sends.",
            "Mode                    s",
            "Socket                  \(socket)",
            "Background              no",
            "Syslog                  no",
            "KeyTable                file:\(directory)/keytable",
            "SigningTable            refile:\(directory)/signingtable",
            "Canonicalization        \(dkim.canonicalization)",
            "SignatureAlgorithm      \(dkim.algorithm.rawValue)",
            "SignHeaders             \(dkim.headers.joined(separator: ","))",
            "SoftwareHeader          no",
            // The case folder is under /tmp, which others can write: without this OpenDKIM exits
            // at once ("/tmp can be read or written by other users").
            "RequireSafeKeys         no",
        ]
        if let ttl = signatureTTL { lines.append("SignatureTTL            \(ttl)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// dkimpy-milter.conf(5), with the folder the key and tables are in. One Ed25519 key in
    /// `KeyTableEd25519`, chosen for every message by the signing table's `%` (dkimpy-milter's
    /// `get_identities_sign` matches a `*` pattern against the From address's end only, so `%` is
    /// its "any From": `d=` and `s=` are then the key table's). It signs whatever host the message
    /// comes from (its `eom` signs unless `Mode` is `v`; `InternalHosts` only stops verifying);
    /// `UserID` is the package's `dkimpy-milter` (it drops root after reading the key), no syslog,
    /// no pid file.
    func dkimpyConfiguration(directory: String) -> String {
        [
            "# Written by mxharness: dkimpy-milter signs what the sending Postfix sends.",
            "Mode                    s",
            "Socket                  \(socket)",
            "Syslog                  no",
            "UserID                  dkimpy-milter",
            "KeyTableEd25519         \(directory)/keytable",
            "SigningTable            \(directory)/signingtable",
            "Canonicalization        \(dkim.canonicalization)",
            "SignHeaders             \(dkim.headers.joined(separator: ","))",
        ].joined(separator: "\n") + "\n"
    }

    /// The key table: one key, by name (a file path as the third field, as both signers read it).
    public func keyTable(directory: String) -> String {
        "\(keyName) \(domain):\(dkim.selector):\(directory)/\(keyFile)\n"
    }

    /// The signing table: every sender address signs with it (OpenDKIM's refile `*`,
    /// dkimpy-milter's `%`).
    public var signingTable: String { signer == .openDKIM ? "* \(keyName)\n" : "% \(keyName)\n" }

    /// The configuration file's name.
    var configurationFile: String { signer == .openDKIM ? "opendkim.conf" : "dkimpy-milter.conf" }

    /// Where the signer's output goes.
    var outputFile: String { signer == .openDKIM ? "opendkim.out" : "dkimpy-milter.out" }

    /// The key file's name: OpenDKIM reads PEM, dkimpy-milter the base64 of the 32-byte Ed25519
    /// seed (dkimpy `sign`: `nacl.signing.SigningKey(privkey, encoder=Base64Encoder)`).
    var keyFile: String { signer == .openDKIM ? "key.pem" : "key.ed25519" }

    /// The key as the signer reads it; nil when there is no key the signer takes.
    public var keyFileContents: String? {
        switch signer {
        case .openDKIM: return dkim.key?.pem ?? ""
        case .dkimpyMilter:
            guard case .ed25519(let seed) = dkim.key else { return nil }
            return Data(seed).base64EncodedString() + "\n"
        }
    }

    /// The sending Postfix's main.cf parameters: the signer for mail from sendmail(1), a message
    /// left queued when the signer cannot be reached, and the checks that break the signature.
    public func mainCF(directory: String) -> [(String, String)] {
        var parameters: [(String, String)] = [
            ("non_smtpd_milters", milterEndpoint),
            ("milter_default_action", "tempfail"),
            ("milter_protocol", "6"),
        ]
        switch breakage {
        case .bodyChanged: parameters.append(("smtp_body_checks", "regexp:\(directory)/smtp_body_checks"))
        case .headerChanged: parameters.append(("smtp_header_checks", "regexp:\(directory)/smtp_header_checks"))
        case .expired, .none: break
        }
        return parameters
    }

    /// The check tables the breakage needs, by file name in `directory`.
    public var checkTables: [String: String] {
        switch breakage {
        case .bodyChanged(let line):
            return [
                "smtp_body_checks":
                    "# Written by mxharness: a line added after signing.\n/^\(Self.regexpLiteral(line))$/ PREPEND This line was added after signing.\n"
            ]
        case .headerChanged(let header):
            let name = header.split(separator: ":", maxSplits: 1).first.map(String.init) ?? header
            let pattern = "^(" + Self.regexpLiteral(name) + "):(.*)$"
            return [
                "smtp_header_checks":
                    "# Written by mxharness: a signed header field changed after signing.\n/\(pattern)/ REPLACE ${1}:${2} [changed in transit]\n"
            ]
        case .expired, .none:
            return [:]
        }
    }

    /// `text` as a POSIX extended regular expression matching it literally.
    static func regexpLiteral(_ text: String) -> String {
        var out = ""
        for character in text {
            if "\\^$.|?*+()[]{}/".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

/// Where OpenDKIM, dkimpy-milter and libfaketime are on this machine.
public struct SignerInstallation: Sendable, Hashable {
    public var opendkim: String
    public var dkimpyMilter: String
    /// libfaketime's preload library, for `expired`; nil when it is not installed.
    public var faketime: String?

    /// `faketime`: `/usr/lib/MULTIARCH/faketime/libfaketime.so.1` (Debian's libfaketime).
    public init(
        opendkim: String = "/usr/sbin/opendkim", dkimpyMilter: String = "/usr/bin/dkimpy-milter",
        faketime: String? = Faketime.library()
    ) {
        self.opendkim = opendkim
        self.dkimpyMilter = dkimpyMilter
        self.faketime = faketime
    }

    /// The signer's program.
    func executable(for signer: DKIMSigning.Signer) -> String {
        signer == .openDKIM ? opendkim : dkimpyMilter
    }

    /// Why `signing` cannot be done here, or nil.
    public func missingReason(for signing: DKIMSigning) -> String? {
        if let reason = signing.unsupportedReason { return reason }
        switch signing.signer {
        case .openDKIM:
            guard FileManager.default.isExecutableFile(atPath: opendkim) else {
                return
                    "sender.dkim on a real Postfix sender needs OpenDKIM (\(opendkim) is not installed; apt-get install opendkim, as scripts/lib.sh does)"
            }
        case .dkimpyMilter:
            guard FileManager.default.isExecutableFile(atPath: dkimpyMilter) else {
                return
                    "sender.dkim: ed25519-sha256 with simple header canonicalization on a real Postfix sender needs dkimpy-milter (OpenDKIM 2.11 cannot sign it verifiably; \(dkimpyMilter) is not installed; apt-get install dkimpy-milter, as scripts/lib.sh does)"
            }
            guard SystemAccounts.user(named: "dkimpy-milter") != nil else {
                return
                    "sender.dkim: dkimpy-milter drops root to its user dkimpy-milter, which does not exist (reinstall dkimpy-milter)"
            }
        }
        if case .expired = signing.breakage, faketime == nil {
            return
                "sender.dkim.break: expired on a real Postfix sender needs libfaketime (OpenDKIM signs a day ago with its clock set back; apt-get install libfaketime, as scripts/lib.sh does)"
        }
        return nil
    }
}

/// The signing milter of one case (`DKIMSigning.signer`), in the case's namespace, its files in
/// `directory`.
public final class SigningMilter: @unchecked Sendable {
    private let process: ManagedProcess

    private init(process: ManagedProcess) {
        self.process = process
    }

    /// Writes the key and the tables and starts the signer; returns once it listens.
    public static func start(
        _ signing: DKIMSigning, installation: SignerInstallation, namespace: String, directory: String,
        ipPath: String,
        logger: Logger
    ) async throws -> SigningMilter {
        if let reason = installation.missingReason(for: signing) { throw SenderMTAError(reason) }
        let fm = FileManager.default
        do {
            if !fm.fileExists(atPath: directory) {
                try fm.createDirectory(
                    atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            }
            guard let key = signing.keyFileContents else {
                throw SenderMTAError("sender.dkim: the key is no Ed25519 key, which \(signing.signer.rawValue) needs")
            }
            guard
                fm.createFile(
                    atPath: directory + "/" + signing.keyFile, contents: Data(key.utf8),
                    attributes: [.posixPermissions: 0o600])
            else {
                throw SenderMTAError("cannot write the signing key in \(directory)")
            }
            try signing.configuration(directory: directory).write(
                toFile: directory + "/" + signing.configurationFile, atomically: true, encoding: .utf8)
            try signing.keyTable(directory: directory).write(
                toFile: directory + "/keytable", atomically: true, encoding: .utf8)
            try signing.signingTable.write(toFile: directory + "/signingtable", atomically: true, encoding: .utf8)
        } catch let error as SenderMTAError {
            throw error
        } catch {
            throw SenderMTAError(
                "cannot write \(signing.signer.rawValue)'s signing configuration in \(directory): \(error)")
        }
        var environment = ProcessInfo.processInfo.environment
        if case .expired = signing.breakage, let faketime = installation.faketime {
            environment["LD_PRELOAD"] = faketime
            environment["FAKETIME"] = "-1d"
        }
        let output = directory + "/" + signing.outputFile
        let configuration = directory + "/" + signing.configurationFile
        // OpenDKIM: -f stays in the foreground; dkimpy-milter never forks and takes only the file.
        let arguments = signing.signer == .openDKIM ? ["-f", "-x", configuration] : [configuration]
        let process = try ManagedProcess.launch(
            ipPath, ["netns", "exec", namespace, installation.executable(for: signing.signer)] + arguments,
            in: nil, outputPath: output,
            environment: environment)
        let name = signing.signer.rawValue
        let said = { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        switch await process.waitUntilListening(
            on: [signing.listenAddress], port: DKIMSigning.port, timeout: .seconds(10))
        {
        case .listening: break
        case .exited:
            throw SenderMTAError(
                "\(name) (signing) exited during start-up (configuration in \(directory)):\n\(said())")
        case .timedOut:
            await process.terminate()
            throw SenderMTAError(
                "\(name) (signing) did not listen on \(signing.listenAddress):\(DKIMSigning.port) within 10 s:\n\(said())"
            )
        }
        logger.debug(
            "dkim signer up", metadata: ["signer": "\(name)", "netns": "\(namespace)", "pid": "\(process.pid)"])
        return SigningMilter(process: process)
    }

    /// SIGTERM, SIGKILL soon after (libmilter lets a daemon wind down for seconds).
    public func stop() async {
        await process.terminate(grace: .milliseconds(100))
    }
}
