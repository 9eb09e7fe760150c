#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Path helpers: names as the user wrote them for messages, canonical ones for identity.
enum Paths {
    static func isYAML(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    static func isUnderProfiles(_ path: String) -> Bool {
        path.split(separator: "/").dropLast().contains("_profiles")
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }

    static func start(of file: String) -> SourceLocation {
        SourceLocation(file: file, line: 1, column: 1)
    }

    /// `dir/name.yaml` → `name`.
    static func baseName(_ file: String) -> String {
        let last = file.split(separator: "/").last.map(String.init) ?? file
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return last }
        return String(last[..<dot])
    }

    /// `relative` seen from the folder of `file`, lexically normalized (`a/./b/../c` → `a/c`).
    static func resolve(_ relative: String, from file: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        let directory = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if directory.isEmpty { return normalize(file.hasPrefix("/") ? "/" + relative : relative) }
        return normalize(directory + "/" + relative)
    }

    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// The real path (symlinks resolved) when the file exists, else the normalized absolute path.
    static func canonical(_ path: String) -> String {
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return normalize(absolute)
    }

    /// A canonical path shown relative to the working folder when it is inside it.
    static func display(_ canonical: String) -> String {
        let cwd = Paths.canonical(FileManager.default.currentDirectoryPath)
        return canonical.hasPrefix(cwd + "/") ? String(canonical.dropFirst(cwd.count + 1)) : canonical
    }

    /// The largest scenario file or profile read.
    static let maximumFileSize = 4 << 20

    /// `/a/b` → `/a`; `/a` → `/`.
    static func parent(of canonical: String) -> String {
        guard let slash = canonical.lastIndex(of: "/"), slash != canonical.startIndex else { return "/" }
        return String(canonical[..<slash])
    }

    /// The nearest folder at or above `folder` that holds a `_profiles` folder: the scenario
    /// library `folder` belongs to.
    static func libraryRoot(above folder: String) -> String? {
        var current = folder
        while true {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(
                atPath: current == "/" ? "/_profiles" : current + "/_profiles", isDirectory: &isDirectory),
                isDirectory.boolValue
            {
                return current
            }
            if current == "/" { return nil }
            current = parent(of: current)
        }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The file as UTF-8 text, or where it is not.
    static func readText(_ file: String) -> Result<String, ScenarioDiagnostic> {
        var info = stat()
        if stat(file, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                return .failure(
                    ScenarioDiagnostic(
                        .unreadable, at: start(of: file), keyPath: "", "not a regular file: \(display(canonical(file)))"
                    ))
            }
            guard Int(info.st_size) <= maximumFileSize else {
                return .failure(
                    ScenarioDiagnostic(
                        .unreadable, at: start(of: file), keyPath: "",
                        "too large for a scenario file (\(info.st_size) bytes; at most \(maximumFileSize))"))
            }
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            return .failure(
                ScenarioDiagnostic(
                    .unreadable, at: start(of: file), keyPath: "",
                    "cannot read this file: \(error.localizedDescription)"))
        }
        let bytes = [UInt8](data)
        if let invalid = firstInvalidUTF8(bytes) {
            return .failure(
                ScenarioDiagnostic(
                    .unreadable, at: SourceLocation(file: file, line: invalid.line, column: invalid.column),
                    keyPath: "",
                    "not UTF-8 text (byte 0x\(String(bytes[invalid.offset], radix: 16)) at offset \(invalid.offset)); scenario files are UTF-8"
                ))
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// Where the first byte that is not part of valid UTF-8 is, if any.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int, column: Int)? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
                if encoded.count == 1 && encoded.first == 0x0a {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                return (min(offset, bytes.count - 1), line, column)
            case .emptyInput:
                return nil
            }
        }
    }
}
