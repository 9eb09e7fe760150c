import Foundation
import Runner
import Sandbox

/// rspamd as a milter of one Postfix instance (the engine `rspamd` of `receiver.engines`), in the
/// smallest setup that scans (rspamd 3.4): one proxy worker in milter mode that scans by itself
/// (`self_scan` inside its `upstream`), no controller, no normal worker, no redis (greylisting,
/// rate limits, history and the statistics that need it disable themselves). Its configuration is
/// the installed one (`$CONFDIR`, every module with its default scores) plus the instance's
/// `local.d`: the world's unbound as the only name server, the action thresholds of
/// `receiver.rspamd`, and the compiled hyperscan cache in a harness-owned folder kept between runs
/// (a cold start compiles 9628 TLD suffixes and some 170 regular expressions; with the cache it
/// starts in well under a second on an idle machine). Pure: rendering touches no file.
public struct RspamdConfiguration: Sendable, Hashable {
    /// Where the proxy worker listens in the instance's namespace, for smtpd_milters.
    public static let milterPort: UInt16 = 11332
    /// The proxy's `reject_message`, rspamd's own default, as the milter's reply to a rejected message.
    public static let rejectMessage = "Spam message rejected"

    /// The action thresholds given (`reject`, `soft_reject`, `add_header`, ...): rspamd's defaults
    /// stand for the others.
    public var actions: [String: Double]
    /// How long one DNS query may go unanswered, in whole seconds: the run's DNS timeout, as the
    /// instance's resolv.conf has it.
    public var dnsTimeoutSeconds: Int
    /// The world's resolver the instance's resolv.conf names (`127.0.0.1`, or the validating twin's
    /// address): rspamd's workers ask it on port 53.
    public var nameserver: String
    /// The instance's folder: `rspamd.conf`, `local.d/`, `db/`, `run/`, `log/`.
    public var directory: String
    /// The hyperscan cache, shared by every instance and kept between runs.
    public var cacheDirectory: String

    public init(
        actions: [String: Double] = [:], dnsTimeoutSeconds: Int = 1, nameserver: String = "127.0.0.1",
        directory: String, cacheDirectory: String
    ) {
        self.actions = actions
        self.dnsTimeoutSeconds = dnsTimeoutSeconds
        self.nameserver = nameserver
        self.directory = directory
        self.cacheDirectory = cacheDirectory
    }

    public var configPath: String { directory + "/rspamd.conf" }
    public var databaseDirectory: String { directory + "/db" }
    public var runDirectory: String { directory + "/run" }
    public var logDirectory: String { directory + "/log" }
    public var logPath: String { logDirectory + "/rspamd.log" }

    /// The folders the workers write (owned by the user they run as).
    public var writableDirectories: [String] { [databaseDirectory, runDirectory, logDirectory] }

    /// The files to write, by path relative to `directory`.
    public var files: [String: String] {
        var files = [
            "rspamd.conf": mainConfiguration,
            "local.d/options.inc": options,
        ]
        if !actions.isEmpty { files["local.d/actions.conf"] = actionsConfiguration }
        return files
    }

    /// rspamd.conf: the installed common configuration, a log file of the instance's own, and the
    /// one worker.
    var mainConfiguration: String {
        """
        # Written by mxharness: rspamd as the milter of one Postfix instance.
        .include "$CONFDIR/common.conf"
        options {
            pidfile = "$RUNDIR/rspamd.pid";
            .include "$CONFDIR/options.inc"
            .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
        }
        logging {
            type = "file";
            filename = "$LOGDIR/rspamd.log";
            .include "$CONFDIR/logging.inc"
        }
        worker "rspamd_proxy" {
            bind_socket = "127.0.0.1:\(Self.milterPort)";
            milter = yes;
            upstream "local" { default = yes; self_scan = yes; }
            timeout = 120s;
            count = 1;
            reject_message = "\(Self.rejectMessage)";
        }

        """
    }

    /// local.d/options.inc: every query to the world's unbound on the namespace's loopback (the
    /// workers also read resolv.conf, which names it too), and the shared cache.
    var options: String {
        """
        # Written by mxharness: the world's DNS only; the compiled cache kept between runs.
        dns {
            nameserver = ["\(nameserver):53"];
            timeout = \(dnsTimeoutSeconds)s;
            retransmits = 2;
        }
        hs_cache_dir = "\(cacheDirectory)/";

        """
    }

    /// local.d/actions.conf: the thresholds given, merged over rspamd's `actions` section.
    var actionsConfiguration: String {
        var lines = ["# Written by mxharness: receiver.rspamd."]
        for (name, score) in actions.sorted(by: { $0.key < $1.key }) {
            let text = score == score.rounded() && abs(score) < 1e9 ? String(Int(score)) : String(score)
            lines.append("\(name) = \(text);")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// rspamd's arguments (only `--var=NAME=VALUE` sets a variable; `--var NAME=VALUE` is refused).
    /// `-f`: in the foreground; the workers run as `user` (rspamd refuses to run them as root).
    public func arguments(user: String, group: String) -> [String] {
        [
            "-f", "-c", configPath, "-u", user, "-g", group,
            "--var=LOCAL_CONFDIR=\(directory)", "--var=DBDIR=\(databaseDirectory)",
            "--var=RUNDIR=\(runDirectory)", "--var=LOGDIR=\(logDirectory)",
        ]
    }
}

/// What rspamd made of one message: its log line per scan (`rspamd_task_write_log`, the default
/// `log_format` of logging.inc), read back.
public struct RspamdScan: Sendable, Hashable, CustomStringConvertible {
    /// Postfix's queue id (the milter's `i` macro), when rspamd was told it.
    public var queueID: String?
    /// The client address rspamd scored.
    public var client: String?
    /// `no action`, `add header`, `rewrite subject`, `soft reject`, `reject`, `greylist`.
    public var action: String
    public var score: Double
    /// The reject threshold the score was held against (`[10.80/15.00]`).
    public var requiredScore: Double?
    /// The symbols with their scores, in rspamd's order.
    public var symbols: [(name: String, score: Double)]

    public init(
        queueID: String?, client: String?, action: String, score: Double, requiredScore: Double?,
        symbols: [(name: String, score: Double)]
    ) {
        self.queueID = queueID
        self.client = client
        self.action = action
        self.score = score
        self.requiredScore = requiredScore
        self.symbols = symbols
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.queueID == rhs.queueID && lhs.client == rhs.client && lhs.action == rhs.action && lhs.score == rhs.score
            && lhs.requiredScore == rhs.requiredScore && lhs.symbols.map(\.name) == rhs.symbols.map(\.name)
            && lhs.symbols.map(\.score) == rhs.symbols.map(\.score)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(queueID)
        hasher.combine(score)
    }

    /// `rspamd: 10.80 (add header; reject at 15.00): VIOLATED_DIRECT_SPF 3.50, ...`.
    public var description: String {
        let threshold = requiredScore.map { "; reject at " + String(format: "%.2f", $0) } ?? ""
        let list = symbols.map { "\($0.name) " + String(format: "%.2f", $0.score) }.joined(separator: ", ")
        return "rspamd: " + String(format: "%.2f", score) + " (\(action)\(threshold))"
            + (list.isEmpty ? "" : ": " + list)
    }

    /// The actions with which rspamd's milter refuses or defers the message (a 5xx or 4xx after
    /// DATA): rspamd then answered the sender. `greylist` defers only with a greylisting store,
    /// which the harness's rspamd has not.
    public static let answeringActions: Set<String> = ["reject", "soft reject"]

    /// The scan as the reports show an engine's verdict.
    public var verdict: EngineVerdict {
        EngineVerdict(
            engine: "rspamd", action: action, score: score, rejectScore: requiredScore,
            symbols: symbols.map { EngineVerdict.Symbol(name: $0.name, score: $0.score) },
            answered: Self.answeringActions.contains(action), messageID: queueID)
    }

    /// Every scan in rspamd's log text, in order.
    public static func scans(inLog text: String) -> [RspamdScan] {
        text.split(separator: "\n").compactMap { line in
            line.contains("rspamd_task_write_log") ? parse(String(line)) : nil
        }
    }

    /// One log line: `... id: <MID>, qid: <QID>, ip: ADDR, from: <F>, (default: F (add header):
    /// [10.80/15.00] [SYM(3.50){param;},SYM2(1.00){}]), len: ...`.
    public static func parse(_ line: String) -> RspamdScan? {
        guard let verdict = line.firstMatch(of: /\(default: [TF] \(([a-z ]+)\): \[(-?[0-9.]+)\/(-?[0-9.]+)\] \[/) else {
            return nil
        }
        let action = String(verdict.output.1)
        guard let score = Double(verdict.output.2) else { return nil }
        let required = Double(verdict.output.3)
        // The symbol list runs to the "]), " that closes the verdict; parameters in braces may hold
        // anything but a closing brace.
        var symbols: [(name: String, score: Double)] = []
        var rest = line[verdict.range.upperBound...]
        while let symbol = rest.prefixMatch(of: /([A-Za-z0-9_]+)\((-?[0-9.]+)\)(\{[^}]*\})?,?/) {
            if let value = Double(symbol.output.2) { symbols.append((String(symbol.output.1), value)) }
            rest = rest[symbol.range.upperBound...]
        }
        let queueID = line.firstMatch(of: /qid: <([^>]*)>/).map { String($0.output.1) }
        let client = line.firstMatch(of: /ip: ([0-9A-Fa-f:.]+),/).map { String($0.output.1) }
        return RspamdScan(
            queueID: queueID, client: client, action: action, score: score, requiredScore: required, symbols: symbols)
    }
}

/// Where rspamd is on this machine, and the cache it keeps.
public struct RspamdSetup: Sendable, Hashable {
    public var executable: String
    public var user: String
    public var group: String
    /// The compiled hyperscan cache, harness-owned, kept between runs: `$MXHARNESS_RSPAMD_CACHE`,
    /// else `/var/cache/mxharness/rspamd`.
    public var cacheDirectory: String

    public init(
        executable: String = "/usr/bin/rspamd", user: String = "_rspamd", group: String = "_rspamd",
        cacheDirectory: String
    ) {
        self.executable = executable
        self.user = user
        self.group = group
        self.cacheDirectory = cacheDirectory
    }

    /// This machine's.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> RspamdSetup {
        let cache =
            environment["MXHARNESS_RSPAMD_CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/cache/mxharness/rspamd"
        return RspamdSetup(cacheDirectory: cache)
    }

    /// Why rspamd cannot run here, or nil.
    public var missingReason: String? {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return
                "receiver.engines: rspamd needs rspamd (\(executable) is not installed; apt-get install rspamd, as scripts/lib.sh does)"
        }
        guard SystemAccounts.user(named: user) != nil else {
            return
                "rspamd's workers run as user \(user), which does not exist (the rspamd package creates it: reinstall it)"
        }
        return nil
    }
}
