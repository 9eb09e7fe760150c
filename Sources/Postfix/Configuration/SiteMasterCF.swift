/// A site's own master.cf made fit for a case's instance (`PostfixSiteDirectory`): the site's
/// services as written, except that
/// - of the `inet` services only the one on port 25 (`smtp` or `25`, with or without a host) is
///   kept, whether it runs smtpd or postscreen(8); submission, smtps and the like are dropped and
///   named in `dropped`;
/// - every smtpd that takes the case's connections (the port-25 one, or postscreen's `pass`
///   service) gets `MasterCF.smtpdOverrides` after the site's own `-o` options, so they win;
/// - the chroot column is `n` everywhere (a chroot would lack the world's resolv.conf);
/// - with `identity`'s proxy protocol, the port-25 service expects a PROXY header: `-o
///   smtpd_upstream_proxy_protocol` on an smtpd, `-o postscreen_upstream_proxy_protocol` on
///   postscreen (`PostfixIdentity`), after the site's own options; with its XCLIENT hosts, every
///   smtpd that takes the case's connections gets `-o smtpd_authorized_xclient_hosts` after the
///   site's own options too.
public struct SiteMasterCF: Sendable, Hashable {
    public var text: String
    /// `master.cf:LINE: NAME TYPE (COMMAND)` of every service not started.
    public var dropped: [String]
    /// postscreen(8) is in front of smtpd on port 25.
    public var runsPostscreen: Bool
    /// The line of the port-25 service, nil when master.cf has none.
    public var smtpLine: Int?

    /// `tls`: `-o` options of every smtpd that takes the case's connections, after the site's own
    /// (the world's certificate, `PostfixTLS.siteSmtpdOptions`).
    public static func render(
        _ source: String, identity: PostfixIdentity = PostfixIdentity(), tls: [String: String] = [:]
    ) -> SiteMasterCF {
        var out =
            "# Written by mxharness from the site's master.cf: port 25 only, no chroot, one connection per smtpd.\n"
        var dropped: [String] = []
        var runsPostscreen = false
        var smtpLine: Int?
        var skipping = false
        var pendingOptions: [String: String] = [:]
        func flushOverrides() {
            for (name, value) in pendingOptions.sorted(by: { $0.key < $1.key }) { out += "  -o \(name)=\(value)\n" }
            pendingOptions = [:]
        }
        var lineNumber = 0
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                if !skipping { out += line + "\n" }
                continue
            }
            if line.first == " " || line.first == "\t" {
                if !skipping { out += line + "\n" }
                continue
            }
            flushOverrides()
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 8 else {
                skipping = false
                out += line + "\n"
                continue
            }
            let (service, type, command) = (fields[0], fields[1], fields[7])
            if type == "inet" {
                let port = service.split(separator: ":").last.map(String.init) ?? service
                guard port == "smtp" || port == "25", smtpLine == nil else {
                    dropped.append("master.cf:\(lineNumber): \(service) inet (\(command))")
                    skipping = true
                    continue
                }
                smtpLine = lineNumber
                if command == "postscreen" {
                    runsPostscreen = true
                    pendingOptions = identity.postscreenOptions
                }
                if command == "smtpd" {
                    pendingOptions = identity.smtpdOptions.merging(identity.siteSmtpdOptions) { $1 }.merging(tls) { $1 }
                        .merging(MasterCF.smtpdOverrides) { $1 }
                }
            } else if type == "pass", command == "smtpd" {
                pendingOptions = identity.siteSmtpdOptions.merging(tls) { $1 }.merging(MasterCF.smtpdOverrides) { $1 }
            }
            skipping = false
            out += MasterCF.replacingField(4, of: line, with: "n") + "\n"
        }
        flushOverrides()
        return SiteMasterCF(text: out, dropped: dropped, runsPostscreen: runsPostscreen, smtpLine: smtpLine)
    }
}
