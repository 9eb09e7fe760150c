import DNSCore
import SMTPProtocol

extension DeliveryReport {
    /// A swaks-like account of the delivery: each attempt's connection, the dialogue
    /// (`<- ` from the server, ` -> ` from the client, `=== ` notes), its result, then the outcome.
    public func renderTranscript() -> String {
        var out: [String] = []
        if let source = destinationSource {
            let list = destinations.map { destination -> String in
                var item = "\(destination.host)[\(destination.address)]"
                if let preference = destination.preference, source == .mx { item = "\(preference) " + item }
                if destination.status != .candidate { item += " (\(destination.status.rawValue))" }
                return item
            }
            out.append(
                "=== Destinations (\(source.rawValue)): " + (list.isEmpty ? "none" : list.joined(separator: ", ")))
        }
        for (index, attempt) in attempts.enumerated() {
            let from = attempt.localAddress.map { " from [\($0)]" } ?? ""
            out.append("=== Trying [\(attempt.remoteAddress)]:\(attempt.port)\(from)...")
            for line in attempt.transcript {
                out.append(line.description)
            }
            var summary = "=== Attempt \(index + 1): \(attempt.result) at \(attempt.stage)"
            if let reply = attempt.reply { summary += ": \(reply)" }
            if let error = attempt.error, attempt.reply == nil { summary += ": \(error)" }
            out.append(summary)
            if let tls = attempt.tls {
                out.append("=== Attempt \(index + 1) ran over TLS: \(tls.trust.map { "\($0) " } ?? "")\(tls)")
            }
        }
        if let note { out.append("=== Note: \(note)") }
        out.append("=== Outcome: \(outcome)")
        for recipient in recipients {
            var line = "===   <\(recipient.address)>: \(recipient.outcome)"
            if let stage = recipient.stage { line += " at \(stage)" }
            if let reply = recipient.reply { line += ": \(reply)" }
            if let index = recipient.attemptIndex { line += " (attempt \(index + 1))" }
            out.append(line)
        }
        // What a server says is printed with control, invisible and bidi characters escaped.
        return out.map { Printable.escaped($0) }.joined(separator: "\n") + "\n"
    }
}
