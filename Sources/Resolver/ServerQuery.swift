import DNSCore
import Foundation
import Sandbox

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a DNS server answered one question, as a stub resolver sees it: the rcode, the AD bit,
/// and the extended DNS error (RFC 8914) a validating unbound attaches to a SERVFAIL. libunbound
/// reports neither the AD bit of the server nor any EDE (its `ub_result` has no field for it in
/// 1.17), so `dns check` asks the world's validating unbound itself with this.
public struct ServerAnswer: Sendable, Hashable {
    /// RCODE (RFC 1035 4.1.1), 0 to 15.
    public var rcode: Int
    /// Authentic Data (RFC 4035 3.2.3).
    public var authenticated: Bool
    public var answerCount: Int
    /// INFO-CODE and EXTRA-TEXT of the first EDE option, if any.
    public var extendedError: (code: Int, text: String)?

    public static func == (lhs: ServerAnswer, rhs: ServerAnswer) -> Bool {
        lhs.rcode == rhs.rcode && lhs.authenticated == rhs.authenticated && lhs.answerCount == rhs.answerCount
            && lhs.extendedError?.code == rhs.extendedError?.code && lhs.extendedError?.text == rhs.extendedError?.text
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rcode)
        hasher.combine(authenticated)
        hasher.combine(extendedError?.code)
    }

    /// The RFC 8914 name of an INFO-CODE.
    public static func extendedErrorName(_ code: Int) -> String {
        let names = [
            0: "Other Error", 1: "Unsupported DNSKEY Algorithm", 2: "Unsupported DS Digest Type", 3: "Stale Answer",
            4: "Forged Answer", 5: "DNSSEC Indeterminate", 6: "DNSSEC Bogus", 7: "Signature Expired",
            8: "Signature Not Yet Valid", 9: "DNSKEY Missing", 10: "RRSIGs Missing", 11: "No Zone Key Bit Set",
            12: "NSEC Missing", 13: "Cached Error", 14: "Not Ready", 15: "Blocked", 16: "Censored", 17: "Filtered",
            18: "Prohibited", 19: "Stale NXDomain Answer", 20: "Not Authoritative", 21: "Not Supported",
            22: "No Reachable Authority", 23: "Network Error", 24: "Invalid Data",
        ]
        return names[code] ?? "EDE \(code)"
    }
}

/// One question over UDP, with EDNS0 and the DO bit (RFC 3225), to a server in a namespace.
public enum ServerQuery {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func ask(
        _ name: String, _ type: UInt16, server: IPAddress, port: UInt16 = 53, in namespace: NetworkNamespace?,
        timeout: Duration = .seconds(2)
    ) async throws -> ServerAnswer {
        let id = UInt16.random(in: 0...UInt16.max)
        let query = message(id: id, name: name, type: type)
        let reply = try await NetworkNamespace.perform(in: namespace) { () throws -> [UInt8] in
            try exchange(query, server: server, port: port, timeout: timeout)
        }
        return try parse(reply, id: id)
    }

    /// A query with RD set, one question, and an OPT record with DO set and a 1232-byte payload.
    static func message(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]
        for label in DNSName.normalize(name).split(separator: ".") where DNSName.normalize(name) != "." {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        out.append(0)
        out += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        out += [0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0]
        return out
    }

    static func exchange(_ query: [UInt8], server: IPAddress, port: UInt16, timeout: Duration) throws -> [UInt8] {
        let family = server.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var storage = sockaddr_storage()
        let length: socklen_t
        if server.family == .ipv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: server.bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: server.bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, query, query.count, 0, $0, length) }
        }
        guard sent == query.count else {
            throw Failure(description: "sendto \(server): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received > 0 else { throw Failure(description: "no answer from \(server) within \(timeout)") }
        return Array(buffer[0..<received])
    }

    static func parse(_ reply: [UInt8], id: UInt16) throws -> ServerAnswer {
        guard reply.count >= 12, UInt16(reply[0]) << 8 | UInt16(reply[1]) == id else {
            throw Failure(description: "a reply that is not an answer to the question")
        }
        func u16(_ at: Int) -> Int { Int(reply[at]) << 8 | Int(reply[at + 1]) }
        var answer = ServerAnswer(rcode: Int(reply[3] & 0x0f), authenticated: reply[3] & 0x20 != 0, answerCount: u16(6))
        var index = 12
        func skipName() throws {
            while index < reply.count {
                let length = Int(reply[index])
                if length & 0xc0 == 0xc0 {
                    index += 2
                    return
                }
                index += 1 + length
                if length == 0 { return }
            }
            throw Failure(description: "truncated name in the reply")
        }
        for _ in 0..<u16(4) {
            try skipName()
            index += 4
        }
        let records = u16(6) + u16(8) + u16(10)
        for _ in 0..<records {
            try skipName()
            guard index + 10 <= reply.count else { throw Failure(description: "truncated record in the reply") }
            let type = u16(index)
            let rcodeHigh = Int(reply[index + 4])
            let length = u16(index + 8)
            let data = index + 10
            index = data + length
            guard index <= reply.count else { throw Failure(description: "truncated record in the reply") }
            guard type == 41 else { continue }
            answer.rcode |= rcodeHigh << 4
            var option = data
            while option + 4 <= index {
                let code = u16(option)
                let size = u16(option + 2)
                let body = option + 4
                if code == 15, size >= 2, body + size <= index, answer.extendedError == nil {
                    let text = String(decoding: reply[(body + 2)..<(body + size)], as: UTF8.self)
                    answer.extendedError = (u16(body), text)
                }
                option = body + size
            }
        }
        return answer
    }
}
