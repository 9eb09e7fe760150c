import DNSCore

/// Everything the logs say about the site's clients, address by address.
public struct SessionLog: Sendable {
    public var addresses: [AddressEvidence]
    public var summary: ReadingSummary

    public init(addresses: [AddressEvidence], summary: ReadingSummary) {
        self.addresses = addresses
        self.summary = summary
    }

    /// Reads every file (plain or gzip, any mix of the formats census knows) in order.
    public static func read(_ paths: [String]) throws(LogReadError) -> SessionLog {
        var postfix = PostfixSessions()
        var exim = EximSessions()
        var summary = ReadingSummary()
        for path in paths {
            summary.files += 1
            do {
                try LogFiles.read(path) { given in
                    // A syslog line whose message is a whole log line of a container
                    // (`docker-compose[1]: mailserver-1  | Mar  1 ... postfix/smtpd[2]: ...`).
                    var record = given
                    if !EximSessions.isExim(record), !PostfixSessions.isPostfix(record),
                        let inner = LineFraming.containerInner(record.message),
                        case .record(let nested)? = LineFraming.frameDirect(inner, at: record.position)
                    {
                        record = nested
                    }
                    summary.lines += 1
                    summary.framings[record.framing.rawValue, default: 0] += 1
                    if let stamp = record.timestamp {
                        if summary.first == nil { summary.first = String(stamp) }
                        summary.last = String(stamp)
                    }
                    if EximSessions.isExim(record) {
                        exim.take(record)
                    } else if PostfixSessions.isPostfix(record) {
                        postfix.take(record)
                    }
                }
            } catch let error as LogReadError {
                throw error
            } catch {
                throw LogReadError(LogPosition(file: path, line: 0), "\(error)")
            }
        }
        postfix.finish()
        summary.notes += exim.finish()
        summary.postfixRecords = postfix.records
        summary.eximRecords = exim.records
        summary.authenticatedSessions = postfix.authenticatedSessions
        summary.loopbackSessions = postfix.loopbackSessions
        var merged = postfix.evidence
        for (address, entry) in exim.evidence {
            if merged[address] == nil { merged[address] = entry } else { merged[address]!.merge(entry) }
        }
        return SessionLog(addresses: merged.values.sorted { $0.address < $1.address }, summary: summary)
    }
}
