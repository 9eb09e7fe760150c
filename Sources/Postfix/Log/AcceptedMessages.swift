extension PostfixLog {
    /// How many messages smtpd accepted, from the command counts of its `disconnect from` lines
    /// (postfix-3.7.11 smtpd.c: ` data=S` when every DATA succeeded, ` data=S/T` otherwise; a
    /// DATA succeeds when its message was queued). nil when a session in `log` has not ended.
    public static func messagesAccepted(inSessionLog log: String) -> Int? {
        let lines = PostfixLog(text: log).lines.compactMap(PostfixLogLine.init).filter { $0.daemon == "smtpd" }
        let connects = lines.filter { $0.message.hasPrefix("connect from ") }.count
        var disconnects = 0
        var accepted = 0
        for line in lines where line.message.hasPrefix("disconnect from ") {
            disconnects += 1
            guard let field = line.message.split(separator: " ").first(where: { $0.hasPrefix("data=") }) else {
                continue
            }
            let counts = field.dropFirst("data=".count).split(separator: "/")
            guard let success = counts.first.flatMap({ Int($0) }) else { return nil }
            accepted += success
        }
        return disconnects >= connects ? accepted : nil
    }
}
