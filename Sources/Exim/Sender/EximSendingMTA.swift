import DNSCore
import Foundation
import Logging
import SMTPProtocol
import Sandbox
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
        if geteuid() != 0 { return "the Exim sender needs root (it runs in the case's namespace)" }
        if getpwnam("Debian-exim") == nil { return "the Exim sender needs the user Debian-exim (unpack_mtas exim creates it)" }
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

    public init(namespaceName: String, caseDirectory: String, resolverAddress: IPAddress, dnsTimeout: Duration = .seconds(2), logger: Logger) {
        self.namespaceName = namespaceName
        self.root = caseDirectory + "/exim-sender"
        self.resolverAddress = resolverAddress
        self.dnsTimeout = dnsTimeout
        self.logger = logger
    }

    /// What the namespace's resolv.conf says when this sender writes it.
    public var resolvConf: ResolvConf { ResolvConf(nameserver: resolverAddress, timeout: dnsTimeout) }

    public var mainLog: String { (try? String(contentsOfFile: root + "/log/mainlog", encoding: .utf8)) ?? "" }

    /// Writes the configuration, delivers `request`'s message and reports what the log says.
    public func deliver(_ request: DeliveryRequest, options: [String: String]) async throws -> DeliveryReport {
        let fm = FileManager.default
        do {
            for folder in [root, root + "/spool", root + "/log"] {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            }
            try Self.configuration(request, options: options, root: root).write(toFile: root + "/exim.conf", atomically: true, encoding: .utf8)
            // The remote transport runs as exim_user (root is on Exim's fixed_never_users list).
            if let user = getpwnam("Debian-exim") {
                for folder in [root + "/spool", root + "/log"] { chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) }
            }
        } catch {
            throw SenderMTAError("cannot write the Exim sender's files under \(root): \(error)")
        }
        let owned = try NamespaceResolvConf(namespaceName: namespaceName, resolvConf: resolvConf).ensure()
        lock.withLock { ownedEtc = owned }
        let message = String(decoding: request.message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let from = request.mailFrom.isEmpty ? "<>" : request.mailFrom
        var said = ""
        do {
            said = try await Command.run("/usr/sbin/ip", ["netns", "exec", namespaceName, Self.binary, "-C", root + "/exim.conf", "-odi", "-oi", "-f", from, "--"]
                                  + request.recipients, input: message)
        } catch let error as CommandError where error.status == 1 || error.status == 2 {
            // -odi: a failed or deferred delivery makes exim exit non-zero; the log has the story.
            logger.debug("exim exited non-zero", metadata: ["status": "\(error.status)"])
            said = error.output
        } catch {
            throw SenderMTAError("the Exim sender did not take the message: \(error)\n\(mainLog)")
        }
        let log = EximDeliveryLog(lines: mainLog.split(separator: "\n").map(String.init))
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

    /// The whole configuration: one dnslookup (or manualroute for `relay`) router, one smtp
    /// transport bound to the sender's addresses, no retry before the case is over.
    static func configuration(_ request: DeliveryRequest, options: [String: String], root: String) -> String {
        let hostname = DNSName.isValidHostname(request.helo) && request.helo.contains(".") ? request.helo : "sender.mxharness.test"
        let interfaces = [AddressFamily.ipv6, .ipv4].compactMap { request.sources[$0]?.description }.joined(separator: " ; ")
        var router = """
            dnslookup:
              driver = dnslookup
              transport = remote_smtp
              ignore_target_hosts = <; 0.0.0.0 ; 127.0.0.0/8 ; ::1\(request.sources[.ipv4] == nil ? " ; 0.0.0.0/0" : "")
              no_more
            """
        if case .host(let name) = request.relay {
            let host = name.hasPrefix("[") ? String(name.dropFirst().dropLast()) : name
            router = """
                relay:
                  driver = manualroute
                  transport = remote_smtp
                  route_list = * "<; \(host)" byname
                  no_more
                """
        }
        let seconds = { (d: Duration) in "\(max(1, Int(d.components.seconds)))s" }
        var transport = [
            "driver = smtp", "interface = <; \(interfaces)", "helo_data = \(request.helo)", "port = \(request.port)",
            "connect_timeout = \(seconds(request.connectTimeout))", "command_timeout = \(seconds(request.replyTimeout))",
            "data_timeout = \(seconds(request.replyTimeout))", "final_timeout = \(seconds(request.replyTimeout))",
            "hosts_avoid_tls = *", "hosts_try_chunking =", "hosts_try_fastopen =",
        ]
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
            keep_environment =
            disable_ipv6 = \(request.sources[.ipv6] == nil ? "true" : "false")
            tls_advertise_hosts =
            log_selector = +all -arguments

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
