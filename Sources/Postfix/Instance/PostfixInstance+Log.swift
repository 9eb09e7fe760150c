#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

/// A position in the maillog, to read only what was logged after it (a shared instance serving
/// one case after another).
public struct PostfixLogMark: Sendable, Hashable, Comparable {
    public var offset: UInt64
    public static let start = PostfixLogMark(offset: 0)
    public static func < (lhs: PostfixLogMark, rhs: PostfixLogMark) -> Bool { lhs.offset < rhs.offset }
}

extension PostfixInstance {
    /// The maillog so far, as lines.
    public var log: [String] { PostfixLog(text: logText(since: .start)).lines }

    /// The end of the log now; pass it to `log(since:)` and `sessionLog(client:since:)` later.
    public func logMark() -> PostfixLogMark {
        let size =
            (try? FileManager.default.attributesOfItem(atPath: paths.logFile)[.size] as? NSNumber)?.uint64Value ?? 0
        return PostfixLogMark(offset: size)
    }

    public func log(since mark: PostfixLogMark) -> PostfixLog { PostfixLog(text: logText(since: mark)) }

    /// The lines of the smtpd sessions of `client` (with the lines of the messages they queued).
    public func sessionLog(client: IPAddress, since mark: PostfixLogMark = .start) -> [String] {
        log(since: mark).sessionLog(client: client)
    }

    /// The lines a case's report shows: `clients`' sessions and every problem line of the
    /// instance since `mark` (`PostfixLog.caseLog`).
    public func caseLog(clients: [IPAddress], since mark: PostfixLogMark = .start) -> [String] {
        log(since: mark).caseLog(clients: clients)
    }

    /// The `NOQUEUE: reject: ...` line of `client`'s sessions, if any.
    public func rejectLine(client: IPAddress, since mark: PostfixLogMark = .start) -> String? {
        log(since: mark).rejectLine(client: client)
    }

    private func logText(since mark: PostfixLogMark) -> String {
        guard let handle = FileHandle(forReadingAtPath: paths.logFile) else { return "" }
        defer { try? handle.close() }
        try? handle.seek(toOffset: mark.offset)
        let data = (try? handle.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
