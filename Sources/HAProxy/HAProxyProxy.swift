#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Runner
import Sandbox
import Scenario

/// A real HAProxy in front of the receiver (`sender.proxy: haproxy`): the sender's connections to
/// the receiver's port 25 are redirected to it (`ConnectionRedirect`), and it connects to the
/// receiver from `sender.proxy_address` with the PROXY header of `sender.identity` (none for
/// `socket`: a load balancer that does not send one).
public struct HAProxyProxies: ProxyKind {
    public var proxy: SenderProxy { .haproxy }
    public var installation: HAProxyInstallation

    public init(installation: HAProxyInstallation = HAProxyInstallation()) {
        self.installation = installation
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        if let reason = installation.missingReason { return reason }
        if scenario.sender.identity == .xclient {
            return "sender.identity: xclient through HAProxy: HAProxy sends PROXY headers, never XCLIENT"
        }
        return nil
    }

    public func makeProxy(for scenario: ScenarioCase, settings: RunConfiguration) -> any CaseProxy {
        HAProxyCaseProxy(
            configuration: Self.configuration(for: scenario), senders: Array(scenario.sender.addresses.values).sorted(),
            installation: installation)
    }

    /// The case's haproxy.cfg: a route to every receiver address of a family both the sender and
    /// the proxy have.
    public static func configuration(for scenario: ScenarioCase) -> HAProxyConfiguration {
        let routes = scenario.receiver.addresses.compactMap { receiver -> HAProxyConfiguration.Route? in
            guard scenario.sender.addresses[receiver.family] != nil,
                let source = scenario.sender.proxyAddresses[receiver.family]
            else {
                return nil
            }
            return HAProxyConfiguration.Route(receiver: receiver, source: source)
        }
        let header: HAProxyConfiguration.Header =
            switch scenario.sender.identity {
            case .proxyV1: .v1
            case .proxyV2: .v2
            case .socket, .xclient: .none
            }
        return HAProxyConfiguration(routes: routes, header: header)
    }
}

/// Where HAProxy and nft are.
public struct HAProxyInstallation: Sendable, Hashable {
    public var haproxy: String
    public var nft: String

    public init(haproxy: String = "/usr/sbin/haproxy", nft: String = "/usr/sbin/nft") {
        self.haproxy = haproxy
        self.nft = nft
    }

    /// Why the proxy cannot run here, or nil.
    public var missingReason: String? {
        if !FileManager.default.isExecutableFile(atPath: haproxy) {
            return
                "sender.proxy: haproxy needs HAProxy (\(haproxy) is not installed; apt-get install haproxy, as scripts/lib.sh does)"
        }
        if !FileManager.default.isExecutableFile(atPath: nft) {
            return
                "sender.proxy: haproxy needs nft to send the sender's connections through it (\(nft) is not installed; apt-get install nftables)"
        }
        return nil
    }
}

/// HAProxy could not be set up for a case.
public struct HAProxyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var output: String

    public var description: String {
        let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return message + (said.isEmpty ? "" : "\nHAProxy said:\n" + said)
    }
}

/// One case's HAProxy and redirect, in the case's namespace, files in `DIRECTORY/haproxy`.
struct HAProxyCaseProxy: CaseProxy {
    let configuration: HAProxyConfiguration
    let senders: [IPAddress]
    let installation: HAProxyInstallation
    /// `stop` removes the redirect and the process; nothing else of it is in the namespace.
    var runsInWarmWorlds: Bool { true }

    func start(in context: CaseContext) async throws -> any RunningProxy {
        let folder = context.directory + "/haproxy"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let configPath = folder + "/haproxy.cfg"
        let log = folder + "/haproxy.log"
        try configuration.render().write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = try ManagedProcess.launch(
            installation.haproxy, ["-db", "-f", configPath], in: context.namespace, outputPath: log)
        let said = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let failure: HAProxyError?
        switch await process.waitUntilListening(
            on: configuration.frontAddresses, port: configuration.frontPort, timeout: .seconds(10))
        {
        case .listening: failure = nil
        case .exited:
            failure = HAProxyError(
                message: "HAProxy exited during start-up (configuration in \(configPath))", output: said())
        case .timedOut(let waiting):
            failure = HAProxyError(
                message:
                    "HAProxy did not listen on \(waiting.map(\.description).joined(separator: ", ")) port \(configuration.frontPort) within 10 s",
                output: said())
        }
        if let failure {
            await process.terminate(grace: .seconds(1))
            throw failure
        }
        let running = RunningHAProxy(
            process: process, namespace: context.namespace, logPath: log, nft: installation.nft)
        let redirect = ConnectionRedirect(
            senders: senders, receivers: configuration.frontAddresses, receiverPort: configuration.receiverPort,
            frontPort: configuration.frontPort)
        let script = folder + "/redirect.nft"
        do {
            try await redirect.apply(in: context.namespace, nft: installation.nft, scriptPath: script)
        } catch {
            await running.stop()
            throw HAProxyError(message: "the redirect to HAProxy could not be set up (\(script)): \(error)", output: "")
        }
        context.logger.debug("haproxy up", metadata: ["netns": "\(context.namespace.name)", "pid": "\(process.pid)"])
        return running
    }
}

/// HAProxy running for one case, with the redirect to it.
struct RunningHAProxy: RunningProxy {
    let process: ManagedProcess
    let namespace: NetworkNamespace
    let logPath: String
    let nft: String

    /// HAProxy's lines for the case's connections: a soft stop (SIGUSR1: the listeners close, the
    /// sessions end) makes it log each one that was still open and exit.
    func evidence() async -> [String] {
        if process.isRunning {
            kill(process.pid, SIGUSR1)
            let deadline = ContinuousClock.now + .seconds(3)
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return Self.connectionLines(text)
    }

    /// The `tcplog` lines (`<6>ADDR:PORT [DATE] FRONTEND BACKEND/SERVER TIMERS BYTES ...`), their
    /// syslog priority dropped; HAProxy's notices about itself are left out.
    static func connectionLines(_ log: String) -> [String] {
        log.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("<"), let close = line.firstIndex(of: ">") else { return nil }
            let rest = line[line.index(after: close)...]
            return rest.contains(" fe_") ? String(rest) : nil
        }
    }

    func stop() async {
        await process.terminate(grace: .seconds(1))
        await ConnectionRedirect.remove(in: namespace, nft: nft)
    }
}
