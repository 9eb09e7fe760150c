import DNSCore
import Foundation
import Sandbox
import Testing

struct ListeningSocketsTests {
    @Test func readsListeningAddressesFromProcNetTCP() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0A0200C0:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 47336 1 00000000245a319a 100 0 0 10 0
            """
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: B80D0120000000000000000010000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 47337 1 0000000054f63f66 100 0 0 10 0
               1: B80D0120000000000000000010000000:0019 B80D0120000005000000000025000000:A50F 06 00000000:00000000 03:00000EE3 00000000     0        0 0 3 00000000bd1702ab
               2: B80D0120000000000000000011000000:0019 B80D0120000005000000000025000000:A50F 01 00000000:00000000 03:00000EE3 00000000     0        0 0 3 00000000bd1702ab
            """
        let sockets = ListeningSockets(procNetTCP: [tcp, tcp6])
        #expect(sockets.accepts(IPAddress("192.0.2.10")!, port: 25))
        #expect(sockets.accepts(IPAddress("2001:db8::10")!, port: 25))
        #expect(!sockets.accepts(IPAddress("2001:db8::11")!, port: 25), "an established connection is not a listener")
        #expect(!sockets.accepts(IPAddress("192.0.2.10")!, port: 26))
        let wildcard = ListeningSockets(procNetTCP: ["header\n 0: 00000000:0019 00000000:0000 0A 0"])
        #expect(wildcard.accepts(IPAddress("198.51.100.1")!, port: 25))
        #expect(!wildcard.accepts(IPAddress("2001:db8::1")!, port: 25))
    }
}

@Suite("A daemon's start", .timeLimit(.minutes(1)))
struct DaemonStartTests {
    @Test func aListeningDaemonIsSeenWithoutAConnection() async throws {
        let port = UInt16.random(in: 40000...60000)
        let script = "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',\(port)))\ns.listen()\ntime.sleep(30)"
        let process = try ManagedProcess.launch("/usr/bin/python3", ["-c", script], in: nil)
        let start = await process.waitUntilListening(on: [IPAddress("127.0.0.1")!], port: port, timeout: .seconds(20))
        await process.stopWithDescendants()
        #expect(start == .listening)
        #expect(!process.isRunning)
    }

    @Test func aDaemonThatExitsOrNeverListensIsReported() async throws {
        let exiting = try ManagedProcess.launch("/bin/sh", ["-c", "exit 3"], in: nil)
        #expect(
            await exiting.waitUntilListening(on: [IPAddress("127.0.0.1")!], port: 9, timeout: .seconds(20)) == .exited)
        let silent = try ManagedProcess.launch("/bin/sleep", ["30"], in: nil)
        let start = await silent.waitUntilListening(
            on: [IPAddress("192.0.2.1")!], port: 25, timeout: .milliseconds(200))
        await silent.stopWithDescendants()
        #expect(start == .timedOut(waiting: [IPAddress("192.0.2.1")!]))
    }
}
