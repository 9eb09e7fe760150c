/// A DKIM tag-value list (RFC 6376 3.2): `tag=value; tag=value`, whitespace (FWS) around tags
/// and values ignored, tag names case-sensitive, a trailing `;` allowed, a tag given twice an error.
public struct TagList: Sendable, Hashable {
    /// The tags in the order written, values with surrounding whitespace removed.
    public private(set) var tags: [(name: String, value: String)]

    public static func == (lhs: TagList, rhs: TagList) -> Bool {
        lhs.tags.map(\.name) == rhs.tags.map(\.name) && lhs.tags.map(\.value) == rhs.tags.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        for (name, value) in tags { hasher.combine(name); hasher.combine(value) }
    }

    public subscript(name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    public init(parsing text: String) throws(DKIMSyntaxError) {
        tags = []
        var seen = Set<String>()
        let parts = text.split(separator: ";", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            let trimmed = Self.trimFWS(Substring(part))
            if trimmed.isEmpty {
                // Only the last element may be empty ("a=b;"); "a=b;;c=d" is not a tag-list.
                if index == parts.count - 1 && index > 0 { continue }
                throw .emptyTag(position: index + 1)
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw .missingEquals(tag: String(trimmed.prefix(40)))
            }
            let name = String(Self.trimFWS(trimmed[..<equals]))
            guard Self.isTagName(name) else { throw .badTagName(String(name.prefix(40))) }
            guard seen.insert(name).inserted else { throw .duplicateTag(name) }
            let value = String(Self.trimFWS(trimmed[trimmed.index(after: equals)...]))
            tags.append((name, value))
        }
    }

    /// RFC 6376 3.2: tag-name = ALPHA *ALNUMPUNC (ALNUMPUNC = ALPHA / DIGIT / "_").
    static func isTagName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isFWS(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\n" || c == "\r\n" }

    static func trimFWS(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, isFWS(first) { text.removeFirst() }
        while let last = text.last, isFWS(last) { text.removeLast() }
        return text
    }

    /// The value with every whitespace character removed (b=, bh= and p= allow FWS inside base64).
    static func withoutFWS(_ value: String) -> String {
        String(value.filter { !isFWS($0) })
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

/// Why a DKIM-Signature field, key record or DMARC record could not be read.
public enum DKIMSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyTag(position: Int)
    case missingEquals(tag: String)
    case badTagName(String)
    case duplicateTag(String)
    case missingTag(String)
    case badValue(tag: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .emptyTag(let position): "tag \(position) is empty (two ';' in a row)"
        case .missingEquals(let tag): "\"\(tag)\" has no '=' (write tag=value; ...)"
        case .badTagName(let name): "\"\(name)\" is not a tag name (a letter, then letters, digits or '_')"
        case .duplicateTag(let name): "tag \(name)= is given twice"
        case .missingTag(let name): "the required tag \(name)= is missing"
        case .badValue(let tag, let value, let expected):
            "\(tag)=\(value.prefix(60)) is not valid: expected \(expected)"
        }
    }
}
