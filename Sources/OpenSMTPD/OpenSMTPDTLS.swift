import DNSCore
import Runner
import SMTPProtocol

/// STARTTLS on an OpenSMTPD receiver (`receiver.tls`), smtpd.conf(5) of OpenSMTPD 7.4: each
/// certificate the world's authority issues is a `pki` (its chain file and key file, in the
/// case's folder, readable by root alone: the parent process loads them before it drops
/// privileges), and each `listen on` line names the `pki` of its address with `tls` (STARTTLS
/// offered) and the accepted versions as `protocols` (libtls's `tls_config_parse_protocols`
/// names). A receiver whose addresses present different certificates
/// (`receiver.tls.listeners`) needs nothing more: OpenSMTPD has a listener per address.
///
/// OpenSMTPD 7.4's libtls offers TLSv1.2 and TLSv1.3 only: it turns TLSv1 and TLSv1.1 off
/// whatever `protocols` says, and reads `tlsv1.0` and `tlsv1.1` as TLSv1.2 (openbsd-compat/libtls
/// tls.c `tls_configure_ssl`, tls_config.c `tls_config_parse_protocols`; seen here: `protocols
/// "tlsv1.0,tlsv1.1"` negotiated TLSv1.2). A receiver that should accept an older version is
/// skipped (`unsupportedReason`).
///
/// `required` is not `tls-require`, which answers a plaintext MAIL with `530 5.5.1 Invalid
/// command: Must issue a STARTTLS command first` (smtp_session.c, `smtp_check_mail_from`), where
/// Postfix's `encrypt` says `530 5.7.0 Must issue a STARTTLS command first` (smtpd.c), and no
/// built-in filter condition looks at TLS. It is a filter process (smtpd-filters(7), protocol
/// 0.7) first in every listener's chain: it follows each session's `link-tls` report and answers
/// MAIL FROM in a session without one with Postfix's reply.
public struct OpenSMTPDTLS: Sendable, Hashable {
    public var required: Bool
    /// The lowest and highest version accepted; nil leaves libtls's default.
    public var protocols: ClosedRange<TLSProtocolVersion>?
    /// The certificates, each with the addresses that present it.
    public var certificates: [Certificate]

    public typealias Certificate = ReceiverCertificate

    public init(required: Bool, protocols: ClosedRange<TLSProtocolVersion>?, certificates: [Certificate]) {
        self.required = required
        self.protocols = protocols
        self.certificates = certificates
    }

    /// Why OpenSMTPD cannot present what `receiver.tls` asks for; nil when it can.
    public var unsupportedReason: String? {
        guard let protocols, protocols.lowerBound < .tls12 else { return nil }
        let names = TLSProtocolVersion.allCases.filter { protocols.contains($0) }.map(\.rawValue)
        return
            "receiver.tls.protocols: OpenSMTPD's libtls offers TLSv1.2 and TLSv1.3 only (it reads tlsv1.0 and tlsv1.1 as TLSv1.2), not \(names.joined(separator: ", "))"
    }

    static let requiredFilterName = "mxh_tls_required"

    /// The filter of `required`, run by smtpd (`proc-exec`), talking on its standard input and
    /// output: registration after `config|ready`, then one line per event.
    static let requiredFilterScript = """
        #!/bin/sh
        # Written by mxharness: MAIL FROM in a session that has not negotiated TLS gets Postfix's
        # answer under smtpd_tls_security_level = encrypt (smtpd-filters(7), protocol 0.7).
        while IFS= read -r line; do [ "$line" = "config|ready" ] && break; done
        echo "register|report|smtp-in|link-tls"
        echo "register|report|smtp-in|link-disconnect"
        echo "register|filter|smtp-in|mail-from"
        echo "register|ready"
        secure=" "
        while IFS='|' read -r kind version time subsystem event session token rest; do
            case "$kind|$event" in
            "report|link-tls") secure="$secure$session " ;;
            "report|link-disconnect") secure=$(printf '%s' "$secure" | sed "s/ $session / /") ;;
            "filter|mail-from")
                case "$secure" in
                *" $session "*) echo "filter-result|$session|$token|proceed" ;;
                *) echo "filter-result|$session|$token|reject|530 5.7.0 Must issue a STARTTLS command first" ;;
                esac
                ;;
            esac
        done

        """

    /// The filter of `required`, before the chains that name it.
    func filterLines(script: String) -> [String] {
        required ? ["filter \"\(Self.requiredFilterName)\" proc-exec \"\(script)\""] : []
    }

    static func pkiName(_ index: Int) -> String { "mxh_pki_\(index)" }
    static func chainFile(_ index: Int, directory: String) -> String { directory + "/chain-\(index).pem" }
    static func keyFile(_ index: Int, directory: String) -> String { directory + "/key-\(index).pem" }

    /// The files to write into `directory`, by path.
    public func files(directory: String) -> [String: String] {
        var files: [String: String] = [:]
        for (index, certificate) in certificates.enumerated() {
            files[Self.chainFile(index, directory: directory)] = certificate.chainPEM
            files[Self.keyFile(index, directory: directory)] =
                certificate.keyPEM.hasSuffix("\n") ? certificate.keyPEM : certificate.keyPEM + "\n"
        }
        return files
    }

    /// The `pki` lines, before the listeners.
    func pkiLines(directory: String) -> [String] {
        certificates.indices.flatMap { index in
            [
                "pki \"\(Self.pkiName(index))\" cert \"\(Self.chainFile(index, directory: directory))\"",
                "pki \"\(Self.pkiName(index))\" key \"\(Self.keyFile(index, directory: directory))\"",
            ]
        }
    }

    /// What the `listen on` line of `address` adds: ` tls pki "mxh_pki_0" protocols "tlsv1.2,tlsv1.3"`.
    func listenOptions(for address: IPAddress) -> String {
        let index = certificates.firstIndex { $0.addresses.contains(address) } ?? 0
        var options = " tls pki \"\(Self.pkiName(index))\""
        if let protocols {
            let names = TLSProtocolVersion.allCases.filter { protocols.contains($0) }.map(Self.libTLSName)
            options += " protocols \"\(names.joined(separator: ","))\""
        }
        return options
    }

    static func libTLSName(_ version: TLSProtocolVersion) -> String {
        switch version {
        case .tls1: "tlsv1.0"
        case .tls11: "tlsv1.1"
        case .tls12: "tlsv1.2"
        case .tls13: "tlsv1.3"
        }
    }
}
