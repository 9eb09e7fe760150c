import DNSCore
import Policy

/// Where one Postfix instance keeps its state, as seen by Postfix (absolute paths).
public struct PostfixPaths: Sendable, Hashable {
    public var queueDirectory: String
    public var dataDirectory: String
    public var logFile: String
    /// Lookup tables the configuration writes (the per-family cidr table).
    public var tableDirectory: String
    /// Where accepted mail is kept with `Delivery.maildir`.
    public var mailDirectory: String

    public init(
        queueDirectory: String, dataDirectory: String, logFile: String, tableDirectory: String, mailDirectory: String
    ) {
        self.queueDirectory = queueDirectory
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.tableDirectory = tableDirectory
        self.mailDirectory = mailDirectory
    }

    /// The layout under one folder (the case's): `queue/`, `data/`, `postfix.log`, `tables/`, `mail/`.
    public init(under directory: String) {
        self.init(
            queueDirectory: directory + "/queue", dataDirectory: directory + "/data",
            logFile: directory + "/postfix.log",
            tableDirectory: directory + "/tables", mailDirectory: directory + "/mail")
    }
}

/// What happens to mail the receiver accepts. Either way nothing leaves the instance.
public enum PostfixDelivery: Sendable, Hashable {
    /// Thrown away after queueing (discard(8)); the log still says `status=sent`.
    case discard
    /// Kept as one Maildir under `PostfixPaths.mailDirectory` by virtual(8), as user `uid`/`gid`
    /// (virtual(8) will not deliver as root or below virtual_minimum_uid).
    case maildir(uid: UInt32, gid: UInt32)
}

/// main.cf and the tables it names, ready to write.
public struct RenderedPostfixConfiguration: Sendable, Hashable {
    public var mainCF: String
    public var parameters: MainCF
    /// Lookup tables by absolute path.
    public var files: [String: String]
    /// Settings from the base or the scenario that the harness replaced, because it owns them
    /// (paths, listening addresses, hostname, logging; `max_use` for smtpd, see
    /// `MasterCF.smtpdOverrides`): `name (origin)`.
    public var overridden: [String]
    /// The site's configuration directory, when there is one: its master.cf made fit for the
    /// instance (nil: the installed master.cf with `MasterCF.render`) and its other files, copied
    /// as they are into the instance's configuration directory.
    public var site: PostfixSiteDirectory?
    public var siteMaster: SiteMasterCF?
    /// `-o` options of the port-25 smtpd beyond `MasterCF.smtpdOverrides` (the identity path,
    /// `PostfixIdentity.smtpdOptions`), for the installed master.cf; a site's master.cf has them
    /// (or postscreen's) in `siteMaster`.
    public var smtpdOptions: [String: String]
    /// master.cf entries of the services the configuration adds (policyd-spf), appended to the
    /// master.cf the instance runs, the site's or the installed one.
    public var services: [String]
    /// The port-25 smtpd services of the installed master.cf's rendering: one on every address
    /// unless the addresses present different certificates (`PostfixTLS.services`).
    public var smtpdServices: [MasterCF.Service]

    public init(
        mainCF: String, parameters: MainCF, files: [String: String], overridden: [String],
        site: PostfixSiteDirectory? = nil,
        siteMaster: SiteMasterCF? = nil, smtpdOptions: [String: String] = [:],
        smtpdServices: [MasterCF.Service] = [MasterCF.Service(name: "25")],
        services: [String] = []
    ) {
        self.services = services
        self.smtpdOptions = smtpdOptions
        self.smtpdServices = smtpdServices
        self.mainCF = mainCF
        self.parameters = parameters
        self.files = files
        self.overridden = overridden
        self.site = site
        self.siteMaster = siteMaster
    }

    /// The master.cf the instance runs: the site's made fit, or `stock` with `MasterCF.render`.
    public func masterCF(stock: String) -> String {
        let master = siteMaster?.text ?? MasterCF.render(stock: stock, options: smtpdOptions, services: smtpdServices)
        guard !services.isEmpty else { return master }
        return master + (master.hasSuffix("\n") ? "" : "\n") + "# Added by mxharness: the policy's engines.\n"
            + services.joined()
    }

    /// main.cf's parameters, then the `-o` options of the site's master.cf services.
    public var allParameters: [(name: String, value: String)] {
        parameters.parameters + (siteMaster.map { PostfixReferences.masterOptions($0.text) } ?? [])
    }

    /// postscreen(8) takes the connections on port 25 (the site's master.cf runs it).
    public var runsPostscreen: Bool { siteMaster?.runsPostscreen ?? false }
}

/// The Postfix configuration of one case: the receiver's name and addresses, the domains it
/// accepts mail for, its policy, the scenario's own `receiver.postfix` settings, and an optional
/// user main.cf as the base. Pure: rendering touches no file.
///
/// Layers, each on top of the previous one: the harness defaults, the base main.cf, the policy's
/// Postfix equivalent, the scenario's `receiver.postfix`, then what the harness owns (paths,
/// `inet_interfaces`, `inet_protocols`, `myhostname`, logging), which nothing overrides.
public struct PostfixConfiguration: Sendable, Hashable {
    public var hostname: String
    public var addresses: [IPAddress]
    /// Recipient domains accepted as final destination (mydestination).
    public var domains: [String]
    public var policy: ReceiverPolicy
    /// The scenario's `receiver.postfix`, applied on top of the policy.
    public var settings: [String: String]
    /// The user's main.cf (`--postfix-config`), the base under everything else.
    public var base: MainCF?
    /// A site's whole configuration directory (`--postfix-config-dir`, `receiver.postfix_dir`):
    /// its main.cf is the base (instead of `base`), its master.cf and files are the instance's.
    public var site: PostfixSiteDirectory?
    public var delivery: PostfixDelivery
    /// `smtpd_forbid_bare_newline` (`no`, `normalize`, `yes`, `reject`; a scenario's
    /// `receiver.bare_newline`), for every client: `smtpd_forbid_bare_newline_exclusions` is
    /// emptied (its default, `$mynetworks`, would exempt loopback). Above the base main.cf and
    /// the policy, below `receiver.postfix`.
    public var bareNewline: String
    /// How the receiver learns who the client is (`receiver.proxy_protocol`,
    /// `receiver.xclient_hosts`); see `PostfixIdentity`.
    public var identity: PostfixIdentity
    /// Where the engines the policy's checks need (policyd-spf) are, and their timing.
    public var engines = PostfixEngineSetup()
    /// rspamd as the last milter (`receiver.engines: [rspamd]`); nil: none.
    public var rspamd: PostfixRspamdEngine?
    /// STARTTLS with the world's certificates (`receiver.tls`); nil leaves TLS to the base or
    /// site configuration.
    public var tls: PostfixTLS?
    /// The sender's address per family, for a policy's `helo-matches` (`PolicyTranslation.heloMatchTable`).
    public var heloClients: [AddressFamily: IPAddress] = [:]
    /// The families in which the case's HELO name has an address record in the world.
    public var heloNameFamilies: Set<AddressFamily> = []
    /// The DKIM key records the world serves, for the decision milter (`MilterDecision.dkimResults`).
    public var worldKeyRecords = WorldKeyRecords()

    public init(
        hostname: String, addresses: [IPAddress], domains: [String], policy: ReceiverPolicy = .open,
        settings: [String: String] = [:], base: MainCF? = nil, site: PostfixSiteDirectory? = nil,
        delivery: PostfixDelivery = .discard,
        bareNewline: String = "normalize", identity: PostfixIdentity = PostfixIdentity(), tls: PostfixTLS? = nil
    ) {
        self.tls = tls
        self.site = site
        self.identity = identity
        self.bareNewline = bareNewline
        self.hostname = hostname
        self.addresses = addresses
        self.domains = domains
        self.policy = policy
        self.settings = settings
        self.base = base
        self.delivery = delivery
    }

    /// Parameters only the harness sets: what makes the instance private and observable.
    public static let harnessOwned: Set<String> = [
        "queue_directory", "data_directory", "maillog_file", "maillog_file_prefixes", "inet_interfaces",
        "inet_protocols",
        "myhostname", "multi_instance_enable", "multi_instance_directories",
    ]

    /// Where this machine's Postfix is installed and who runs it: a site's main.cf may name its
    /// own (`daemon_directory = /usr/libexec/postfix`), which would not exist here. Removed from a
    /// site's main.cf, so the installed Postfix's defaults apply.
    public static let installationOwned: Set<String> = [
        "config_directory", "daemon_directory", "command_directory", "shlib_directory", "meta_directory",
        "sendmail_path", "newaliases_path", "mailq_path", "mail_owner", "setgid_group",
        "html_directory", "manpage_directory", "readme_directory", "sample_directory", "import_environment",
    ]

    /// Why this configuration's policy cannot run on Postfix, or nil.
    public var unsupportedReason: String? {
        PolicyTranslation.unsupportedReason(
            policy, engines: engines, heloClients: heloClients, heloNameFamilies: heloNameFamilies)
    }

    public func render(paths: PostfixPaths) throws(PostfixConfigurationError) -> RenderedPostfixConfiguration {
        guard DNSName.isValidHostname(hostname), hostname.contains(".") else {
            throw .invalidReceiver(
                problem: "hostname `\(hostname)` is not a fully qualified host name, which Postfix needs as myhostname")
        }
        guard !addresses.isEmpty else {
            throw .invalidReceiver(problem: "no addresses: Postfix needs at least one for inet_interfaces")
        }
        for domain in domains where !DNSName.isValidHostname(domain) {
            throw .invalidReceiver(problem: "recipient domain `\(domain)` is not a domain name")
        }
        let policySettings: PostfixPolicySettings
        switch PolicyTranslation.settings(
            for: policy, tableDirectory: paths.tableDirectory, engines: engines, heloClients: heloClients,
            heloNameFamilies: heloNameFamilies)
        {
        case .success(let settings): policySettings = settings
        case .failure(let unsupported): throw .unsupported(unsupported)
        }

        var main = MainCF()
        var origin: [String: String] = [:]
        var overridden: [String] = []
        func apply(_ layer: MainCF, _ name: String) {
            for (key, value) in layer.parameters {
                main[key] = value
                origin[key] = name
            }
        }
        apply(defaults(paths: paths), "harness default")
        var siteMaster: SiteMasterCF?
        if let site {
            if let problem = site.problem { throw .invalidSite(path: site.path, problem: problem) }
            var siteMain = site.mainCF
            for key in site.mainCF.names where Self.harnessOwned.contains(key) || Self.installationOwned.contains(key) {
                overridden.append("\(key) (\(site.location(of: key)))")
                if Self.installationOwned.contains(key) { siteMain[key] = nil }
            }
            for key in site.mainCF.names where MasterCF.smtpdOverrides[key] != nil {
                overridden.append("\(key) for smtpd (\(site.location(of: key)))")
            }
            apply(siteMain, "site main.cf")
            if let master = site.masterCF {
                if let tls, tls.certificates.count > 1 {
                    throw .unsupported(
                        PostfixUnsupported(
                            reason:
                                "receiver.tls.listeners: a certificate per address needs one smtpd per address, which the harness writes into its own master.cf only, not into a site's (\(site.path)/master.cf)"
                        ))
                }
                let rendered = SiteMasterCF.render(
                    master, identity: identity, tls: tls.map { _ in PostfixTLS.siteSmtpdOptions(paths: paths) } ?? [:])
                guard rendered.smtpLine != nil else {
                    throw .invalidSite(
                        path: site.path,
                        problem:
                            "master.cf runs nothing on port 25 (no `smtp inet` service): the case has nothing to connect to"
                    )
                }
                for service in rendered.dropped {
                    overridden.append("\(site.path)/\(service) not started (the harness listens on port 25 only)")
                }
                overridden.append("chroot off for every master.cf service (\(site.path)/master.cf)")
                siteMaster = rendered
            }
        } else if let base {
            for key in base.names where Self.harnessOwned.contains(key) { overridden.append("\(key) (base main.cf)") }
            for key in base.names where MasterCF.smtpdOverrides[key] != nil {
                overridden.append("\(key) for smtpd (base main.cf)")
            }
            apply(base, "base main.cf")
        }
        var policyLayer = policySettings.parameters
        if let ours = policyLayer["header_checks"], let theirs = main["header_checks"]?.trimmingWhitespace(),
            !theirs.isEmpty
        {
            // The base's or site's own header checks stay, after the one that logs policyd-spf's field.
            policyLayer["header_checks"] = ours + ", " + theirs
        }
        apply(policyLayer, "policy \(policy.preset?.rawValue ?? "map")")
        if rspamd != nil {
            // After the policy's own milters: its checks answer first, then rspamd's scores.
            var layer = MainCF()
            let milters = (main["smtpd_milters"] ?? "").trimmingWhitespace()
            layer["smtpd_milters"] =
                milters.isEmpty ? PostfixRspamdEngine.milter : milters + ", " + PostfixRspamdEngine.milter
            layer["milter_default_action"] = "tempfail"
            layer["milter_protocol"] = "6"
            apply(layer, "receiver.engines: rspamd")
        }
        var bareNewlineLayer = MainCF()
        bareNewlineLayer["smtpd_forbid_bare_newline"] = bareNewline
        bareNewlineLayer["smtpd_forbid_bare_newline_exclusions"] = ""
        apply(bareNewlineLayer, "receiver.bare_newline")
        apply(identity.mainCF, "receiver.xclient_hosts")
        if let tls {
            for name in PostfixTLS.certificateParameters
            where !(main[name] ?? "").isEmpty && origin[name] != "harness default" {
                overridden.append(
                    "\(name) = \(main[name] ?? "") (\(origin[name] ?? "")): the world's certificate instead")
            }
            apply(tls.mainCF(paths: paths), "receiver.tls")
        }
        var scenario = MainCF()
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            guard MainCF.isValidName(key) else {
                throw .invalidSetting(
                    name: key, origin: "receiver.postfix", problem: "not a parameter name (letters, digits and _)")
            }
            guard !value.contains("\n"), !value.contains("\r") else {
                throw .invalidSetting(name: key, origin: "receiver.postfix", problem: "a value must be one line")
            }
            if Self.harnessOwned.contains(key) { overridden.append("\(key) (receiver.postfix)") }
            if MasterCF.smtpdOverrides[key] != nil { overridden.append("\(key) for smtpd (receiver.postfix)") }
            scenario[key] = value
        }
        apply(scenario, "receiver.postfix")
        apply(owned(paths: paths), "harness (not overridable)")

        let comments = Dictionary(uniqueKeysWithValues: main.names.map { ($0, origin[$0] ?? "") })
        let text = main.render(
            comments: comments, header: "Written by mxharness for receiver \(hostname); do not edit.")
        return RenderedPostfixConfiguration(
            mainCF: text, parameters: main, files: policySettings.files.merging(tls?.files(paths: paths) ?? [:]) { $1 },
            overridden: overridden,
            site: site, siteMaster: siteMaster, smtpdOptions: siteMaster == nil ? identity.smtpdOptions : [:],
            smtpdServices: siteMaster == nil
                ? tls?.services(paths: paths) ?? [MasterCF.Service(name: "25")] : [MasterCF.Service(name: "25")],
            services: policySettings.services)
    }

    /// Harness defaults: a receiver that accepts mail for `domains`, delivers it nowhere outside,
    /// and looks names up only in DNS (the world's unbound, through resolv.conf).
    func defaults(paths: PostfixPaths) -> MainCF {
        var main = MainCF()
        main["compatibility_level"] = "3.6"
        main["smtpd_banner"] = "$myhostname ESMTP"
        main["biff"] = "no"
        main["smtputf8_enable"] = "no"
        main["append_dot_mydomain"] = "no"
        main["mydestination"] = (["$myhostname", "localhost"] + domains.map { DNSName.normalize($0) }).joined(
            separator: ", ")
        // Any recipient of those domains is accepted (postconf(5) local_recipient_maps: empty
        // turns recipient validation off).
        main["local_recipient_maps"] = ""
        main["alias_maps"] = ""
        main["alias_database"] = ""
        main["relay_domains"] = ""
        // The sender's addresses sit on the same loopback link; mynetworks_style = host would
        // trust them. Only loopback is trusted.
        main["mynetworks"] = "127.0.0.0/8 [::1]/128"
        main["smtpd_delay_reject"] = "yes"
        main["disable_dns_lookups"] = "no"
        main["smtp_host_lookup"] = "dns"
        main["lmtp_host_lookup"] = "dns"
        main["smtpd_peername_lookup"] = "yes"
        main["mailbox_size_limit"] = "0"
        main["virtual_mailbox_limit"] = "0"
        // Nothing is relayed or bounced onwards: whatever is not local is discarded.
        main["default_transport"] = "discard:mxharness delivers nothing onwards"
        main["relay_transport"] = "discard:mxharness delivers nothing onwards"
        switch delivery {
        case .discard:
            main["local_transport"] = "discard:accepted by mxharness"
        case .maildir(let uid, let gid):
            main["local_transport"] = "virtual"
            main["virtual_mailbox_base"] = paths.mailDirectory
            // One Maildir for every recipient (a trailing / means Maildir format, virtual(8)).
            main["virtual_mailbox_maps"] = "static:Maildir/"
            main["virtual_uid_maps"] = "static:\(uid)"
            main["virtual_gid_maps"] = "static:\(gid)"
        }
        return main
    }

    /// What the harness owns: private paths, the receiver's addresses and name, logging to a file.
    func owned(paths: PostfixPaths) -> MainCF {
        var main = MainCF()
        main["myhostname"] = DNSName.normalize(hostname)
        main["inet_interfaces"] = addresses.map { $0.family == .ipv6 ? "[\($0)]" : "\($0)" }.joined(separator: ", ")
        main["inet_protocols"] = "all"
        main["queue_directory"] = paths.queueDirectory
        main["data_directory"] = paths.dataDirectory
        // postlogd(8) writes maillog_file only under one of maillog_file_prefixes.
        main["maillog_file"] = paths.logFile
        main["maillog_file_prefixes"] = "/var, /dev/stdout, " + parentDirectory(paths.logFile)
        main["multi_instance_enable"] = "no"
        main["multi_instance_directories"] = ""
        return main
    }

    private func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
