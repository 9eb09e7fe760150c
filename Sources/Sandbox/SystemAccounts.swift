#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Users and groups by name, safe to ask from several threads at once: every MTA and engine part
/// that owns files for a system user asks here.
///
/// getpwnam(3) and getgrnam(3) return a pointer into one static buffer per process ("The
/// return value may point to a static area, and may be overwritten by subsequent calls",
/// getpwnam(3)): two pooled Postfix instances set up at once (`--jobs 2`) read each other's
/// answer, so a queue folder meant for user postfix was given to root, and `postfix start`
/// failed with "not owned by postfix: .../queue/public ... mail system startup failed".
/// The reentrant getpwnam_r(3)/getgrnam_r(3) fill a buffer of the caller's.
public enum SystemAccounts {
    public struct User: Sendable, Hashable {
        public var uid: uid_t
        public var gid: gid_t

        public init(uid: uid_t, gid: gid_t) {
            self.uid = uid
            self.gid = gid
        }
    }

    /// The user called `name`, or nil when there is none.
    public static func user(named name: String) -> User? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        return withBuffer { buffer, size in
            let status = getpwnam_r(name, &entry, buffer, size, &result)
            if status == ERANGE { return .retry }
            guard status == 0, result != nil else { return .done(nil) }
            return .done(User(uid: entry.pw_uid, gid: entry.pw_gid))
        }
    }

    /// The id of the group called `name`, or nil when there is none.
    public static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        return withBuffer { buffer, size in
            let status = getgrnam_r(name, &entry, buffer, size, &result)
            if status == ERANGE { return .retry }
            guard status == 0, result != nil else { return .done(nil) }
            return .done(entry.gr_gid)
        }
    }

    private enum Attempt<T> {
        case done(T?)
        case retry
    }

    /// Calls `body` with a buffer for the entry's strings, twice as large each time it is too small
    /// (a group with many members needs more than sysconf's suggestion).
    private static func withBuffer<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> Attempt<T>) -> T? {
        var size = 4096
        while size <= 1 << 22 {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            switch body(buffer, size) {
            case .done(let value): return value
            case .retry: size *= 2
            }
        }
        return nil
    }
}
