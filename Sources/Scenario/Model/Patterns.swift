import Foundation

/// `expect.code`: a reply code, with `x` for any digit (`550`, `55x`, `5xx`).
public struct CodePattern: Sendable, Hashable, CustomStringConvertible {
    /// Three characters, each a digit or `x`.
    public let pattern: String

    /// Accepts three characters, each a digit or `x`/`X`; the first must be 2 to 5 or `x`
    /// (RFC 5321 4.2.1: the reply classes).
    public init?(_ text: String) {
        let chars = Array(text.lowercased())
        guard chars.count == 3,
            chars.allSatisfy({ $0 == "x" || ("0"..."9").contains($0) }),
            chars[0] == "x" || ("2"..."5").contains(chars[0])
        else { return nil }
        pattern = String(chars)
    }

    public init(code: Int) {
        pattern = String(code)
    }

    public func matches(_ code: Int) -> Bool {
        let digits = Array(String(code))
        let chars = Array(pattern)
        guard digits.count == chars.count else { return false }
        return zip(chars, digits).allSatisfy { $0 == "x" || $0 == $1 }
    }

    public var description: String { pattern }
}

/// `expect.enhanced`: an RFC 3463 status code, `x` matching any component (`5.7.25`, `5.7.x`).
public struct EnhancedPattern: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    /// Three dot-separated components, each 1 to 3 digits or `x`; the class (first) is 2, 4, 5 or `x`.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3,
            parts.allSatisfy({ $0 == "x" || ((1...3).contains($0.count) && $0.allSatisfy { ("0"..."9").contains($0) }) }
            ),
            ["x", "2", "4", "5"].contains(parts[0])
        else { return nil }
        components = parts
    }

    public func matches(_ enhanced: String?) -> Bool {
        guard let enhanced else { return false }
        let parts = enhanced.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        // Compare numerically, so `5.7.025` from a sloppy server still matches `5.7.25`.
        return zip(components, parts).allSatisfy { pattern, part in
            pattern == "x" || (Int(pattern) != nil && Int(pattern) == Int(part))
        }
    }

    public var description: String { components.joined(separator: ".") }
}

/// `expect.text`: a case-insensitive substring of the reply text, or `/regex/`.
///
/// The regular expression is matched case-insensitively too, like the substring form (write `(?-i)`
/// inside it to match case); it is NSRegularExpression (ICU) syntax and may match anywhere in the text.
public enum TextMatcher: Sendable, Hashable, CustomStringConvertible {
    case substring(String)
    case regex(String)

    /// Why a `/.../` pattern does not compile.
    public struct InvalidRegex: Error, Sendable, Hashable, CustomStringConvertible {
        public var pattern: String
        public var reason: String
        public var description: String { "invalid regular expression /\(pattern)/: \(reason)" }
    }

    /// `/.../` (at least two characters, both ends a slash) is a regular expression; anything else a substring.
    public static func parse(_ text: String) throws(InvalidRegex) -> TextMatcher {
        guard text.count >= 2, text.hasPrefix("/"), text.hasSuffix("/") else { return .substring(text) }
        let pattern = String(text.dropFirst().dropLast())
        do {
            _ = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        } catch {
            throw InvalidRegex(
                pattern: pattern, reason: "ICU could not compile it (\((error as NSError).localizedDescription))")
        }
        return .regex(pattern)
    }

    public func matches(_ text: String) -> Bool {
        switch self {
        case .substring(let needle):
            return needle.isEmpty || text.range(of: needle, options: [.caseInsensitive]) != nil
        case .regex(let pattern):
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else {
                return false
            }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    /// As written in a scenario.
    public var description: String {
        switch self {
        case .substring(let text): text
        case .regex(let pattern): "/\(pattern)/"
        }
    }
}
