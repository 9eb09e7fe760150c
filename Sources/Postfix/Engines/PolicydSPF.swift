import Foundation
import Policy
import Sandbox

/// postfix-policyd-spf-python as the Postfix policy service that answers a policy's `spf` and
/// `spf-pass` checks (the engine `policyd-spf` of `receiver.engines`), as sites run it: a `spawn`
/// service in master.cf (one policyd-spf per smtpd connection, so nothing it caches outlives a
/// session), named in the restriction list with `check_policy_service`, and a configuration file
/// of the instance's own. Pure: rendering touches no file.
///
/// The check's rule becomes policyd-spf's options (policyd-spf.conf(5), spf_engine `_get_resultcodes`):
/// - `spf` (fails on fail and permerror): `Mail_From_reject = Fail`, `PermError_reject = True`;
///   `spf-pass` (fails unless pass): `Mail_From_reject = SPF_Not_Pass`, which rejects fail,
///   softfail and neutral, and accepts none (policyd-spf has no setting that rejects a domain
///   without a record).
/// - the null sender: `HELO_reject = Null`, the HELO identity decides only for `<>`, as the
///   format's "of HELO for <>" (a HELO fail rejects, softfail and neutral pass).
/// - a DNS error (temperror): `TempError_Defer = True`, `defer_if_permit 4.7.24` (smtpd answers
///   450 unless a later restriction rejects).
/// - `on_fail: defer` has no policyd-spf setting: the instance gets `soft_bounce = yes`, with which
///   smtpd turns every 5xx reject into 4xx, the enhanced code's class too (smtpd_check.c
///   `smtpd_check_reject`), as the format's defer does.
/// The replies are policyd-spf's own (`Reason_Message`, `550 5.7.23`, `550 5.7.24`), never the
/// format's texts.
public struct PolicydSPFService: Sendable, Hashable {
    /// Which rule the service answers.
    public enum Rule: String, Sendable, Hashable, CaseIterable {
        /// The `spf` check: fail and permerror are refused.
        case spf
        /// The `spf-pass` check: anything but pass (as far as policyd-spf goes) is refused.
        case spfPass

        /// The master.cf service name, `check_policy_service unix:private/NAME`.
        public var serviceName: String {
            switch self {
            case .spf: "policyd-spf"
            case .spfPass: "policyd-spf-pass"
            }
        }

        public init?(_ check: Check) {
            switch check {
            case .spf: self = .spf
            case .spfPass: self = .spfPass
            default: return nil
            }
        }
    }

    public var rule: Rule
    /// How long one SPF evaluation may take in all, in whole seconds (`Lookup_Time`): the run's
    /// DNS timeout, as the instance's resolv.conf has it, so that a lookup the world drops makes
    /// temperror as soon as Postfix's own lookups give up.
    public var lookupSeconds: Int
    public var installation: PolicydSPFInstallation

    public init(rule: Rule, lookupSeconds: Int, installation: PolicydSPFInstallation) {
        self.rule = rule
        self.lookupSeconds = lookupSeconds
        self.installation = installation
    }

    /// The restriction that asks it.
    public var restriction: String { "check_policy_service unix:private/\(rule.serviceName)" }

    /// The configuration file's name in the instance's table directory.
    public var configurationName: String { rule.serviceName + ".conf" }

    /// policyd-spf.conf(5), from Debian's own file (`/etc/postfix-policyd-spf-python/policyd-spf.conf`)
    /// with the rule's options.
    public var configuration: String {
        let mailFrom = rule == .spf ? "Fail" : "SPF_Not_Pass"
        return """
            # Written by mxharness: the policy's \(rule == .spf ? "spf" : "spf-pass") check, answered by policyd-spf.
            debugLevel = 1
            TestOnly = 1
            HELO_reject = Null
            Mail_From_reject = \(mailFrom)
            PermError_reject = True
            TempError_Defer = True
            Lookup_Time = \(lookupSeconds)
            skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1

            """
    }

    /// The master.cf entry (master(5), spawn(8)): `configurationPath` is where the file lies, as
    /// the instance sees it.
    public func masterEntry(configurationPath: String) -> String {
        var argv = [installation.executable, configurationPath]
        if let pythonPath = installation.pythonPath {
            // spawn(8) passes no environment of ours (import_environment); env(1) sets the one
            // variable, for this service only.
            argv = ["/usr/bin/env", "PYTHONPATH=\(pythonPath)"] + argv
        }
        return "\(rule.serviceName)  unix  -       n       n       -       0       spawn\n"
            + "    user=\(installation.user) argv=\(argv.joined(separator: " "))\n"
    }

    /// main.cf parameters the service needs: spawn(8) kills a child after `NAME_time_limit`
    /// (default `$command_time_limit`, 1000 s); a policy client lives as long as its smtpd session.
    public var mainCF: [(String, String)] { [("\(rule.serviceName)_time_limit", "3600")] }
}

/// Where policyd-spf and the DNS library it should use are on this machine.
public struct PolicydSPFInstallation: Sendable, Hashable {
    /// `/usr/bin/policyd-spf` (Debian's postfix-policyd-spf-python).
    public var executable: String
    /// The unprivileged user spawn(8) runs it as: `policyd-spf`, which the package creates.
    public var user: String
    /// A folder holding dnspython (Debian's python3-dnspython, unpacked by scripts/lib.sh, never
    /// installed), put on PYTHONPATH for the harness's policyd-spf only; nil: pyspf falls back to
    /// the python3-dns (pydns) that apt installs with it, which turns SERVFAIL and REFUSED into
    /// `None` instead of temperror (pydns ignores the rcode).
    public var pythonPath: String?

    public init(executable: String = "/usr/bin/policyd-spf", user: String = "policyd-spf", pythonPath: String? = nil) {
        self.executable = executable
        self.user = user
        self.pythonPath = pythonPath
    }

    /// This machine's: dnspython from `$MXHARNESS_MTA_DIR/dnspython` when it is unpacked there.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> PolicydSPFInstallation
    {
        let base = environment["MXHARNESS_MTA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/cache/mxharness/mta"
        let folder = base + "/dnspython/usr/lib/python3/dist-packages"
        let present = FileManager.default.fileExists(atPath: folder + "/dns/resolver.py")
        return PolicydSPFInstallation(pythonPath: present ? folder : nil)
    }

    /// Why the service cannot run here, or nil.
    public var missingReason: String? {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return
                "SPF checks on Postfix need postfix-policyd-spf-python (\(executable) is not installed; apt-get install postfix-policyd-spf-python, as scripts/lib.sh does)"
        }
        guard SystemAccounts.user(named: user) != nil else {
            return
                "policyd-spf runs as user \(user), which does not exist (the postfix-policyd-spf-python package creates it: reinstall it)"
        }
        return nil
    }
}

/// How the engines of a Postfix instance are set up on this machine: whether the case runs
/// policyd-spf (`receiver.engines`), where it and its DNS library are, and how long the world's DNS
/// may keep them waiting.
public struct PostfixEngineSetup: Sendable, Hashable {
    /// The case lists `policyd-spf`: it answers the policy's `spf` and `spf-pass` checks. Without
    /// it Postfix has nothing that checks SPF, and such a policy has no Postfix equivalent.
    public var runsPolicydSPF: Bool
    public var policydSPFInstallation: PolicydSPFInstallation
    /// resolv.conf's `timeout:` of the instance (`PostfixInstance.Options.dnsTimeoutSeconds`).
    public var dnsTimeoutSeconds: Int

    public init(
        runsPolicydSPF: Bool = false, policydSPF: PolicydSPFInstallation = PolicydSPFInstallation(),
        dnsTimeoutSeconds: Int = 1
    ) {
        self.runsPolicydSPF = runsPolicydSPF
        self.policydSPFInstallation = policydSPF
        self.dnsTimeoutSeconds = dnsTimeoutSeconds
    }

    /// The policy service answering `rule`.
    public func policydSPF(_ rule: PolicydSPFService.Rule) -> PolicydSPFService {
        PolicydSPFService(rule: rule, lookupSeconds: max(1, dnsTimeoutSeconds), installation: policydSPFInstallation)
    }
}
