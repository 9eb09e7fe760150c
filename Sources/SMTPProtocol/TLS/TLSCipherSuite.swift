/// Cipher suites by their IANA number (RFC 8446 B.4, RFC 5289, RFC 7905) and the names OpenSSL and
/// Postfix log them by: the suites BoringSSL (the built-in MX's and the sender's TLS) negotiates,
/// and the common ones a real MTA may.
public enum TLSCipherSuite {
    static let names: [UInt16: String] = [
        0x1301: "TLS_AES_128_GCM_SHA256",
        0x1302: "TLS_AES_256_GCM_SHA384",
        0x1303: "TLS_CHACHA20_POLY1305_SHA256",
        0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
        0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
        0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
        0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
        0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
        0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305",
        0xC009: "ECDHE-ECDSA-AES128-SHA",
        0xC00A: "ECDHE-ECDSA-AES256-SHA",
        0xC013: "ECDHE-RSA-AES128-SHA",
        0xC014: "ECDHE-RSA-AES256-SHA",
        0x009C: "AES128-GCM-SHA256",
        0x009D: "AES256-GCM-SHA384",
        0x002F: "AES128-SHA",
        0x0035: "AES256-SHA",
    ]

    /// OpenSSL's name for the suite, or `0xC02B` style for one this table does not know.
    public static func name(of value: UInt16) -> String {
        names[value] ?? "0x" + String(value, radix: 16, uppercase: true)
    }

    /// The key bits of a suite named as OpenSSL names it (`(256/256 bits)` in Postfix's log).
    public static func bits(ofName name: String) -> Int? {
        if name.contains("AES256") || name.contains("AES_256") || name.contains("CHACHA20") { return 256 }
        if name.contains("AES128") || name.contains("AES_128") { return 128 }
        return nil
    }

    /// The cipher suite a TLS ServerHello chose, from the first bytes a server sends after
    /// STARTTLS (RFC 8446 4.1.3, RFC 5246 7.4.1.3: record header, handshake header, version,
    /// random, session id, then the suite): `.needMore` until they are all there, nil when the
    /// bytes are no ServerHello.
    public static func fromServerHello(_ bytes: some Collection<UInt8>) -> ServerHelloScan {
        let bytes = Array(bytes)
        // Record: type 22 (handshake), version (2), length (2); handshake: type 2 (server_hello), length (3).
        guard !bytes.isEmpty else { return .needMore }
        guard bytes[0] == 22 else { return .notServerHello }
        guard bytes.count >= 6 else { return .needMore }
        guard bytes[5] == 2 else { return .notServerHello }
        // legacy_version (2) + random (32) after the 9 header bytes, then the session id's length.
        let sessionIDLength = 9 + 2 + 32
        guard bytes.count > sessionIDLength else { return .needMore }
        let suite = sessionIDLength + 1 + Int(bytes[sessionIDLength])
        guard bytes.count >= suite + 2 else { return .needMore }
        return .suite(UInt16(bytes[suite]) << 8 | UInt16(bytes[suite + 1]))
    }

    public enum ServerHelloScan: Sendable, Hashable {
        case needMore
        case notServerHello
        case suite(UInt16)
    }
}
