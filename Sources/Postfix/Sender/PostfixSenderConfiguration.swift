import DNSCore
import Delivery

/// The files of a Postfix that only sends: main.cf from the scenario's sender, master.cf from the
/// installed one with no listening service.
public enum PostfixSenderConfiguration {
    /// Where the instance keeps its things, under the case folder.
    public struct Paths: Sendable, Hashable {
        public var root: String
        public var configDirectory: String { root + "/etc" }
        public var queueDirectory: String { root + "/queue" }
        public var dataDirectory: String { root + "/data" }
        public var logFile: String { root + "/maillog" }
        /// The signing milter's files when the sender signs (`DKIMSigning`: OpenDKIM or dkimpy-milter).
        public var signerDirectory: String { root + "/dkim-signer" }
        /// The world's authority, `smtp_tls_CAfile` (written when `sender.tls` is above `none`).
        public var authorityFile: String { root + "/world-ca.pem" }

        public init(root: String) {
            self.root = root
        }
    }

    /// Settings the harness owns: `sender.postfix` cannot change them (they place the instance in
    /// the case's folder and namespace).
    public static let ownedSettings: Set<String> = [
        "queue_directory", "data_directory", "maillog_file", "maillog_file_prefixes", "inet_interfaces",
        "inet_protocols", "smtp_bind_address", "smtp_bind_address6", "debug_peer_list", "debug_peer_level",
    ]

    /// main.cf: `sender.addresses` as the bind addresses, `sender.helo`, `sender.prefer` as
    /// `smtp_address_preference`, equal-preference MX hosts in DNS order
    /// (`smtp_randomize_addresses = no`, so runs repeat), DNS only, retries far off (the outcome is
    /// read after one queue run), then `settings` (`sender.postfix`) on top.
    public static func mainCF(
        _ request: DeliveryRequest, settings: [String: String], paths: Paths, signing: DKIMSigning? = nil
    ) -> String {
        var main = MainCF()
        main["compatibility_level"] = "3.6"
        main["queue_directory"] = paths.queueDirectory
        main["data_directory"] = paths.dataDirectory
        main["maillog_file"] = paths.logFile
        // postlogd(8) writes maillog_file only under one of maillog_file_prefixes.
        main["maillog_file_prefixes"] = paths.root
        // Postfix takes the addresses of inet_interfaces as its own when it looks for mail loops
        // (smtp_addr.c smtp_find_self): only loopback, so a receiver in the same namespace is not
        // "myself".
        main["inet_interfaces"] = "loopback-only"
        // A family the sender has no address of is off, as in the model: without a bind address
        // Postfix would connect from any address of the namespace (the receiver's).
        let families = [AddressFamily.ipv4, .ipv6].filter { request.sources[$0] != nil }
        main["inet_protocols"] = families.count == 2 ? "all" : families.first?.rawValue ?? "all"
        main["myhostname"] =
            DNSName.isValidHostname(request.helo) && request.helo.contains(".") ? request.helo : "sender.mxharness.test"
        main["mydestination"] = ""
        main["local_transport"] = "discard:local delivery is off in the harness"
        main["alias_maps"] = ""
        main["alias_database"] = ""
        main["mynetworks"] = "127.0.0.0/8"
        main["append_dot_mydomain"] = "no"
        main["biff"] = "no"
        main["smtputf8_enable"] = "no"
        main["notify_classes"] = ""
        main["delay_warning_time"] = "0"
        main["smtp_tls_security_level"] = "none"
        if let tls = request.tls, tls.level != .none {
            // postconf(5): the level by its own name; the world's authority as the one trusted (no
            // CApath, no system store); the default name checks, `smtp_tls_verify_cert_match =
            // hostname` and `smtp_tls_secure_cert_match = nexthop, dot-nexthop`, left alone;
            // loglevel 1, or Postfix logs no "... TLS connection established" line at all.
            main["smtp_tls_security_level"] = tls.level.rawValue
            main["smtp_tls_CAfile"] = paths.authorityFile
            main["smtp_tls_CApath"] = ""
            main["smtp_tls_loglevel"] = "1"
            main["smtp_starttls_timeout"] = "\(seconds(tls.handshakeTimeout))s"
            if tls.level == .dane {
                // smtp_tls_policy.c dane_init: DANE needs DNSSEC lookups, else it is `may`. The
                // probe asks the world's signed root (the default `ns:.` too, said explicitly): a
                // failed probe only logs "DNSSEC validation may be unavailable".
                main["smtp_dns_support_level"] = "dnssec"
                main["dnssec_probe"] = "ns:."
            }
        }
        main["smtp_host_lookup"] = "dns"
        main["smtp_randomize_addresses"] = "no"
        main["smtp_address_preference"] = request.prefer.rawValue
        main["smtp_mx_session_limit"] = "\(request.limits.sessionLimit)"
        main["smtp_mx_address_limit"] = "\(request.limits.addressLimit)"
        main["smtp_skip_5xx_greeting"] = request.limits.skip5xxGreeting ? "yes" : "no"
        main["smtp_helo_name"] = request.helo
        // smtp(8) logs a HELO refused with 5xx in the words of a refused greeting ("refused to talk
        // to me", smtp_proto.c smtp_helo()); with verbose logging for every server (debug_peer_list,
        // checked when the session is made, smtp_session.c) it also logs each command and reply
        // ("> host[addr]:25: EHLO ...", smtp_chat.c), which tells the two apart.
        main["debug_peer_list"] = "0.0.0.0/0, [::]/0"
        main["debug_peer_level"] = "1"
        if let v4 = request.sources[.ipv4] { main["smtp_bind_address"] = v4.description }
        if let v6 = request.sources[.ipv6] { main["smtp_bind_address6"] = v6.description }
        switch request.relay {
        case .mx: break
        case .host(let name): main["relayhost"] = name.hasPrefix("[") ? name : "[\(name)]"
        }
        if request.port != 25 { main["smtp_tcp_port"] = "\(request.port)" }
        main["smtp_connect_timeout"] = "\(seconds(request.connectTimeout))s"
        for name in [
            "smtp_helo_timeout", "smtp_mail_timeout", "smtp_rcpt_timeout", "smtp_data_init_timeout",
            "smtp_data_done_timeout",
        ] {
            main[name] = "\(seconds(request.replyTimeout))s"
        }
        // One delivery per queue run: the next try would come after these.
        main["minimal_backoff_time"] = "1h"
        main["maximal_backoff_time"] = "2h"
        main["queue_run_delay"] = "1h"
        if let signing {
            for (name, value) in signing.mainCF(directory: paths.signerDirectory) { main[name] = value }
        }
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) where !ownedSettings.contains(name) {
            main[name] = value
        }
        return main.render(
            header: "Written by mxharness: a Postfix that sends the scenario's message and nothing else.")
    }

    /// The PEM of the authorities `request` trusts, the file `smtp_tls_CAfile` names; nil without TLS.
    public static func authorityPEM(_ request: DeliveryRequest) -> String? {
        guard let tls = request.tls, tls.level != .none else { return nil }
        return tls.trustAnchorsPEM
    }

    /// The installed master.cf without its `inet` services (nothing listens) and with the chroot
    /// column set to `n`, so that smtp(8) resolves through the namespace's resolv.conf.
    public static func masterCF(stock: String) -> String {
        var out = "# Written by mxharness from the installed master.cf: no listening service, no chroot.\n"
        var skipping = false
        for rawLine in stock.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") || line.first == " " || line.first == "\t" {
                if !skipping { out += line + "\n" }
                continue
            }
            var fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 8 else {
                skipping = false
                out += line + "\n"
                continue
            }
            skipping = fields[1] == "inet"
            if skipping { continue }
            fields[4] = "n"
            out += fields.joined(separator: " ") + "\n"
        }
        return out
    }

    static func seconds(_ duration: Duration) -> Int {
        max(1, Int(duration.components.seconds) + (duration.components.attoseconds > 0 ? 1 : 0))
    }
}
