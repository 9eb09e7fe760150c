#if canImport(Glibc)
import Glibc
#endif

/// A connected socket for tests that speak SMTP byte by byte: whole writes, and reads a line at
/// a time (CRLF or a bare LF ends a line), each within `timeout`.
public struct LineSocket {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let fd: CInt
    public let timeout: Duration
    private var buffer: [UInt8] = []

    public init(fd: CInt, timeout: Duration = .seconds(30)) {
        self.fd = fd
        self.timeout = timeout
    }

    /// Writes every byte, waiting while the socket is full.
    public func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, 1000)
                    continue
                }
                throw Failure(description: "write: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
    }

    /// The next line without its line ending; throws when the server closes or says nothing
    /// within `timeout`.
    public mutating func readLine() throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard ContinuousClock.now < deadline else { throw Failure(description: "no reply within \(timeout)") }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 1000) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { throw Failure(description: "connection closed by the server") }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "read: \(String(cString: strerror(errno)))")
            }
            buffer += chunk[..<n]
        }
    }
}
