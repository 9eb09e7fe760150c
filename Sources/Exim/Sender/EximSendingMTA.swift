import DNSCore
import Foundation
import Logging
import SMTPProtocol
import Sandbox
import Scenario
import Delivery

/// Exim 4 (Debian's packages unpacked by scripts/lib.sh `unpack_mtas exim`, never installed) sending
/// one message from a case's namespace: `exim4 -C CONF -odi` delivers it at once, in the
/// namespace, resolving through its resolv.conf; the outcome is read from Exim's main log. No
/// daemon runs, so nothing is left when the command returns.
public final class EximSendingMTA: @unchecked Sendable {
    /// The unpacked binary: `$MXHARNESS_MTA_DIR/exim/usr/sbin/exim4` (default folder
    /// /var/cache/mxharness/mta).
    public static var binary: String {
        UnpackedMTAs.path("exim/usr/sbin/exim4")
    }

    /// Why the Exim sender cannot run here, nil when it can.
    public static func unavailableReason() -> String? {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return "Exim is not unpacked at \(binary): run scripts/lib.sh's unpack_mtas exim (scripts/test does)"
        }
        // Exim switches to Debian-exim, which a user namespace does not map.
        if geteuid() != 0 || UserNamespace.isInside {
            return
                "the Exim sender needs root (it runs in the case's namespace as Debian-exim): run mxharness as root (sudo)"
        }
        if SystemAccounts.user(named: "Debian-exim") == nil {
            return "the Exim sender needs the user Debian-exim (unpack_mtas exim creates it)"
        }
        return nil
    }

    public let namespaceName: String
    public let root: String
    public let resolverAddress: IPAddress
    /// How long a lookup may take (resolv.conf `timeout:`, when this sender writes it).
    public let dnsTimeout: Duration
    private let logger: Logger
    private let lock = NSLock()
    private var ownedEtc: String?

    public init(
        namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration = .seconds(2),
        logger: Logger
    ) {
        self.namespaceName = namespaceName
        self.root = caseDirectory + "/exim-sender"
        self.resolverAddress = resolverAddress
        self.dnsTimeout = dnsTimeout
        self.logger = logger
    }

    /// What the namespace's resolv.conf says when this sender writes it.
    public var resolvConf: ResolvConf { ResolvConf(nameserver: resolverAddress, timeout: dnsTimeout) }

    public var mainLog: String { (try? String(contentsOfFile: root + "/log/mainlog", encoding: .utf8)) ?? "" }

    /// Writes the configuration, delivers `request`'s message and reports what the log says. With
    /// `signing`, the transport signs it (`EximDKIMSigning`).
    public func deliver(
        _ request: DeliveryRequest, options: [String: String], signing: EximDKIMSigning? = nil,
        faketime: String? = Faketime.library()
    ) async throws -> DeliveryReport {
        let fm = FileManager.default
        if let signing, let reason = signing.missingReason(faketime: faketime) { throw SenderMTAError(reason) }
        do {
            for folder in [root, root + "/spool", root + "/log"] {
                try fm.createDirectory(
                    atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            }
            var options = options
            if let signing {
                let keyPath = root + "/dkim-key.pem"
                guard
                    fm.createFile(
                        atPath: keyPath, contents: Data(signing.keyPEM.utf8), attributes: [.posixPermissions: 0o640])
                else {
                    throw SenderMTAError("cannot write the signing key \(keyPath)")
                }
                if let user = SystemAccounts.user(named: "Debian-exim") { chown(keyPath, 0, user.gid) }
                options = signing.transportOptions(keyPath: keyPath).merging(options) { _, given in given }
            }
            try Self.configuration(
                request, options: options, root: root,
                keptEnvironment: signing?.clockBehind == true ? ["LD_PRELOAD", "FAKETIME"] : []
            )
            .write(toFile: root + "/exim.conf", atomically: true, encoding: .utf8)
            if let pem = Self.authorityPEM(request) {
                // Read by the transport, which runs as the Exim user.
                try pem.write(toFile: Self.authorityFile(root: root), atomically: true, encoding: .utf8)
                try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: Self.authorityFile(root: root))
            }
            // The remote transport runs as exim_user (root is on Exim's fixed_never_users list).
            if let user = SystemAccounts.user(named: "Debian-exim") {
                for folder in [root + "/spool", root + "/log"] {
                    chown(folder, user.uid, user.gid)
                }
            }
        } catch let error as SenderMTAError {
            throw error
        } catch {
            throw SenderMTAError("cannot write the Exim sender's files under \(root): \(error)")
        }
        // A signature made a day ago: Exim's clock a day behind (libfaketime), kept across its
        // re-executions by keep_environment.
        let environment = signing?.clockBehind == true ? ["LD_PRELOAD=" + (faketime ?? ""), "FAKETIME=-1d"] : []
        let owned = try NamespaceResolvConf(namespaceName: namespaceName, resolvConf: resolvConf).ensure()
        lock.withLock { ownedEtc = owned }
        let message = String(decoding: request.message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let from = request.mailFrom.isEmpty ? "<>" : request.mailFrom
        var said = ""
        do {
            let command =
                ["netns", "exec", namespaceName] + (environment.isEmpty ? [] : ["/usr/bin/env"] + environment)
                + [Self.binary, "-C", root + "/exim.conf", "-odi", "-oi", "-f", from, "--"] + request.recipients
            said = try await Command.run("/usr/sbin/ip", command, input: message)
        } catch let error as CommandError where error.status == 1 || error.status == 2 {
            // -odi: a failed or deferred delivery makes exim exit non-zero; the log has the story.
            logger.debug("exim exited non-zero", metadata: ["status": "\(error.status)"])
            said = error.output
        } catch {
            throw SenderMTAError("the Exim sender did not take the message: \(error)\n\(mainLog)")
        }
        let log = EximDeliveryLog(
            lines: mainLog.split(separator: "\n").map(String.init), level: request.tls?.level ?? .none)
        var notes: [String] = []
        if log.statuses.isEmpty {
            let text = said.trimmingCharacters(in: .whitespacesAndNewlines)
            notes.append("Exim logged no outcome" + (text.isEmpty ? "" : "; it said: \(text)"))
        }
        return log.report(for: request, notes: notes)
    }

    public func stop() async {
        let etc = lock.withLock { () -> String? in
            defer { ownedEtc = nil }
            return ownedEtc
        }
        if let etc { try? FileManager.default.removeItem(atPath: etc) }
    }

    /// Where the world's authority is written for the transport's `tls_verify_certificates`.
    static func authorityFile(root: String) -> String { root + "/world-ca.pem" }

    /// The PEM of the authorities `request` trusts; nil without TLS.
    static func authorityPEM(_ request: DeliveryRequest) -> String? {
        guard let tls = request.tls, tls.level != .none else { return nil }
        return tls.trustAnchorsPEM
    }

    /// The words that start the line `event_action` writes for a host left after a TLS failure.
    static let tlsHostDeferMarker = "TLS host defer:"

    /// `sender.tls` as smtp transport options, each level with Postfix's meaning (Exim 4.96
    /// specification, "The smtp transport" and "Encrypted SMTP connections using TLS/SSL"):
    /// - none: `hosts_avoid_tls = *`, STARTTLS never sent;
    /// - may: Exim's defaults, STARTTLS when offered; the world's authority as
    ///   `tls_verify_certificates` and `tls_try_verify_hosts = *` only say in the log whether the
    ///   chain was good (`CV=yes|no`), and `tls_verify_cert_hostnames =` checks no name, as Postfix
    ///   at may and encrypt (so `CV=yes` is Postfix's "Trusted");
    /// - encrypt: the same and `hosts_require_tls = *`;
    /// - verify: `hosts_require_tls = *`, `tls_verify_hosts = *` and the MX host name checked
    ///   (`tls_verify_cert_hostnames = *`, Exim's default): `CV=yes` is "Verified";
    /// - dane: `hosts_try_dane = *` (Exim's default) with may's settings for hosts without usable
    ///   TLSA records, as Postfix's dane falls back to may. Every other level sets
    ///   `hosts_try_dane =`: Exim would otherwise use DANE wherever the resolver says secure.
    /// `secure` (the recipient domain matched) has no Exim setting; the sender part skips it.
    /// `event_action` logs the hosts Exim leaves after a TLS failure (errno -37,
    /// ERRNO_TLSFAILURE), which it does not log itself.
    static func tlsOptions(_ tls: SenderTLS?, authorityFile: String) -> [String] {
        guard let tls, tls.level != .none else { return ["hosts_avoid_tls = *", "hosts_try_dane ="] }
        var options = [
            "tls_verify_certificates = \(authorityFile)", "tls_try_verify_hosts = *",
            "event_action = ${if and{{eq{$event_name}{msg:host:defer}}{eq{$event_defer_errno}{-37}}}{${acl{tls_host_defer}}}}",
        ]
        switch tls.level {
        case .none, .may: options += ["tls_verify_cert_hostnames =", "hosts_try_dane ="]
        case .encrypt: options += ["tls_verify_cert_hostnames =", "hosts_try_dane =", "hosts_require_tls = *"]
        case .verify, .secure:
            options += [
                "tls_verify_cert_hostnames = *", "hosts_try_dane =", "hosts_require_tls = *", "tls_verify_hosts = *",
            ]
        case .dane: options += ["tls_verify_cert_hostnames =", "hosts_try_dane = *"]
        }
        return options
    }

    /// The whole configuration: one dnslookup (or manualroute for `relay`) router, one smtp
    /// transport bound to the sender's addresses, no retry before the case is over.
    static func configuration(
        _ request: DeliveryRequest, options: [String: String], root: String, keptEnvironment: [String] = []
    ) -> String {
        let hostname =
            DNSName.isValidHostname(request.helo) && request.helo.contains(".") ? request.helo : "sender.mxharness.test"
        let interfaces = [AddressFamily.ipv6, .ipv4].compactMap { request.sources[$0]?.description }.joined(
            separator: " ; ")
        var router = """
            dnslookup:
              driver = dnslookup
              transport = remote_smtp
              ignore_target_hosts = <; 0.0.0.0 ; 127.0.0.0/8 ; ::1\(request.sources[.ipv4] == nil ? " ; 0.0.0.0/0" : "")
              no_more
            """
        if case .host(let name) = request.relay {
            let host = name.hasPrefix("[") ? String(name.dropFirst().dropLast()) : name
            // route_list is itself a list split at semicolons before its items are read, so a
            // host list written with `<;` left `"<` as the only host ("lookup failed for all
            // hosts in relay router", seen with Exim 4.96). `<,` keeps an IPv6 address's colons.
            router = """
                relay:
                  driver = manualroute
                  transport = remote_smtp
                  route_list = * "<, \(host)" byname
                  no_more
                """
        }
        let seconds = { (d: Duration) in "\(max(1, Int(d.components.seconds)))s" }
        var transport =
            [
                "driver = smtp", "interface = <; \(interfaces)", "helo_data = \(request.helo)",
                "port = \(request.port)",
                "connect_timeout = \(seconds(request.connectTimeout))",
                "command_timeout = \(seconds(request.replyTimeout))",
                "data_timeout = \(seconds(request.replyTimeout))", "final_timeout = \(seconds(request.replyTimeout))",
                "hosts_try_chunking =", "hosts_try_fastopen =",
            ] + tlsOptions(request.tls, authorityFile: authorityFile(root: root))
        // `sender.exim` replaces an option of the harness's rather than repeating it.
        transport.removeAll { line in options.keys.contains(String(line.prefix { $0 != " " })) }
        transport += options.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }
        return """
            # Written by mxharness: an Exim that sends the scenario's message and nothing else.
            primary_hostname = \(hostname)
            # Exim re-executes itself to deliver: the unpacked binary, not the built-in /usr/sbin path.
            exim_path = \(binary)
            spool_directory = \(root)/spool
            log_file_path = \(root)/log/%slog
            exim_user = Debian-exim
            exim_group = Debian-exim
            trusted_users = root
            never_users =
            local_interfaces = <; 127.0.0.1 ; ::1
            keep_environment = \(keptEnvironment.joined(separator: " : "))
            disable_ipv6 = \(request.sources[.ipv6] == nil ? "true" : "false")
            tls_advertise_hosts =
            log_selector = +all -arguments

            begin acl
            # Exim logs no line of its own for a host it leaves after a failed TLS session (it goes on
            # to the next host, or in clear to the same one): the transport's event_action writes one.
            tls_host_defer:
              warn logwrite = \(tlsHostDeferMarker) H=$host [$host_address]:$host_port: $event_data
              accept

            begin routers
            \(router)

            begin transports
            remote_smtp:
            \(transport.map { "  " + $0 }.joined(separator: "\n"))

            begin retry
            * * F,1h,1h

            """
    }
}

/// `sender.dkim` on the Exim sender: the smtp transport's `dkim_*` options (Exim's spec, chapter
/// "DKIM, ARC, DMARC": signing is done as the transport sends, the last thing before the wire).
/// Exim has one canonicalization for header and body (`dkim_canon`), and nothing changes the
/// message after it signed, so a mixed canonicalization and the `body-changed` and
/// `header-changed` breakages have no Exim equivalent. `expired` is a clock a day behind
/// (libfaketime), as for the Postfix sender's OpenDKIM.
public struct EximDKIMSigning: Sendable {
    /// `sender.dkim`, with the key the runner prepared: selector, canonicalization (its header
    /// half, which `EximSender.dkimReason` makes the body's too), `h=`, `expire_after`, `break`.
    public var dkim: DKIMSpec
    /// `d=` (`SenderSpec.dkimDomain`: `sender.dkim.domain`, else the From domain).
    public var domain: String

    public init(dkim: DKIMSpec, domain: String) {
        self.dkim = dkim
        self.domain = domain
    }

    /// Signed a day ago (`break: expired`).
    public var clockBehind: Bool { dkim.breakage == .expired }

    /// The private key, PEM (PKCS#8).
    public var keyPEM: String { dkim.key?.pem ?? "" }

    /// The transport options.
    public func transportOptions(keyPath: String) -> [String: String] {
        var options = [
            "dkim_domain": domain, "dkim_selector": dkim.selector, "dkim_private_key": keyPath,
            "dkim_canon": dkim.canonicalization.header.rawValue,
            "dkim_sign_headers": dkim.headers.joined(separator: " : "), "dkim_hash": "sha256", "dkim_strict": "true",
        ]
        let ttl = clockBehind ? (dkim.expireAfter ?? 3_600) : dkim.expireAfter
        if let ttl { options["dkim_timestamps"] = String(ttl) }
        return options
    }

    /// Why this signing cannot be done here, or nil.
    public func missingReason(faketime: String?) -> String? {
        if clockBehind, faketime == nil {
            return
                "sender.dkim.break: expired on the Exim sender needs libfaketime (apt-get install libfaketime, as scripts/lib.sh does)"
        }
        return nil
    }
}
