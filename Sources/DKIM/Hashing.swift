import Crypto

/// The two hashes of RFC 6376 3.7, shared by the signer and the verifier.
enum DKIMHashing {
    /// The canonical body, cut to `length` octets when l= is given; nil when l= is longer than it.
    static func bodyHash(_ body: [UInt8], canonicalization: Canonicalization, length: Int?) -> [UInt8]? {
        var canonical = canonicalization.body(body)
        if let length {
            guard length <= canonical.count else { return nil }
            canonical = Array(canonical.prefix(length))
        }
        return Array(SHA256.hash(data: canonical))
    }

    /// The header fields named in h=, each name taking its instances from the bottom up (RFC 6376
    /// 5.4.2; a name with no instance left contributes nothing), then the signature field itself
    /// with the value of b= removed and no CRLF at its end.
    static func headerData(
        message: DKIMMessage, signedHeaders: [String], signatureField: [UInt8], canonicalization: Canonicalization
    ) -> [UInt8] {
        var used: [String: Int] = [:]
        var data: [UInt8] = []
        for name in signedHeaders {
            let instances = message.fields(named: name)
            let taken = used[name, default: 0]
            used[name] = taken + 1
            guard taken < instances.count else { continue }
            data += canonicalization.header(instances[instances.count - 1 - taken])
        }
        let stripped = withoutSignatureValue(signatureField)
        let name =
            stripped.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: stripped[..<$0], as: UTF8.self) }
            ?? "DKIM-Signature"
        var last = canonicalization.header(DKIMMessage.Field(name: name.trimmingWhitespace, raw: stripped))
        if last.count >= 2, last[last.count - 2] == 13, last[last.count - 1] == 10 { last.removeLast(2) }
        return data + last
    }

    /// The field with the value of its b= tag removed (not bh=), everything else as it was.
    static func withoutSignatureValue(_ field: [UInt8]) -> [UInt8] {
        guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { return field }
        var out = Array(field[...colon])
        var segmentStart = colon + 1
        var index = colon + 1
        func flush(_ end: Int) {
            let segment = field[segmentStart..<end]
            if let equals = segment.firstIndex(of: UInt8(ascii: "=")) {
                let name = segment[..<equals].filter { !($0 == 32 || $0 == 9 || $0 == 13 || $0 == 10) }
                if name.elementsEqual("b".utf8) {
                    out += segment[...equals]
                    // Keep the CRLF that ends the field when b= is the last tag.
                    if end == field.endIndex, field.count >= 2, field[end - 2] == 13, field[end - 1] == 10,
                        equals < end - 2
                    {
                        out += [13, 10]
                    }
                    return
                }
            }
            out += segment
        }
        while index < field.endIndex {
            if field[index] == UInt8(ascii: ";") {
                flush(index)
                out.append(UInt8(ascii: ";"))
                segmentStart = index + 1
            }
            index += 1
        }
        flush(field.endIndex)
        return out
    }
}

extension String {
    var trimmingWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
