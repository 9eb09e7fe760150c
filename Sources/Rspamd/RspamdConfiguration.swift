import Foundation

/// rspamd beside one receiver (the engine `rspamd` of `receiver.engines`), in the smallest setup
/// that scans (rspamd 3.4): one worker, no controller, no redis (greylisting, rate limits,
/// history and the statistics that need it disable themselves). For an MTA with milters (Postfix)
/// the worker is a proxy in milter mode that scans by itself (`self_scan` inside its
/// `upstream`); for one without (the built-in MX, as Haraka's rspamd plugin or Exim's
/// `spamd_address ... variant=rspamd` do) it is a normal worker answering rspamd's HTTP protocol
/// (`POST /checkv2`). Its configuration is
/// the installed one (`$CONFDIR`, every module with its default scores) plus the instance's
/// `local.d`: the world's unbound as the only name server, the action thresholds of
/// `receiver.rspamd`, and the compiled hyperscan cache in a harness-owned folder kept between runs
/// (a cold start compiles 9628 TLD suffixes and some 170 regular expressions; with the cache it
/// starts in well under a second on an idle machine). Pure: rendering touches no file.
public struct RspamdConfiguration: Sendable, Hashable {
    /// How the receiver talks to rspamd.
    public enum Interface: Sendable, Hashable {
        /// The milter protocol, to a proxy worker that scans by itself (`milterPort`).
        case milter
        /// rspamd's HTTP protocol, to a normal worker (`httpPort`).
        case http
    }

    /// Where the proxy worker listens in the instance's namespace, for smtpd_milters.
    public static let milterPort: UInt16 = 11332
    /// Where the normal worker listens in the case's namespace (rspamd's own default port).
    public static let httpPort: UInt16 = 11333
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
    public var interface: Interface

    public init(
        actions: [String: Double] = [:], dnsTimeoutSeconds: Int = 1, nameserver: String = "127.0.0.1",
        directory: String, cacheDirectory: String, interface: Interface = .milter
    ) {
        self.interface = interface
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

    /// The port the worker listens on, on the namespace's 127.0.0.1.
    public var port: UInt16 { interface == .milter ? Self.milterPort : Self.httpPort }

    /// rspamd.conf: the installed common configuration, a log file of the instance's own, and the
    /// one worker.
    var mainConfiguration: String {
        """
        # Written by mxharness: rspamd beside one receiver.
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
        \(worker)
        """
    }

    /// The one worker: the milter proxy, or the normal worker for HTTP.
    var worker: String {
        switch interface {
        case .milter:
            """
            worker "rspamd_proxy" {
                bind_socket = "127.0.0.1:\(Self.milterPort)";
                milter = yes;
                upstream "local" { default = yes; self_scan = yes; }
                timeout = 120s;
                count = 1;
                reject_message = "\(Self.rejectMessage)";
            }

            """
        case .http:
            """
            worker "normal" {
                bind_socket = "127.0.0.1:\(Self.httpPort)";
                mime = true;
                count = 1;
            }

            """
        }
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

    /// rspamd 3.4's own thresholds (`$CONFDIR/actions.conf`), which stand for the actions not given.
    static let defaultActions: [String: Double] = ["reject": 15, "add_header": 6, "greylist": 4]
    /// The actions from the strongest reply to the weakest.
    static let actionStrength = ["reject", "soft_reject", "rewrite_subject", "add_header", "greylist"]

    /// local.d/actions.conf: the thresholds given, merged over rspamd's `actions` section. An action
    /// whose threshold (given or rspamd's default) equals a stronger one's is disabled (`null`):
    /// rspamd picks either of two actions at one threshold, not always the same (seen: soft_reject 1
    /// with add_header 1 soft-rejected a 3.30 message in two runs and added a header in the third;
    /// reject 4 with the default greylist 4 greylisted), and a site that puts a stronger action
    /// at a weaker one's score means the stronger one from there on.
    var actionsConfiguration: String {
        var lines = ["# Written by mxharness: receiver.rspamd."]
        let effective = Self.defaultActions.merging(actions) { $1 }
        var disabled: [String] = []
        for (index, weaker) in Self.actionStrength.enumerated() {
            guard let score = effective[weaker] else { continue }
            if Self.actionStrength[..<index].contains(where: { effective[$0] == score }) { disabled.append(weaker) }
        }
        for (name, score) in actions.sorted(by: { $0.key < $1.key }) where !disabled.contains(name) {
            let text = score == score.rounded() && abs(score) < 1e9 ? String(Int(score)) : String(score)
            lines.append("\(name) = \(text);")
        }
        for name in disabled.sorted() {
            lines.append("\(name) = null;  # at a stronger action's threshold")
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
