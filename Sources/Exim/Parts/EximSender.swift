import DNSCore
import Delivery
import Runner
import Scenario

/// `sender.mta: exim`: Exim 4 from Debian's packages (unpacked, not installed) sends the scenario's
/// message from the case's namespace (`EximSendingMTA`), `sender.exim` options on its transport.
public struct EximSenders: SenderKind {
    public var mta: SenderMTA { .exim }
    public var resolvesThroughNamespaceResolvConf: Bool { true }
    public var displayName: String { "Exim" }
    public var scenarioKeys: [ScenarioKey] { [EximTransportOptions.scenarioKey] }

    public init() {}

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = EximSendingMTA.unavailableReason() { return reason }
        if scenario.sender.tls == .secure {
            // tls_verify_cert_hostnames matches the certificate against the MX host name only.
            return
                "sender.tls: secure matches the certificate against the recipient domain (Postfix's smtp_tls_secure_cert_match = nexthop, dot-nexthop); Exim checks the MX host name only (tls_verify_cert_hostnames)"
        }
        if let reason = Self.halfDANEReason(scenario) ?? Self.sharedAddressReason(scenario)
            ?? Self.daneTANameReason(scenario)
        {
            return reason
        }
        if scenario.sender.message?.raw != nil { return rawMessageReason("Exim") }
        if let reason = Self.dkimReason(scenario) { return reason }
        // Exim tries a host's IPv6 addresses first and has no setting to prefer IPv4 (short of
        // not looking AAAA up at all, dns_ipv4_lookup).
        if scenario.sender.prefer == .ipv4, scenario.sender.addresses.count == 2 {
            return "Exim cannot prefer IPv4 over IPv6 (sender.prefer: ipv4)"
        }
        // `sender.postfix`, read by the key's name (the delivery model owns the key).
        let postfix = scenario.sender.settings("postfix", as: SettingsMap.self)?.values ?? [:]
        if !postfix.isEmpty,
            !postfix.keys.allSatisfy({
                $0 == "smtp_address_preference" && postfix[$0] == "ipv6"
            })
        {
            return
                "sender.postfix settings (\(postfix.keys.sorted().joined(separator: ", "))) have no Exim equivalent here"
        }
        return nil
    }

    public func unavailableReason(settings: RunConfiguration) -> String? {
        EximSendingMTA.unavailableReason()
    }

    public func makeSender(for scenario: ScenarioCase, settings: RunConfiguration) -> any Sender {
        // The message goes in unsigned: the transport signs it as it sends.
        var unsigned = scenario.sender
        unsigned.dkim = nil
        return MTASender<EximSendingMTA>(
            request: DeliveryRequest(
                unsigned, connectTimeout: settings.connectTimeout, replyTimeout: settings.replyTimeout),
            settings: EximSenderSettings(options: scenario.sender.exim, signing: Self.signing(for: scenario)),
            tls: (scenario.sender.tls, settings.authority))
    }

    /// The recipient domain's MX hosts (`sender.relay: mx`), with their addresses, as the
    /// scenario's records have them.
    static func mxHosts(_ scenario: ScenarioCase) -> (domain: String, hosts: [(name: String, addresses: [IPAddress])])?
    {
        guard case .mx = scenario.sender.relay, let recipient = scenario.sender.rcptTo.first,
            let at = recipient.lastIndex(of: "@")
        else { return nil }
        let domain = DNSName.normalize(recipient[recipient.index(after: at)...])
        let records = scenario.dns.effectiveRecords
        let hosts = records.compactMap { record -> String? in
            guard DNSName.normalize(record.owner) == domain, case .mx(_, let exchange) = record.data else { return nil }
            return DNSName.normalize(exchange)
        }
        return (
            domain,
            hosts.map { host in
                (
                    host,
                    records.compactMap { record in
                        guard DNSName.normalize(record.owner) == host else { return nil }
                        switch record.data {
                        case .a(let address), .aaaa(let address): return address
                        default: return nil
                        }
                    }
                )
            }
        )
    }

    /// `sender.tls: dane` where the recipient domain's MX RRset is insecure (in a zone `dns.zones`
    /// declares `insecure`) and an MX host with TLSA records is not: Postfix uses DANE for that
    /// host ("half-dane", tls.h TLS_LEV_HALF_DANE; the model too), Exim does not. Exim keeps the MX
    /// lookup's insecurity on each host it names (host.c host_find_bydns: `dnssec = DS_NO`, which
    /// an address lookup only raises from DS_UNK) and tries DANE only for a host whose `dnssec` is
    /// DS_YES (transports/smtp.c): seen here, Exim delivered with `CV=yes` over a mismatching
    /// TLSA record where Postfix deferred with 4.7.5.
    static func halfDANEReason(_ scenario: ScenarioCase) -> String? {
        guard scenario.sender.tls == .dane, scenario.dns.isSigned, let mx = mxHosts(scenario) else { return nil }
        let insecure = scenario.dns.zones.filter { $0.state == .insecure }.map(\.name)
        let isInsecure = { (name: String) in insecure.contains { DNSName.isSubdomain(name, of: $0) } }
        guard isInsecure(mx.domain) else { return nil }
        let withTLSA = mx.hosts.map(\.name).filter { host in
            !isInsecure(host)
                && scenario.dns.effectiveRecords.contains {
                    $0.type == .tlsa && DNSName.isSubdomain($0.owner, of: "_tcp." + host)
                }
        }
        guard let host = withTLSA.first else { return nil }
        return
            "sender.tls: dane with an insecure MX RRset (\(mx.domain)) and a DNSSEC-secure MX host with TLSA records (\(host)): Postfix uses DANE there (half-dane), Exim only when the MX lookup was secure too (host.c keeps the MX lookup's DS_NO on the host; smtp.c tries DANE only for DS_YES)"
    }

    /// Two MX hosts of the recipient domain with one address: Exim tries the address once, for
    /// the first host (host.c host_remove_duplicates), where Postfix tries it for each host
    /// (smtp_addr.c appends each host's addresses, removing no duplicates across hosts). Seen
    /// with DANE: the first host's TLSA lookup failed, and Postfix delivered to the second host
    /// at the same address where Exim deferred.
    static func sharedAddressReason(_ scenario: ScenarioCase) -> String? {
        guard let mx = mxHosts(scenario) else { return nil }
        var owner: [IPAddress: String] = [:]
        for host in mx.hosts {
            for address in Set(host.addresses) {
                if let first = owner[address], first != host.name {
                    return
                        "MX hosts \(first) and \(host.name) share the address \(address): Exim tries it once (host.c host_remove_duplicates), Postfix once for each host"
                }
                owner[address] = owner[address] ?? host.name
            }
        }
        return nil
    }

    /// `sender.tls: dane` with a DANE-TA(2) record for an MX host whose certificate does not name
    /// it. Postfix defers (DANE-TA checks the name). Exim 4.96 with GnuTLS checks the name after
    /// the TLSA match and, when it fails, goes on to GnuTLS's ordinary chain check against
    /// `tls_verify_certificates` (tls-gnu.c verify_certificate, GNUTLS_BROKEN_DANE_VALIDATION:
    /// no `goto badcert`, `gnutls_certificate_verify_peers2`), which the world's authority passes:
    /// seen here, it delivered with `CV=yes` to a certificate for another host.
    static func daneTANameReason(_ scenario: ScenarioCase) -> String? {
        guard scenario.sender.tls == .dane, let mx = mxHosts(scenario) else { return nil }
        let tls = scenario.receiver.tls
        let hosts = mx.hosts.map(\.name).filter { host in
            scenario.dns.effectiveRecords.contains {
                guard case .tlsa(let usage, _, _, _) = $0.data else { return false }
                return usage == 2 && DNSName.isSubdomain($0.owner, of: "_tcp." + host)
            }
        }
        let named = { (names: [String]?, host: String) in
            (names ?? [scenario.receiver.hostname]).map(DNSName.normalize).contains(host)
        }
        let misnamed = hosts.first { host in
            tls.certificate == .wrongName || !named(tls.names, host)
                || tls.listeners.contains {
                    $0.certificate == .wrongName || ($0.names.map { !named($0, host) } ?? false)
                }
        }
        guard let host = misnamed else { return nil }
        return
            "sender.tls: dane with a DANE-TA record for \(host), whose certificate names another host: Postfix defers; Exim 4.96 (GnuTLS) falls back from the failed name check to the ordinary chain check (tls-gnu.c, GNUTLS_BROKEN_DANE_VALIDATION), which the world's authority passes, and delivers"
    }

    /// What of `sender.dkim` Exim cannot sign as written, or nil.
    static func dkimReason(_ scenario: ScenarioCase) -> String? {
        guard let dkim = scenario.sender.dkim else { return nil }
        if dkim.canonicalization.header != dkim.canonicalization.body {
            return
                "sender.dkim.canonicalization: \(dkim.canonicalization) has no Exim equivalent (dkim_canon sets header and body alike)"
        }
        switch dkim.breakage {
        case .bodyChanged, .headerChanged:
            return
                "sender.dkim.break: \(dkim.breakage!.rawValue) has no Exim equivalent (Exim signs as the transport sends; nothing changes the message after)"
        case .expired:
            // Seen (Exim 4.96 with libfaketime preloaded, FAKETIME=-1d): the signature's t= is
            // still today's, so the receiver finds it valid; EximDKIMSigning.clockBehind is kept
            // for a way that works.
            return
                "sender.dkim.break: expired is not reproduced by the Exim sender: Exim under libfaketime still signs with today's time"
        case .none:
            return nil
        }
    }

    /// `sender.dkim` as the transport's options (the key is the one the runner prepared).
    static func signing(for scenario: ScenarioCase) -> EximDKIMSigning? {
        let sender = scenario.sender
        guard let dkim = sender.dkim else { return nil }
        return EximDKIMSigning(dkim: dkim, domain: sender.dkimDomain(dkim))
    }
}

extension EximSendingMTA: SendingMTA {
    public static var artifactFiles: [String: String] {
        ["exim-sender/log/mainlog": "sender-exim-mainlog", "exim-sender/exim.conf": "sender-exim.conf"]
    }

    public func deliver(_ request: DeliveryRequest, settings: EximSenderSettings) async throws -> DeliveryReport {
        try await deliver(request, options: settings.options, signing: settings.signing)
    }
}

/// What a scenario sets on the Exim sender: `sender.exim` transport options, and `sender.dkim` as
/// its `dkim_*` options.
public struct EximSenderSettings: Sendable {
    public var options: [String: String]
    public var signing: EximDKIMSigning?

    public init(options: [String: String] = [:], signing: EximDKIMSigning? = nil) {
        self.options = options
        self.signing = signing
    }
}
