import DNSCore
import Foundation

/// Reads log files line by line, plain or gzip-compressed (found by its magic bytes, decompressed
/// by `gzip -dc`), and hands each entry to `body` framed as a `LogRecord`. Formats may be mixed
/// within a file and between files. The first line in no format census reads stops the reading
/// with a `LogReadError` naming it.
public enum LogFiles {
    /// Reads `path`; `name` is how errors name the file (the path as given).
    public static func read(_ path: String, body: (LogRecord) throws -> Void) throws {
        let source = try ByteSource.open(path)
        defer { source.close() }
        var reader = ByteLines(source: source)
        var lineNumber = 0
        var entry = ExportEntry()
        while let line = try reader.nextLine() {
            lineNumber += 1
            let position = LogPosition(file: path, line: lineNumber)
            var bytes = line[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            let text = String(decoding: bytes, as: UTF8.self)
            if entry.isOpen, bytes.isEmpty {
                if let record = entry.record() { try body(record) }
                entry = ExportEntry()
                continue
            }
            guard let framed = LineFraming.frame(Substring(text), at: position) else {
                throw LogReadError(
                    position,
                    "not a line of any log format census reads (syslog, RFC 3339 or RFC 5424 syslog, journalctl -o short/json/export, Postfix maillog_file, Exim main log): \"\(Printable.excerpt(text, limit: 80))\""
                )
            }
            switch framed {
            case .record(let record):
                guard !entry.isOpen else {
                    throw LogReadError(
                        position,
                        "a log line inside a journal export entry (entries end with an empty line): \"\(Printable.excerpt(text, limit: 80))\""
                    )
                }
                try body(record)
            case .nothing:
                continue
            case .exportField(let name, let value):
                if !entry.isOpen { entry.start(at: position) }
                if let value {
                    entry.set(String(name), String(value))
                } else {
                    // A binary field: its length (64-bit little endian), the bytes, a newline.
                    guard let length = try reader.read(count: 8), length.count == 8 else {
                        throw LogReadError(
                            position, "journal export field \(Printable.escaped(name)) without its length")
                    }
                    let size = length.enumerated().reduce(UInt64(0)) {
                        $0 | UInt64($1.element) << (8 * UInt64($1.offset))
                    }
                    guard size < 1 << 26, let data = try reader.read(count: Int(size)), data.count == Int(size),
                        let newline = try reader.read(count: 1), newline == [UInt8(ascii: "\n")]
                    else {
                        throw LogReadError(position, "journal export field \(Printable.escaped(name)) is cut short")
                    }
                    entry.set(String(name), String(decoding: data, as: UTF8.self))
                    // The binary field's bytes may hold newlines: they do not count as lines.
                    lineNumber += data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } + 1
                }
            }
        }
        if entry.isOpen, let record = entry.record() { try body(record) }
    }
}

/// One `journalctl -o export` entry being read.
struct ExportEntry {
    var position: LogPosition?
    var fields: [String: String] = [:]

    var isOpen: Bool { position != nil }

    mutating func start(at position: LogPosition) {
        self.position = position
    }

    mutating func set(_ name: String, _ value: String) {
        fields[name] = value
    }

    /// The entry as a record; nil for an entry without a message (journald's own bookkeeping).
    func record() -> LogRecord? {
        guard let position, fields["MESSAGE"] != nil else { return nil }
        return JournalFields.record(
            message: fields["MESSAGE"], identifier: fields["SYSLOG_IDENTIFIER"],
            pid: fields["SYSLOG_PID"] ?? fields["_PID"],
            host: fields["_HOSTNAME"], timestamp: fields["__REALTIME_TIMESTAMP"], framing: .journalExport, at: position)
    }
}

/// A file's bytes, or its decompressed bytes when it is gzip.
final class ByteSource {
    private let handle: FileHandle
    private let process: Process?
    private let path: String
    private var pending: [UInt8]

    private init(handle: FileHandle, process: Process?, path: String, pending: [UInt8]) {
        self.handle = handle
        self.process = process
        self.path = path
        self.pending = pending
    }

    static func open(_ path: String) throws -> ByteSource {
        guard let file = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw LogReadError(
                LogPosition(file: path, line: 0),
                exists
                    ? (isDirectory.boolValue ? "a folder, not a log file" : "cannot be read (permissions?)")
                    : "no such file")
        }
        let magic = (try? file.read(upToCount: 2)) ?? Data()
        guard magic == Data([0x1F, 0x8B]) else {
            return ByteSource(handle: file, process: nil, path: path, pending: Array(magic))
        }
        try? file.close()
        // gzip -dc decompresses concatenated members too, as logrotate's files may have.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", "--", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw LogReadError(
                LogPosition(file: path, line: 0),
                "gzip-compressed, and gzip could not be started: \(error.localizedDescription)")
        }
        return ByteSource(handle: pipe.fileHandleForReading, process: process, path: path, pending: [])
    }

    /// The next bytes; empty at the end.
    func read() throws -> [UInt8] {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        let data = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        if data.isEmpty, let process {
            process.waitUntilExit()
            if process.terminationStatus != 0 {
                throw LogReadError(
                    LogPosition(file: path, line: 0),
                    "gzip could not decompress it (exit \(process.terminationStatus)): a damaged or cut-short .gz file")
            }
        }
        return Array(data)
    }

    func close() {
        try? handle.close()
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Lines of a byte source, and raw bytes for journal export's binary fields.
struct ByteLines {
    let source: ByteSource
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false

    init(source: ByteSource) {
        self.source = source
    }

    private mutating func fill() throws -> Bool {
        guard !finished else { return false }
        let more = try source.read()
        if more.isEmpty {
            finished = true
            return false
        }
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: more)
        return true
    }

    /// The next line without its newline; nil at the end. A last line without a newline counts.
    mutating func nextLine() throws -> ArraySlice<UInt8>? {
        var searchFrom = start
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            searchFrom = buffer.count
            let offset = searchFrom - start
            guard try fill() else {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                return line
            }
            searchFrom = start + offset
        }
    }

    /// Exactly `count` bytes (fewer at the end).
    mutating func read(count: Int) throws -> [UInt8]? {
        while buffer.count - start < count {
            guard try fill() else { break }
        }
        let available = min(count, buffer.count - start)
        guard available > 0 || count == 0 else { return nil }
        let out = Array(buffer[start..<(start + available)])
        start += available
        return out
    }
}
