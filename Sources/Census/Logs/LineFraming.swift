import Foundation

/// What one line of a text log is.
enum FramedLine {
    case record(LogRecord)
    /// A line with nothing to read: blank, or a `journalctl` marker (`-- Boot 3f2a... --`,
    /// `-- No entries --`).
    case nothing
    /// `FIELD=value` or a binary field's name alone (`journalctl -o export`).
    case exportField(name: Substring, value: Substring?)
}

/// Reads the framing of one line: which of the formats census knows it is in, and the host,
/// program, pid and message it carries. Pure; no regular expressions (a week of a large site's
/// logs is millions of lines).
enum LineFraming {
    static let months: Set<Substring> = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// The line's framing, or nil when it is in none census reads. A line of `docker compose
    /// logs` (`mailserver-1  | LINE`) is its inner line.
    static func frame(_ line: Substring, at position: LogPosition) -> FramedLine? {
        if let framed = frameDirect(line, at: position) { return framed }
        if let inner = containerInner(line) { return frameDirect(inner, at: position) }
        return nil
    }

    /// `NAME  | LINE` (Docker Compose's log prefix): the inner line.
    static func containerInner(_ line: Substring) -> Substring? {
        guard let bar = line.prefix(120).range(of: " | ") else { return nil }
        let name = line[..<bar.lowerBound].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        return line[bar.upperBound...]
    }

    static func frameDirect(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let first = line.utf8.first else { return .nothing }
        if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { return .nothing }
        switch first {
        case UInt8(ascii: "<"):
            return rfc5424(line, at: position) ?? prefixedSyslog(line, at: position)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return isoSyslog(line, at: position) ?? eximMain(line, at: position)
        case UInt8(ascii: "{"):
            return journalJSON(line, at: position)
        case UInt8(ascii: "-"):
            // journalctl's own lines: `-- Boot 1a2b... --`, `-- Logs begin at ... --`, `-- No entries --`.
            let trimmed = line.last == "\r" ? line.dropLast() : line
            return trimmed.hasPrefix("-- ") && trimmed.hasSuffix(" --") ? .nothing : nil
        default:
            if let record = syslog(line, at: position) { return record }
            return exportField(line)
        }
    }

    // MARK: Classic syslog

    /// `Mmm dd hh:mm:ss[.frac] host rest` (day space- or zero-padded).
    static func syslog(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard line.count > 16 else { return nil }
        let month = line.prefix(3)
        guard months.contains(month) else { return nil }
        var rest = line.dropFirst(3)
        guard rest.first == " " else { return nil }
        rest = rest.dropFirst()
        if rest.first == " " { rest = rest.dropFirst() }
        let day = rest.prefix { $0.isASCII && $0.isNumber }
        guard (1...2).contains(day.count) else { return nil }
        rest = rest.dropFirst(day.count)
        guard rest.first == " " else { return nil }
        rest = rest.dropFirst()
        guard let afterTime = clock(rest) else { return nil }
        let stamp = line[line.startIndex..<afterTime]
        rest = line[afterTime...]
        guard rest.first == " " else { return nil }
        return hostAndTag(rest.dropFirst(), framing: .syslog, timestamp: stamp, at: position)
    }

    /// `<13>Mar  1 ...`: a syslog line with its priority still in front (RFC 3164 4.1.1).
    static func prefixedSyslog(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let close = line.firstIndex(of: ">"), line.distance(from: line.startIndex, to: close) <= 4 else {
            return nil
        }
        let digits = line[line.index(after: line.startIndex)..<close]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return syslog(line[line.index(after: close)...], at: position)
    }

    /// `hh:mm:ss` and an optional `.fraction`: the index after it.
    static func clock(_ text: Substring) -> Substring.Index? {
        let bytes = Array(text.utf8.prefix(8))
        guard bytes.count == 8, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: ":"),
            [0, 1, 3, 4, 6, 7].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) })
        else { return nil }
        var index = text.utf8.index(text.startIndex, offsetBy: 8)
        if index < text.endIndex, text[index] == "." {
            let after = text.index(after: index)
            let fraction = text[after...].prefix { $0.isASCII && $0.isNumber }
            if !fraction.isEmpty { index = fraction.endIndex }
        }
        return index
    }

    /// `host tag[pid]: message`, `host tag: message`, or `host free text` (rsyslog's own lines,
    /// `last message repeated N times`).
    static func hostAndTag(_ text: Substring, framing: LogFraming, timestamp: Substring?, at position: LogPosition)
        -> FramedLine?
    {
        guard let space = text.firstIndex(of: " ") else {
            // A host and nothing else: an empty message.
            guard !text.isEmpty else { return nil }
            return .record(
                LogRecord(
                    position: position, framing: framing, host: String(text), program: "", pid: nil, message: "",
                    timestamp: timestamp))
        }
        let host = String(text[..<space])
        guard !host.isEmpty else { return nil }
        // A syslog daemon that writes no host (`Mar  4 10:00:01 postfix/smtpd[1]: ...`).
        if host.hasSuffix(":"), host.contains("[") || framing == .syslog,
            case (let program, let pid, let message) = tag(text), !program.isEmpty
        {
            return .record(
                LogRecord(
                    position: position, framing: framing, host: nil, program: program, pid: pid, message: message,
                    timestamp: timestamp))
        }
        var rest = text[text.index(after: space)...]
        var (program, pid, message) = tag(rest)
        // BusyBox syslogd and others write the facility and priority before the tag (`mx mail.info postfix/smtpd[1]: ...`).
        if program.isEmpty, let word = rest.split(separator: " ", maxSplits: 1).first, Self.isFacilityPriority(word) {
            rest = rest.dropFirst(word.count).drop { $0 == " " }
            (program, pid, message) = tag(rest)
        }
        return .record(
            LogRecord(
                position: position, framing: framing, host: host, program: program, pid: pid, message: message,
                timestamp: timestamp))
    }

    /// `mail.info`, `daemon.warn`: syslog's facility and priority (RFC 3164 4.1.1's names).
    static func isFacilityPriority(_ word: Substring) -> Bool {
        let parts = word.split(separator: ".")
        guard parts.count == 2 else { return false }
        let priorities: Set<Substring> = [
            "emerg", "alert", "crit", "err", "error", "warn", "warning", "notice", "info", "debug",
        ]
        return priorities.contains(parts[1]) && parts[0].allSatisfy { $0.isLetter || $0.isNumber }
    }

    /// Splits `tag[pid]: message` or `tag: message`; a text with no tag is all message.
    static func tag(_ text: Substring) -> (program: String, pid: Int?, message: Substring) {
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "[" {
                let program = text[text.startIndex..<index]
                guard let close = text[index...].firstIndex(of: "]") else { break }
                let digits = text[text.index(after: index)..<close]
                let after = text[text.index(after: close)...]
                guard let pid = Int(digits), after.hasPrefix(":") else { break }
                return (String(program), pid, after.dropFirst().drop { $0 == " " })
            }
            if character == ":" {
                let after = text[text.index(after: index)...]
                guard index > text.startIndex, after.isEmpty || after.first == " " else { break }
                return (String(text[text.startIndex..<index]), nil, after.drop { $0 == " " })
            }
            if character == " " { break }
            index = text.index(after: index)
        }
        return ("", nil, text)
    }

    // MARK: RFC 3339 syslog, Exim

    /// `YYYY-MM-DD` at the start: the index after it.
    static func date(_ text: Substring) -> Substring.Index? {
        let bytes = Array(text.utf8.prefix(10))
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) })
        else { return nil }
        return text.utf8.index(text.startIndex, offsetBy: 10)
    }

    /// A zone suffix after a time: `Z`, `+01:00`, `+0100`; the index after it (or `index` when none).
    static func zone(_ text: Substring, from index: Substring.Index) -> Substring.Index {
        guard index < text.endIndex else { return index }
        if text[index] == "Z" { return text.index(after: index) }
        guard text[index] == "+" || text[index] == "-" else { return index }
        let rest = text[text.index(after: index)...]
        let digits = rest.prefix { ($0.isASCII && $0.isNumber) || $0 == ":" }
        return digits.filter(\.isNumber).count == 4 ? digits.endIndex : index
    }

    /// `2024-03-01T12:00:00[.frac][zone] host tag[pid]: message`.
    static func isoSyslog(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let afterDate = date(line), afterDate < line.endIndex, line[afterDate] == "T" else { return nil }
        guard let afterTime = clock(line[line.index(after: afterDate)...]) else { return nil }
        let end = zone(line, from: afterTime)
        guard end < line.endIndex, line[end] == " " else { return nil }
        return hostAndTag(line[line.index(after: end)...], framing: .isoSyslog, timestamp: line[..<end], at: position)
    }

    /// Exim's main log: `2024-03-01 12:00:00[.mmm][ +0100] [[pid]] text` (`log_selector = +pid`
    /// puts the pid in brackets).
    static func eximMain(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let afterDate = date(line), afterDate < line.endIndex, line[afterDate] == " " else { return nil }
        guard let afterTime = clock(line[line.index(after: afterDate)...]) else { return nil }
        var rest = line[afterTime...]
        var stampEnd = afterTime
        if rest.hasPrefix(" +") || rest.hasPrefix(" -") {
            let end = zone(line, from: line.index(after: afterTime))
            if end != line.index(after: afterTime) { stampEnd = end }
            rest = line[stampEnd...]
        }
        guard rest.isEmpty || rest.first == " " else { return nil }
        rest = rest.drop { $0 == " " }
        var pid: Int?
        if rest.first == "[", let close = rest.firstIndex(of: "]"),
            let number = Int(rest[rest.index(after: rest.startIndex)..<close])
        {
            pid = number
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        return .record(
            LogRecord(
                position: position, framing: .eximMain, host: nil, program: "exim", pid: pid, message: rest,
                timestamp: line[..<stampEnd]))
    }

    // MARK: RFC 5424

    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]` (RFC 5424 6); `-` is a nil value.
    static func rfc5424(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let close = line.firstIndex(of: ">") else { return nil }
        let priority = line[line.index(after: line.startIndex)..<close]
        guard (1...3).contains(priority.count), priority.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var rest = line[line.index(after: close)...]
        guard rest.hasPrefix("1 ") else { return nil }
        rest = rest.dropFirst(2)
        var fields: [Substring] = []
        for _ in 0..<5 {
            guard let space = rest.firstIndex(of: " ") else { return nil }
            fields.append(rest[..<space])
            rest = rest[rest.index(after: space)...]
        }
        // Structured data: `-` or one or more `[id param="value" ...]` (`\]` and `\"` escaped inside values).
        if rest.hasPrefix("-") {
            rest = rest.dropFirst()
        } else {
            guard rest.first == "[" else { return nil }
            var inQuotes = false
            var escaped = false
            var depth = 0
            var index = rest.startIndex
            scan: while index < rest.endIndex {
                let character = rest[index]
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes.toggle()
                } else if !inQuotes, character == "[" {
                    depth += 1
                } else if !inQuotes, character == "]" {
                    depth -= 1
                    if depth == 0 {
                        let next = rest.index(after: index)
                        if next == rest.endIndex || rest[next] != "[" {
                            index = next
                            break scan
                        }
                    }
                }
                index = rest.index(after: index)
            }
            guard depth == 0 else { return nil }
            rest = rest[index...]
        }
        if rest.first == " " { rest = rest.dropFirst() }
        if rest.hasPrefix("\u{FEFF}") { rest = rest.dropFirst() }
        func value(_ field: Substring) -> String? { field == "-" ? nil : String(field) }
        let program = value(fields[2]) ?? ""
        return .record(
            LogRecord(
                position: position, framing: .rfc5424, host: value(fields[1]), program: program,
                pid: value(fields[3]).flatMap { Int($0) },
                message: rest, timestamp: fields[0]))
    }

    // MARK: journald

    /// `journalctl -o json`: `MESSAGE` (a string, or an array of bytes when it is not UTF-8),
    /// `SYSLOG_IDENTIFIER`, `SYSLOG_PID` or `_PID`, `_HOSTNAME`.
    static func journalJSON(_ line: Substring, at position: LogPosition) -> FramedLine? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return nil
        }
        guard object["__CURSOR"] != nil || object["MESSAGE"] != nil || object["__REALTIME_TIMESTAMP"] != nil else {
            return nil
        }
        func text(_ key: String) -> String? {
            switch object[key] {
            case let string as String: return string
            case let bytes as [Any]:
                let values = bytes.compactMap { ($0 as? NSNumber).map { UInt8(truncatingIfNeeded: $0.intValue) } }
                return String(decoding: values, as: UTF8.self)
            default: return nil
            }
        }
        return .record(
            JournalFields.record(
                message: text("MESSAGE"), identifier: text("SYSLOG_IDENTIFIER"),
                pid: text("SYSLOG_PID") ?? text("_PID"),
                host: text("_HOSTNAME"), timestamp: text("__REALTIME_TIMESTAMP"), framing: .journalJSON, at: position))
    }

    /// `FIELD=value`, or a field name alone (a binary field follows: a 64-bit little-endian length,
    /// the bytes, a newline). Field names are upper case letters, digits and `_` (journal-export(5)).
    static func exportField(_ line: Substring) -> FramedLine? {
        let name = line.prefix { ($0.isASCII && ($0.isUppercase || $0.isNumber)) || $0 == "_" }
        guard let first = name.first, !first.isNumber else { return nil }
        let rest = line[name.endIndex...]
        if rest.isEmpty { return .exportField(name: name, value: nil) }
        guard rest.first == "=" else { return nil }
        return .exportField(name: name, value: rest.dropFirst())
    }
}

/// journald's fields as a record (the JSON and the export format carry the same ones).
enum JournalFields {
    static func record(
        message: String?, identifier: String?, pid: String?, host: String?, timestamp: String?, framing: LogFraming,
        at position: LogPosition
    ) -> LogRecord {
        var text = Substring(message ?? "")
        var program = identifier ?? ""
        var number = pid.flatMap { Int($0) }
        if identifier == nil {
            // A message that kept its syslog tag.
            let split = LineFraming.tag(text)
            if !split.program.isEmpty {
                program = split.program
                number = number ?? split.pid
                text = split.message
            }
        }
        return LogRecord(
            position: position, framing: framing, host: host, program: program, pid: number, message: text,
            timestamp: timestamp.map { Substring($0) })
    }
}
