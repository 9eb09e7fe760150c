#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import Foundation
import MXHarnessTestKit
import Sandbox
import Testing

struct IntegrationEnvironmentTests {
    /// In CI the integration suites must run, never skip.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1"))
    func ciProvidesEverythingIntegrationTestsNeed() {
        #expect(IntegrationEnvironment.isRoot, "CI must run as root")
        #expect(IntegrationEnvironment.hasUnbound, "CI must install unbound")
        #expect(IntegrationEnvironment.hasPostfix, "CI must install postfix")
    }
}

@Suite(.enabled(if: IntegrationEnvironment.isRoot, "needs root to create network namespaces"))
struct NetworkNamespaceTests {
    @Test func realSourceAddressesInsideANamespace() async throws {
        let receiver = IPAddress("2001:db8::10")!, sender = IPAddress("2001:db8:5::25")!
        let v4receiver = IPAddress("192.0.2.10")!, v4sender = IPAddress("198.51.100.25")!
        let namespace = try await NetworkNamespace.create(
            name: ResourceRegistry.shared.makeName("nstest"), addresses: [receiver, sender, v4receiver, v4sender])
        defer { NetworkNamespace.destroy(name: namespace.name) }
        for (to, from) in [(receiver, sender), (v4receiver, v4sender)] {
            let listener = try await Sockets.listen(on: to, port: 25, in: namespace)
            defer { close(listener) }
            let client = try await Sockets.connect(from: from, to: to, port: 25, timeout: .seconds(2), in: namespace)
            defer { close(client) }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let accepted = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            #expect(accepted >= 0)
            defer { close(accepted) }
            let peer: IPAddress? = withUnsafeBytes(of: storage) { raw in
                if to.family == .ipv6 {
                    return IPAddress(bytes: Array(raw[8..<24]))
                }
                return IPAddress(bytes: Array(raw[4..<8]))
            }
            #expect(peer == from, "the receiver sees the sender's real source address")
        }
        // The namespace is sealed: the host's addresses and anything else are unreachable.
        await #expect(throws: ConnectFailure.unreachable) {
            _ = try await Sockets.connect(
                from: sender, to: IPAddress("2001:db8:ffff::1")!, port: 25, timeout: .seconds(1), in: namespace)
        }
        await #expect(throws: ConnectFailure.refused) {
            _ = try await Sockets.connect(from: sender, to: receiver, port: 26, timeout: .seconds(1), in: namespace)
        }
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace.name)") == false)
        await namespace.destroy()
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace.name)"))
    }

    @Test func addressesCanBeAddedAndRemovedAndANewOneIsUsableAtOnce() async throws {
        let receiver = IPAddress("2001:db8::10")!, first = IPAddress("2001:db8:5::25")!
        let second = IPAddress("2001:db8:5::26")!, v4 = IPAddress("203.0.113.25")!
        let namespace = try await NetworkNamespace.create(
            name: ResourceRegistry.shared.makeName("nstest"), addresses: [receiver, first])
        defer { NetworkNamespace.destroy(name: namespace.name) }
        func assigned() async throws -> Set<IPAddress> {
            let text = try await Command.run("/usr/sbin/ip", ["-n", namespace.name, "-o", "addr", "show", "dev", "lo"])
            return Set(
                text.split(separator: "\n").compactMap { line in
                    let fields = line.split(separator: " ")
                    guard let index = fields.firstIndex(where: { $0 == "inet" || $0 == "inet6" }),
                        index + 1 < fields.count
                    else { return nil }
                    return IPAddress(String(fields[index + 1].split(separator: "/")[0]))
                })
        }
        try await namespace.removeAddresses([first])
        try await namespace.addAddresses([second, v4])
        let now = try await assigned()
        #expect(now.isSuperset(of: [receiver, second, v4]), "\(now)")
        #expect(!now.contains(first), "\(now)")
        // nodad: the new IPv6 address can be a source at once, not "tentative" for a second.
        let listener = try await Sockets.listen(on: receiver, port: 25, in: namespace)
        defer { close(listener) }
        let client = try await Sockets.connect(
            from: second, to: receiver, port: 25, timeout: .seconds(2), in: namespace)
        close(client)
        await #expect(throws: (any Error).self) { try await namespace.removeAddresses([first]) }
    }

    /// An IPv6 address is waited for until it can be bound and routed to (the kernel finishes
    /// adding it after acknowledging the request); one that is not there is reported, naming it.
    @Test func addedAddressesAreWaitedForAndAMissingOneIsNamed() async throws {
        let namespace = try await NetworkNamespace.create(name: ResourceRegistry.shared.makeName("usable"))
        defer { NetworkNamespace.destroy(name: namespace.name) }
        let here = try #require(IPAddress("2001:db8::77")), absent = try #require(IPAddress("2001:db8::78"))
        let editor = try await namespace.addressEditor()
        try editor.change(removing: [], adding: [here])
        try await namespace.waitUntilUsable([here])
        let listener = try await Sockets.listen(on: here, port: 25, in: namespace)
        close(listener)
        do {
            try await namespace.waitUntilUsable([here, absent], timeout: .milliseconds(50))
            Issue.record("an address that was never added was taken for usable")
        } catch let error as AddressNotUsable {
            #expect(error.addresses == [absent])
            #expect(error.description.contains("2001:db8::78") && error.description.contains(namespace.name))
        }
    }

    @Test func theJanitorRemovesWhatADeadOwnerLeftAndSparesTheLiving() async throws {
        let owner = try RunOwner()
        defer { owner.end() }
        let deadName = "mxh-\(owner.pid)-1-left"
        try await Command.run("/usr/sbin/ip", ["netns", "add", deadName])
        let process = try ManagedProcess.launch("/bin/sleep", ["60"], in: NetworkNamespace.existing(name: deadName))
        let liveNamespace = try await NetworkNamespace.create(name: ResourceRegistry.shared.makeName("live"))
        defer { NetworkNamespace.destroy(name: liveNamespace.name) }
        let deadDirectory = NSTemporaryDirectory() + "/mxh-\(owner.pid)-2-dir"
        try FileManager.default.createDirectory(atPath: deadDirectory, withIntermediateDirectories: true)
        owner.end()

        // Another sweep may run at the same time and take it first: check the effect.
        ResourceJanitor.sweep()
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(deadName)"))
        #expect(!FileManager.default.fileExists(atPath: deadDirectory))
        #expect(FileManager.default.fileExists(atPath: "/run/netns/\(liveNamespace.name)"))
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!process.isRunning, "processes inside a stale namespace are killed")
    }

    /// A daemon of a dead run whose namespace's name is already gone (deleted while it ran) is
    /// found by the folder it works in; a process of this namespace naming the same folder (a
    /// user's `tail` of a left-over log) is left alone.
    @Test func theJanitorFindsADeadRunsDaemonWhoseNamespaceNameIsGone() async throws {
        let owner = try RunOwner()
        defer { owner.end() }
        let namespaceName = "mxh-\(owner.pid)-1-gone"
        let folder = NSTemporaryDirectory() + "/mxh-\(owner.pid)-2-work"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await Command.run("/usr/sbin/ip", ["netns", "add", namespaceName])
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        daemon.arguments = ["netns", "exec", namespaceName, "/bin/sleep", "60"]
        daemon.currentDirectoryURL = URL(fileURLWithPath: folder)
        try daemon.run()
        let bystander = Process()
        try "".write(toFile: folder + "/unbound.log", atomically: false, encoding: .utf8)
        bystander.executableURL = URL(fileURLWithPath: "/usr/bin/tail")
        bystander.arguments = ["-f", folder + "/unbound.log"]
        bystander.standardOutput = FileHandle.nullDevice
        try bystander.run()
        defer {
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            if bystander.isRunning { kill(bystander.processIdentifier, SIGKILL) }
        }
        // The daemon is in the namespace (ip netns exec has become sleep) before its name goes.
        for _ in 0..<200 {
            let comm = (try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/comm", encoding: .utf8)) ?? ""
            if comm.hasPrefix("sleep") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try? Command.runSync("/usr/sbin/ip", ["netns", "delete", namespaceName])
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespaceName)"))
        #expect(daemon.isRunning, "deleting the name leaves the daemon running")

        owner.end()
        // Another sweep may run at the same time and take it first: check the effect.
        ResourceJanitor.sweep()
        for _ in 0..<100 where daemon.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!daemon.isRunning, "the daemon working in the dead run's folder is killed")
        #expect(bystander.isRunning, "a process of this namespace is not the harness's")
        #expect(!FileManager.default.fileExists(atPath: folder))
    }
}

/// A process of the test's own standing for the run that owns resources named `mxh-PID-…`: until
/// `end()` no sweep (every mxharness the tests start makes one) takes them half-made; after it
/// they are a dead run's.
final class RunOwner {
    private let process = Process()
    var pid: pid_t { process.processIdentifier }

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["600"]
        try process.run()
    }

    func end() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
