#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging
@testable import Milter
import Testing

private struct RefuseAll: MilterFilter {
    func reply(at stage: MilterStage, context: MilterContext) -> String? {
        stage == .endOfMessage ? "550 5.7.1 refused for \(context.helo)" : nil
    }
}

struct MilterServerTests {
    /// A client speaking the protocol over a UNIX socket, as Postfix would.
    @Test func servesAConnectionOverASocket() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mxh-\(getpid())-milter-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/m.sock"
        let server = try await MilterServer.start(path: path, filter: RefuseAll(), logger: Logger(label: "test"))
        defer { Task { await server.stop() } }

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(connected == 0)
        func send(_ command: Character, _ data: [UInt8]) {
            let bytes =
                MilterResponse.bigEndian(UInt32(data.count + 1)) + [UInt8(ascii: command.unicodeScalars.first!)] + data
            // MSG_NOSIGNAL: a server that went away is an EPIPE here, not a SIGPIPE for the test process.
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        func receive() -> [UInt8] {
            // Responses share the command packet format: length, command byte, data.
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(fd, &buffer, buffer.count)
            return count > 0 ? Array(buffer[..<count]) : []
        }
        send("O", MilterResponse.bigEndian(6) + MilterResponse.bigEndian(0x1FF) + MilterResponse.bigEndian(0x1FFFFF))
        #expect(receive() == MilterResponse.optionNegotiation(version: 6, actions: 0, protocolSteps: 0x110).bytes)
        send("H", Array("mail.sender.test".utf8) + [0])
        #expect(receive() == MilterResponse.continue.bytes)
        send("E", [])
        #expect(receive() == MilterResponse.replyCode("550 5.7.1 refused for mail.sender.test").bytes)
        send("Q", [])
        #expect(receive() == [], "the server closes after quit")
    }
}
