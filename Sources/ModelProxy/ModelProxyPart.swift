import DNSCore
import Foundation
import Logging
import Runner
import Sandbox
import Scenario

/// `sender.proxy: model` in front of a real sending MTA: the harness's own relay (`ProxyRelay`)
/// names the sender to the receiver exactly as the built-in sender does on the identity path
/// (`proxy-v1`, `proxy-v2` headers, `xclient`), since a real MTA writes no such thing itself. The
/// built-in sender needs no part: it writes them itself.
public struct ModelProxies: ProxyKind {
    public var proxy: SenderProxy { .model }
    public var nft: String

    public init(nft: String = "/usr/sbin/nft") {
        self.nft = nft
    }

    public func unsupportedReason(for scenario: ScenarioCase, settings: RunConfiguration) -> String? {
        guard FileManager.default.isExecutableFile(atPath: nft) else {
            return
                "sender.identity: \(scenario.sender.identity) with a real sending MTA needs nft to put the harness's proxy in front of it (\(nft) is not installed; apt-get install nftables)"
        }
        if scenario.sender.identity == .xclient, scenario.sender.tls != .none {
            return
                "sender.identity: xclient with sender.tls: the harness's proxy speaks XCLIENT before the sender's session and cannot carry STARTTLS for it"
        }
        return nil
    }

    public func makeProxy(for scenario: ScenarioCase, settings: RunConfiguration) -> any CaseProxy {
        let sender = scenario.sender
        let routes = scenario.receiver.addresses.compactMap { receiver -> ProxyRelay.Route? in
            guard sender.addresses[receiver.family] != nil, let source = sender.proxyAddresses[receiver.family] else {
                return nil
            }
            return ProxyRelay.Route(receiver: receiver, source: source)
        }
        let path: RelayPath =
            switch sender.identity {
            case .proxyV1: .proxyV1
            case .proxyV2: .proxyV2
            case .xclient, .socket: .xclient(name: sender.xclientName, helo: sender.helo)
            }
        return ModelCaseProxy(routes: routes, path: path, senders: Array(sender.addresses.values).sorted(), nft: nft)
    }
}

/// One case's relay and redirect.
struct ModelCaseProxy: CaseProxy {
    static let frontPort: UInt16 = 62526

    let routes: [ProxyRelay.Route]
    let path: RelayPath
    let senders: [IPAddress]
    let nft: String
    var runsInWarmWorlds: Bool { true }

    func start(in context: CaseContext) async throws -> any RunningProxy {
        let relay = ProxyRelay(
            routes: routes, path: path, frontPort: Self.frontPort, connectTimeout: context.settings.connectTimeout,
            namespace: context.namespace, group: context.eventLoopGroup, logger: context.logger)
        do {
            try await relay.start()
        } catch {
            await relay.stop()
            throw error
        }
        let running = RunningModelProxy(relay: relay, namespace: context.namespace, nft: nft)
        let redirect = ConnectionRedirect(
            senders: senders, receivers: routes.map(\.receiver), frontPort: Self.frontPort)
        do {
            try await redirect.apply(
                in: context.namespace, nft: nft, scriptPath: context.directory + "/proxy-redirect.nft")
        } catch {
            await running.stop()
            throw ProxyRelayError(description: "the redirect to the harness's proxy could not be set up: \(error)")
        }
        return running
    }
}

/// The relay running for one case, with the redirect to it.
struct RunningModelProxy: RunningProxy {
    let relay: ProxyRelay
    let namespace: NetworkNamespace
    let nft: String

    func evidence() async -> [String] {
        relay.log.map { "model proxy: " + $0 }
    }

    func stop() async {
        await ConnectionRedirect.remove(in: namespace, nft: nft)
        await relay.stop()
    }
}
