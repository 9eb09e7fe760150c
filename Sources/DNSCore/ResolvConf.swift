/// The resolv.conf a real MTA in a case's namespace reads: the world's unbound as its only
/// name server, and how long the stub resolver waits for an answer.
///
/// glibc's stub resolver (Postfix, Exim) takes `timeout:` in whole seconds and waits one at
/// least (res_send.c `send_dg`: `seconds = statp->retrans`, never below 1), so a run's resolver
/// timeout is rounded up, to 1 at least. Exim keeps these values unless its own `dns_retrans`
/// and `dns_retry` are set (they are not). OpenSMTPD's resolver, libasr, reads no `timeout:`
/// or `attempts:` (asr.c `pass0` knows `tcp` and `ndots:` only; `asr_ctx_create` fixes 5 s and
/// 4 tries), so it waits its own way whatever is written here.
///
/// `trust-ad` (glibc 2.31+, resolv.conf(5)) keeps the AD bit of the name server's answers: without
/// it glibc clears AD, and Exim's `$sender_host_dnssec` and `dnssec_require_domains` see nothing as
/// authenticated. Postfix sets RES_TRUSTAD itself for `smtp_dns_support_level = dnssec`
/// (src/dns/dns_lookup.c). The world's name servers are the only ones named, so trusting them is
/// right; a server that does not validate never sets AD.
///
/// `search .` makes the search list the root alone. With none written, glibc takes the domain of
/// the machine's host name as the search list (res_init.c, the fallback after reading the file),
/// and so does OpenSMTPD's libasr (asr.c): on a host named `mx1.site.example` a real MTA would
/// retry a failed lookup of `NAME` as `NAME.site.example`, a name outside the case's world whose
/// NXDOMAIN replaces the world's answer (a bogus or failing forward zone then reads as no name at
/// all). With the root as the list, a failed lookup is asked once more as `NAME.` (res_query.c
/// `__res_context_search` turns `.` into the root), which the world answers as before.
public struct ResolvConf: Sendable, Hashable {
    public var nameserver: String
    public var timeoutSeconds: Int
    public var attempts: Int

    public init(nameserver: String, timeoutSeconds: Int, attempts: Int = 1) {
        self.nameserver = nameserver
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    /// For a run whose resolver waits `timeout` (`--dns-timeout`).
    public init(nameserver: IPAddress, timeout: Duration, attempts: Int = 1) {
        self.init(
            nameserver: nameserver.description, timeoutSeconds: Self.timeoutSeconds(for: timeout), attempts: attempts)
    }

    /// `timeout:` for a resolver that waits `timeout`: whole seconds, rounded up, 1 at least.
    public static func timeoutSeconds(for timeout: Duration) -> Int {
        let (seconds, attoseconds) = timeout.components
        return max(1, Int(clamping: seconds) + (attoseconds > 0 ? 1 : 0))
    }

    public var text: String {
        "nameserver \(nameserver)\nsearch .\noptions timeout:\(timeoutSeconds) attempts:\(attempts) trust-ad\n"
    }
}
