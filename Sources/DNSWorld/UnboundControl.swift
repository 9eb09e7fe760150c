#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// A command unbound's remote control refused or could not be sent.
public struct UnboundControlError: Error, Sendable, CustomStringConvertible {
    public var command: String
    public var problem: String

    public var description: String { "unbound control `\(command)`: \(problem)" }
}

/// unbound's remote-control protocol over its plain Unix socket (`control-use-cert: no`), as
/// `unbound-control` speaks it (smallapp/unbound-control.c `go_cmd`): `UBCT1 COMMAND\n`, then for
/// the list commands the lines and an end-of-transmission line (`0x04 0x0a`); the daemon answers
/// and closes, with `error ...` as the first line when the command failed. One connection per
/// command, no process started.
public struct UnboundControl: Sendable {
    public var socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Sends `command` (with `lines` for `local_zones`, `local_datas` and their `_remove` forms)
    /// and returns the daemon's answer; throws when it starts with `error` or reports line errors.
    @discardableResult
    public func run(_ command: String, lines: [String]? = nil) throws(UnboundControlError) -> String {
        var request = "UBCT1 \(command)\n"
        if let lines {
            for line in lines { request += line + "\n" }
            request += "\u{04}\n"
        }
        let answer = try exchange(request, command: command)
        if answer.hasPrefix("error") || answer.contains("\nerror") {
            throw UnboundControlError(command: command, problem: answer.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return answer
    }

    private func exchange(_ request: String, command: String) throws(UnboundControlError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            throw UnboundControlError(command: command, problem: "socket: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw UnboundControlError(command: command, problem: "socket path too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            throw UnboundControlError(
                command: command, problem: "cannot connect to \(socketPath): \(String(cString: strerror(errno)))")
        }
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: an unbound that goes away meanwhile (its slot stopped as the run ends)
            // is an EPIPE error here, not a SIGPIPE that ends the whole process.
            let n = bytes.withUnsafeMutableBytes {
                send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else {
                throw UnboundControlError(command: command, problem: "send: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
        bytes.removeAll(keepingCapacity: true)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw UnboundControlError(command: command, problem: "read: \(String(cString: strerror(errno)))")
            }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
