import Foundation

/// The preflight's reading of a rendered configuration, without running anything: every table
/// or file it names that does not exist, and settings that cannot work in a sealed world.
struct ReferenceCheck {
    typealias Finding = PostfixPreflightReport.Finding

    let rendered: RenderedPostfixConfiguration
    /// Where main.cf's parameters come from: the site's folder or the `--postfix-config` file.
    let mainLocation: (String) -> String
    /// Table types this Postfix has (`postconf -m`); nil when unknown.
    let availableTypes: Set<String>?
    /// Whether a path exists as the instance would see it (the site's /etc/postfix is the copy).
    let exists: (String) -> Bool

    /// Parameters an unreadable file of which breaks mail handling (lists, tables, restrictions);
    /// a missing TLS file only turns TLS off ("cannot get RSA certificate ... disabling TLS support").
    static func isTLS(_ name: String) -> Bool { name.contains("tls") }

    /// Parameters only delivery agents read (local(8), smtp(8), lmtp(8), virtual(8)): a case
    /// observes smtpd's replies, which they do not change.
    static func isDeliveryOnly(_ name: String) -> Bool {
        if name.hasPrefix("smtp_") || name.hasPrefix("lmtp_") { return true }
        return [
            "alias_maps", "virtual_uid_maps", "virtual_gid_maps", "mailbox_command_maps", "forward_path",
            "allow_mail_to_files",
        ].contains(name)
    }

    func findings() -> [Finding] {
        var found: [Finding] = []
        let parameters = rendered.parameters
        func location(_ name: String) -> String {
            parameters[name] != nil ? mainLocation(name) : "master.cf (-o \(name))"
        }
        var seen: Set<String> = []
        for reference in PostfixReferences.scan(rendered.allParameters)
        where seen.insert(reference.parameter + "\u{0}" + reference.token).inserted {
            if isHarnessMilter(reference) { continue }
            let at = location(reference.parameter)
            let head = "\(reference.parameter) names \(reference.token)"
            switch reference.kind {
            case .indexedTable(let type):
                if let availableTypes, !availableTypes.contains(type) {
                    found.append(
                        Finding(
                            .error, at: at, "\(head): table type \(type) is not available in this Postfix (postconf -m)"
                        ))
                } else if reference.path.hasPrefix("/etc/postfix/") {
                    if !exists(reference.path) {
                        found.append(
                            Finding(
                                .error, at: at,
                                "\(head), which is not in the configuration directory (postmap has no source to compile): lookups fail with 451 4.3.0 Temporary lookup failure"
                            ))
                    }
                } else if !exists(reference.path + Self.compiledSuffix(type)) {
                    found.append(
                        Finding(
                            .error, at: at,
                            "\(head): \(reference.path)\(Self.compiledSuffix(type)) does not exist on this machine (the harness compiles only tables inside the configuration directory): lookups fail with 451 4.3.0 Temporary lookup failure"
                        ))
                }
            case .fileTable(let type):
                if let availableTypes, !availableTypes.contains(type) {
                    found.append(
                        Finding(
                            .error, at: at,
                            "\(head): table type \(type) is not available in this Postfix (postconf -m; install postfix-\(type))"
                        ))
                } else if !exists(reference.path) {
                    found.append(
                        Finding(
                            .error, at: at,
                            "\(head), which does not exist: lookups fail with 451 4.3.0 Temporary lookup failure"))
                }
            case .serverTable(let type):
                if let availableTypes, !availableTypes.contains(type) {
                    found.append(
                        Finding(
                            .error, at: at, "\(head): table type \(type) is not available in this Postfix (postconf -m)"
                        ))
                } else if type == "sqlite" {
                    if !exists(reference.path) {
                        found.append(Finding(.error, at: at, "\(head), which does not exist"))
                    }
                } else {
                    found.append(
                        Finding(
                            .error, at: at,
                            "\(head): a \(type) table needs its server, which the sealed world does not have: lookups fail with 451 4.3.0 Temporary lookup failure"
                        ))
                }
            case .endpoint(let type):
                found.append(endpoint(reference, type: type, at: at, head: head))
            case .file:
                if !exists(reference.path) {
                    found.append(
                        Self.isTLS(reference.parameter)
                            ? Finding(.warning, at: at, "\(head), which does not exist: smtpd serves without TLS")
                            : Finding(
                                .error, at: at,
                                "\(head), which does not exist: \(reference.parameter) cannot be read (451 4.3.0 Temporary lookup failure or a fatal error of the daemon)"
                            ))
                }
            }
        }
        if let relayhost = parameters["relayhost"], !relayhost.trimmingWhitespace().isEmpty {
            found.append(
                Finding(
                    .warning, at: mainLocation("relayhost"),
                    "relayhost = \(relayhost): the sealed world has no relay host; accepted mail stays queued (the SMTP replies are not affected)"
                ))
        }
        if let filter = parameters["content_filter"], !filter.trimmingWhitespace().isEmpty {
            found.append(
                Finding(
                    .warning, at: mainLocation("content_filter"),
                    "content_filter = \(filter): the filter is not in the sealed world; accepted mail stays queued (the SMTP replies are not affected)"
                ))
        }
        found += sasl()
        found += proxyProtocol()
        return found.map { finding in
            guard finding.severity == .error, let name = finding.message.split(separator: " ").first.map(String.init),
                Self.isDeliveryOnly(name)
            else { return finding }
            let cause = finding.message.components(separatedBy: ": lookups fail with")[0]
            return Finding(
                .warning, at: finding.location,
                cause + ": only delivery reads \(name), so the case's SMTP replies do not depend on it")
        }
    }

    /// The milters the harness itself starts for a policy with DKIM or DMARC checks
    /// (`MilterConfiguration`): smtpd_milters is exactly theirs, and they run in the sealed world.
    func isHarnessMilter(_ reference: PostfixReference) -> Bool {
        let harness = MilterConfiguration.mainCF["smtpd_milters"]
        return reference.parameter == "smtpd_milters" && rendered.parameters["smtpd_milters"] == harness
    }

    func endpoint(_ reference: PostfixReference, type: String, at: String, head: String) -> Finding {
        let name = reference.parameter
        let socketThere = type == "unix" && reference.path.hasPrefix("/") && exists(reference.path)
        if name.hasSuffix("milters") {
            let action = rendered.parameters["milter_default_action"]?.trimmingWhitespace() ?? "tempfail"
            if socketThere {
                return Finding(
                    .warning, at: at, "\(head): a milter of this machine answers, not one of the sealed world")
            }
            let what = "the milter is not in the sealed world and milter_default_action = \(action)"
            switch action {
            case "accept": return Finding(.warning, at: at, "\(head): \(what): messages pass without it")
            case "reject": return Finding(.error, at: at, "\(head): \(what): every message gets 550 5.7.1")
            case "quarantine":
                return Finding(.warning, at: at, "\(head): \(what): messages are accepted and put on hold")
            default: return Finding(.error, at: at, "\(head): \(what): every message gets 451 4.7.1")
            }
        }
        if socketThere {
            return Finding(.warning, at: at, "\(head): a server of this machine answers, not one of the sealed world")
        }
        if reference.token.contains("check_policy_service")
            || rendered.allParameters.contains(where: {
                $0.name == name && $0.value.contains("check_policy_service " + reference.token)
            })
        {
            return Finding(
                .error, at: at,
                "\(head): the policy service is not in the sealed world: every check that asks it answers 451 4.3.5 Server configuration problem"
            )
        }
        return Finding(
            .error, at: at,
            "\(head): the \(type) server is not in the sealed world: lookups fail with 451 4.3.0 Temporary lookup failure"
        )
    }

    /// smtpd with SASL on and a Dovecot socket that is not there exits at the first connection
    /// ("fatal: no SASL authentication mechanisms", xsasl_dovecot_server.c).
    func sasl() -> [Finding] {
        var enabled = rendered.parameters["smtpd_sasl_auth_enable"]?.trimmingWhitespace() == "yes"
        var setAt = mainLocation("smtpd_sasl_auth_enable")
        for (name, value) in PostfixReferences.masterOptions(rendered.siteMaster?.text ?? "")
        where name == "smtpd_sasl_auth_enable" {
            enabled = value == "yes"
            setAt = "master.cf (-o smtpd_sasl_auth_enable=\(value) on the port-25 service)"
        }
        guard enabled else { return [] }
        let type = rendered.parameters["smtpd_sasl_type"]?.trimmingWhitespace() ?? "cyrus"
        let path = rendered.parameters["smtpd_sasl_path"]?.trimmingWhitespace() ?? "smtpd"
        guard type == "dovecot" else {
            return [
                Finding(
                    .warning, at: setAt,
                    "smtpd_sasl_auth_enable = yes with smtpd_sasl_type = \(type): the SASL server of the site is not in the sealed world; AUTH is not offered as the site offers it"
                )
            ]
        }
        if path.hasPrefix("/"), exists(path) {
            return [
                Finding(
                    .warning, at: setAt,
                    "smtpd_sasl_auth_enable = yes: \(path) is a Dovecot of this machine, not of the sealed world")
            ]
        }
        return [
            Finding(
                .error, at: setAt,
                "smtpd_sasl_auth_enable = yes with the Dovecot socket \(path), which is not in the sealed world: smtpd exits at the first connection (fatal: no SASL authentication mechanisms)"
            )
        ]
    }

    /// A site whose port 25 expects a PROXY header of its own accord (its main.cf or master.cf sets
    /// `postscreen_upstream_proxy_protocol` with postscreen in front, `smtpd_upstream_proxy_protocol`
    /// without): honoured as written, so only cases that send the header (`sender.identity:
    /// proxy-v1`/`proxy-v2`) get past the greeting; smtpd hangs up on the others with 421 4.3.0
    /// after the timeout (smtpd_peer_from_proxy() in src/smtpd/smtpd_peer.c). smtpd behind
    /// postscreen ignores its own setting ("ignoring non-empty smtpd_upstream_proxy_protocol
    /// setting behind postscreen"), and a protocol other than `haproxy` is fatal for the daemon.
    func proxyProtocol() -> [Finding] {
        let masterOptions = PostfixReferences.masterOptions(rendered.siteMaster?.text ?? "")
        func setting(_ name: String) -> (value: String, at: String)? {
            if let option = masterOptions.last(where: { $0.name == name }) {
                return (option.value.trimmingWhitespace(), "master.cf (-o \(name)=\(option.value))")
            }
            guard let value = rendered.parameters[name]?.trimmingWhitespace() else { return nil }
            return (value, mainLocation(name))
        }
        let (name, other) =
            rendered.runsPostscreen
            ? ("postscreen_upstream_proxy_protocol", "smtpd_upstream_proxy_protocol")
            : ("smtpd_upstream_proxy_protocol", "postscreen_upstream_proxy_protocol")
        var found: [Finding] = []
        if let ignored = setting(other), !ignored.value.isEmpty {
            let why = rendered.runsPostscreen ? "smtpd behind postscreen ignores it" : "postscreen does not run"
            found.append(
                Finding(.warning, at: ignored.at, "\(other) = \(ignored.value): \(why); port 25 takes \(name)"))
        }
        guard let expected = setting(name), !expected.value.isEmpty else { return found }
        guard expected.value == "haproxy" else {
            found.append(
                Finding(
                    .error, at: expected.at,
                    "\(name) = \(expected.value): this Postfix knows only haproxy (fatal: unsupported \(name) value)"))
            return found
        }
        found.append(
            Finding(
                .warning, at: expected.at,
                "\(name) = haproxy: port 25 expects a PROXY header; only cases with sender.identity proxy-v1 or proxy-v2 get past the greeting, the others get 421 4.3.0 after the timeout"
            ))
        return found
    }

    static func compiledSuffix(_ type: String) -> String {
        switch type {
        case "lmdb": ".lmdb"
        case "cdb": ".cdb"
        case "dbm", "sdbm": ".pag"
        default: ".db"
        }
    }
}
