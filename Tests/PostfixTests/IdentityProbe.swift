#if canImport(Glibc)
import Glibc
#endif
import DNSCore
import Foundation
import Sandbox

/// The bytes a load balancer puts in front of an SMTP connection (the HAProxy PROXY protocol,
/// haproxy's doc/proxy-protocol.txt): written here byte by byte, so that the tests show what
/// Postfix receives.
enum ProxyHeader {
    /// Version 1, section 2.1: `PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT\r\n`.
    static func v1(source: IPAddress, destination: IPAddress, sourcePort: UInt16 = 40_000, destinationPort: UInt16 = 25)
        -> [UInt8]
    {
        let family = source.family == .ipv6 ? "TCP6" : "TCP4"
        return Array("PROXY \(family) \(source) \(destination) \(sourcePort) \(destinationPort)\r\n".utf8)
    }

    /// Version 2, section 2.2: the 12-byte signature, version 2 + PROXY command (0x21), family +
    /// STREAM (0x11 TCP over IPv4, 0x21 TCP over IPv6), the length of the addresses (network
    /// order), then source and destination addresses and ports.
    static func v2(source: IPAddress, destination: IPAddress, sourcePort: UInt16 = 40_000, destinationPort: UInt16 = 25)
        -> [UInt8]
    {
        var bytes: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21]
        let addresses = source.bytes + destination.bytes
        bytes.append(source.family == .ipv6 ? 0x21 : 0x11)
        let length = UInt16(addresses.count + 4)
        bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
        bytes += addresses
        bytes += [
            UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8),
            UInt8(destinationPort & 0xFF),
        ]
        return bytes
    }
}

extension SMTPProbe {
    /// One session from `client` to `server:25`: `header` first (a PROXY header, or nothing), then
    /// the greeting and each command in turn until a reply of 400 or more or the end of `steps`;
    /// then QUIT. A connection the server closes ends the transcript with stage `closed`.
    static func session(
        from client: IPAddress, to server: IPAddress, in namespace: NetworkNamespace, header: [UInt8] = [],
        steps: [(stage: String, command: String)]
    ) async throws -> Transcript {
        try await exchange(from: client, to: server, in: namespace, header: header, steps: steps, recordingClose: true)
    }

    /// EHLO, MAIL, RCPT, DATA and the message, as `deliver` sends them.
    static func mailSteps(helo: String = "mail.sender.test") -> [(stage: String, command: String)] {
        [
            ("ehlo", "EHLO \(helo)"), ("mail", "MAIL FROM:<alice@sender.test>"), ("rcpt", "RCPT TO:<bob@example.test>"),
            ("data", "DATA"),
            (
                "dot",
                "From: <alice@sender.test>\r\nTo: <bob@example.test>\r\nSubject: mxharness identity test\r\n\r\nHello.\r\n."
            ),
        ]
    }
}
