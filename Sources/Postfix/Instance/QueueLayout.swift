/// The folders a queue directory needs, read from the installed `postfix-files` (the list
/// `post-install create-missing` works from): `$queue_directory/active:d:$mail_owner:-:700:ucr`.
public struct QueueLayout: Sendable, Hashable {
    public struct Folder: Sendable, Hashable {
        /// Relative to the queue directory; "" for the queue directory itself.
        public var path: String
        /// A user name, after `$mail_owner` is replaced.
        public var owner: String
        /// A group name, or nil for "-" (left as created).
        public var group: String?
        public var mode: UInt16
    }

    public var folders: [Folder]

    public init(postfixFiles: String, mailOwner: String = "postfix", setgidGroup: String = "postdrop") {
        var folders: [Folder] = []
        func resolve(_ name: Substring) -> String? {
            switch name {
            case "-": nil
            case "$mail_owner": mailOwner
            case "$setgid_group": setgidGroup
            default: String(name)
            }
        }
        for line in postfixFiles.split(separator: "\n") where line.hasPrefix("$queue_directory") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 5, fields[1] == "d", let mode = UInt16(fields[4], radix: 8),
                let owner = resolve(fields[2])
            else { continue }
            let path = fields[0].dropFirst("$queue_directory".count).drop { $0 == "/" }
            guard !path.contains("$"), !path.contains("..") else { continue }
            folders.append(Folder(path: String(path), owner: owner, group: resolve(fields[3]), mode: mode))
        }
        self.folders = folders
    }
}
