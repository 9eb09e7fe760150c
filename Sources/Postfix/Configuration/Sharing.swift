import Foundation

/// When one running Postfix may serve several cases one after another without changing any
/// result, and what identifies the instances that may.
///
/// What a running instance carries from one case to the next, and how each is handled:
/// - DNS: nothing. Postfix has no DNS cache (every lookup goes through the resolver library to
///   resolv.conf's 127.0.0.1, the unbound of the case being served), and that unbound is loaded
///   with each case's world, every cache of it flushed, before the case starts.
/// - smtpd's per-process caches: smtpd_check_init() in src/smtpd/smtpd_check.c creates the DNSBL
///   reply caches (`smtpd_rbl_cache`, `smtpd_rbl_byte_cache`) and the resolved-address cache with
///   the note "the cache persists across SMTP sessions", and an smtpd serves up to `max_use`
///   connections. The harness runs smtpd with `max_use = 1` (`MasterCF.smtpdOverrides`), so every
///   connection gets a process that has looked nothing up yet; a runner holding an instance
///   waits, after a case, until each smtpd that served it has exited.
/// - anvil(8): anvil_service_done() in src/anvil/anvil.c drops the connection counts of an smtpd
///   that goes away but does "not destroy remote client status information before it expires":
///   connection, message, recipient, TLS-session and AUTH rates stay for
///   `anvil_rate_time_unit`. A configuration that limits any of them is not shared.
///   (`smtpd_client_connection_count_limit` counts concurrent sessions only, which are back to
///   zero once the previous case's smtpd processes have exited.)
/// - verify(8): "maintains a record of what recipient addresses are known to be deliverable or
///   undeliverable" (src/verify/verify.c), in `address_verify_map` and in memory, for days. A
///   configuration that uses `reject_unverified_sender` or `reject_unverified_recipient` is not
///   shared.
/// - postscreen(8) keeps its client results in `postscreen_cache_map`. The harness's master.cf has
///   no postscreen, but a configuration that sets any `postscreen_` parameter is still not shared.
/// - A policy service (`check_policy_service`) may keep state of its own (greylisting), and a
///   `memcache:` table is a cache other daemons write: neither is shared. Nor are milters
///   (`smtpd_milters`): OpenDKIM's libunbound keeps the DNS answers of earlier cases. The
///   harness's own policyd-spf services (`PolicydSPFService`) are the exception: spawn(8) starts
///   one per smtpd connection, and with `max_use = 1` a connection is one session, so nothing it
///   looked up outlives the case.
public enum PostfixSharing {
    /// anvil(8) rates (postconf(5)); zero means no limit.
    public static let rateLimits = [
        "smtpd_client_connection_rate_limit", "smtpd_client_message_rate_limit", "smtpd_client_recipient_rate_limit",
        "smtpd_client_new_tls_session_rate_limit", "smtpd_client_auth_rate_limit",
    ]

    /// Why an instance with these main.cf parameters could answer a case differently after it
    /// served another one, or nil when it cannot.
    public static func refusal(_ parameters: MainCF, ownPolicyServices: Set<String> = []) -> String? {
        for name in rateLimits {
            if let value = parameters[name], value.trimmingWhitespace() != "0" {
                return "\(name) = \(value): anvil(8) keeps client rates for anvil_rate_time_unit, across cases"
            }
        }
        for (name, value) in parameters.parameters {
            if name.hasPrefix("postscreen_") {
                return "\(name) is set: postscreen(8) keeps client results in postscreen_cache_map, across cases"
            }
            let words = value.lowercased()
            for restriction in ["reject_unverified_sender", "reject_unverified_recipient"]
            where words.contains(restriction) {
                return "\(name) uses \(restriction): verify(8) keeps address verification results, across cases"
            }
            var others = words
            for service in ownPolicyServices {
                others = others.replacingOccurrences(of: "check_policy_service unix:private/\(service)", with: "")
            }
            if others.contains("check_policy_service") {
                return "\(name) uses check_policy_service: a policy service may keep state (greylisting) across cases"
            }
            if name.hasSuffix("_milters") && !words.trimmingWhitespace().isEmpty {
                return "\(name) is set: a milter may keep state across cases (OpenDKIM's resolver caches DNS answers)"
            }
            if words.contains("memcache:") {
                return "\(name) uses a memcache: table, a cache shared across cases"
            }
        }
        return nil
    }
}

extension PostfixConfiguration {
    /// Where a key is rendered: any fixed folder does, since every path the configuration names
    /// lies under it.
    static let sharingPaths = PostfixPaths(under: "/mxharness-shared")

    /// Why a running instance of this configuration must not serve other cases, or nil when it may
    /// (see `PostfixSharing`). A configuration that cannot be rendered is not shared either.
    public var sharingRefusal: String? {
        do {
            let rendered = try render(paths: Self.sharingPaths)
            if rendered.runsPostscreen {
                return
                    "the site's master.cf runs postscreen: postscreen(8) keeps client results in postscreen_cache_map, across cases"
            }
            return PostfixSharing.refusal(rendered.parameters, ownPolicyServices: rendered.policyServiceNames)
        } catch {
            return "the configuration cannot be rendered: \(error)"
        }
    }

    public var isShareable: Bool { sharingRefusal == nil }

    /// What identifies instances that behave the same: everything rendered (main.cf with the
    /// hostname and the listening addresses, every table, the master.cf changes), nil when the
    /// configuration is not shareable. Two configurations with the same key may share one instance.
    public var sharingKey: String? {
        guard let rendered = try? render(paths: Self.sharingPaths), !rendered.runsPostscreen,
            PostfixSharing.refusal(rendered.parameters, ownPolicyServices: rendered.policyServiceNames) == nil
        else {
            return nil
        }
        var key = rendered.mainCF
        for (path, contents) in rendered.files.sorted(by: { $0.key < $1.key }) {
            key += "\u{0}" + path + "\u{0}" + contents
        }
        // master.cf is the installed one with `MasterCF.render`'s changes, the same for every
        // instance of a machine; the changes are part of the key in case they ever vary.
        key +=
            "\u{0}master.cf\u{0}"
            + MasterCF.smtpdOverrides.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
        // The identity path's options of the port-25 smtpd (`PostfixIdentity`): a PROXY port and a
        // plain one answer the same client differently.
        key += "\u{0}smtpd\u{0}" + rendered.smtpdOptions.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
        // One smtpd per address when they present different certificates.
        key +=
            "\u{0}services\u{0}"
            + rendered.smtpdServices.map { "\($0.name) \($0.options.sorted { $0.key < $1.key })" }.joined(
                separator: ",")
        // The services the configuration adds to master.cf (policyd-spf).
        key += "\u{0}engines\u{0}" + rendered.services.joined()
        // A site's master.cf and every file of its folder.
        if let site = rendered.site {
            key += "\u{0}site\u{0}" + (rendered.siteMaster?.text ?? "")
            for (path, file) in site.files.sorted(by: { $0.key < $1.key }) {
                key += "\u{0}" + path + "\u{0}\(file.mode)\u{0}" + file.contents.base64EncodedString()
            }
        }
        return key
    }
}

extension RenderedPostfixConfiguration {
    /// The names of the policy services the harness adds (`services`), whose state is per session.
    var policyServiceNames: Set<String> {
        Set(services.compactMap { entry in entry.split(separator: " ", maxSplits: 1).first.map(String.init) })
    }
}
