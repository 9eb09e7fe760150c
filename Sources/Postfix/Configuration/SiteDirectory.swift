import Foundation

/// A site's whole Postfix configuration directory (`--postfix-config-dir`, `receiver.postfix_dir`):
/// main.cf, master.cf and every other file in it (maps, pcre/cidr files, certificates), read once.
///
/// An instance gets a copy as its `/etc/postfix` (`ip netns exec` bind-mounts it there), so every
/// path that names the site's /etc/postfix names the copy. Compiled tables (`.db`, `.lmdb`,
/// `.cdb`, `.dir`/`.pag`) are not copied: `postmap` builds them from their sources in the copy,
/// as the site would, with this machine's Postfix.
public struct PostfixSiteDirectory: Sendable, Hashable {
    /// The folder as given, made absolute.
    public var path: String
    public var mainCF: MainCF
    /// master.cf as written, nil when the folder has none (the installed one is used).
    public var masterCF: String?
    /// Every other regular file, by path relative to the folder, with its permission bits.
    public var files: [String: File]
    /// Why the folder could not be read; rendering a configuration with it then fails with this.
    public var problem: String?

    public struct File: Sendable, Hashable {
        public var contents: Data
        public var mode: UInt16
    }

    /// Suffixes of compiled tables, rebuilt with postmap instead of copied.
    public static let compiledSuffixes = [".db", ".lmdb", ".cdb", ".dir", ".pag"]
    /// Files larger than this are not read (a site folder holds configuration, not data).
    public static let largestFile = 16 << 20

    public init(path: String, mainCF: MainCF, masterCF: String?, files: [String: File], problem: String? = nil) {
        self.path = path
        self.mainCF = mainCF
        self.masterCF = masterCF
        self.files = files
        self.problem = problem
    }

    /// Reads the folder; a folder that cannot be read gives a value whose `problem` says why.
    public static func load(path: String) -> PostfixSiteDirectory {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let root = (absolute as NSString).standardizingPath
        func failed(_ problem: String) -> PostfixSiteDirectory {
            PostfixSiteDirectory(path: root, mainCF: MainCF(), masterCF: nil, files: [:], problem: problem)
        }
        let fm = FileManager.default
        guard let mainText = try? String(contentsOfFile: root + "/main.cf", encoding: .utf8) else {
            return failed("\(root)/main.cf cannot be read: give the folder holding the site's main.cf and master.cf")
        }
        let main: MainCF
        do { main = try MainCF.parse(mainText, source: root + "/main.cf") } catch { return failed("\(error)") }
        var masterCF: String?
        var files: [String: File] = [:]
        guard let entries = fm.enumerator(atPath: root) else { return failed("\(root) cannot be listed") }
        for case let relative as String in entries {
            let full = root + "/" + relative
            // A symbolic link counts as the file it names (sites link certificates and shared maps).
            var info = stat()
            guard stat(full, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if relative == "main.cf" { continue }
            if compiledSuffixes.contains(where: { relative.hasSuffix($0) }) { continue }
            guard Int(info.st_size) <= largestFile else {
                return failed("\(full) is larger than \(largestFile >> 20) MiB: not a configuration file")
            }
            guard let data = fm.contents(atPath: full) else { return failed("\(full) cannot be read") }
            if relative == "master.cf" {
                masterCF = String(decoding: data, as: UTF8.self)
                continue
            }
            files[relative] = File(contents: data, mode: UInt16(info.st_mode & 0o7777))
        }
        return PostfixSiteDirectory(path: root, mainCF: main, masterCF: masterCF, files: files)
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: PostfixSiteDirectory] = [:]

    /// `load(path:)` once per path for the process: every case naming the folder gets the same copy.
    public static func cached(path: String) -> PostfixSiteDirectory {
        if let known = cacheLock.withLock({ cache[path] }) { return known }
        let loaded = load(path: path)
        cacheLock.withLock { cache[path] = loaded }
        return loaded
    }

    /// `path` in the instance's copy of the configuration directory `config`, when it names the
    /// site's /etc/postfix; nil for any other path.
    public static func copyPath(of path: String, config: String) -> String? {
        let prefix = "/etc/postfix/"
        guard path.hasPrefix(prefix) else { return nil }
        return config + "/" + path.dropFirst(prefix.count)
    }

    /// Where main.cf set `name`: `PATH/main.cf:LINE`, or the file alone.
    public func location(of name: String) -> String {
        mainCF.lines[name].map { "\(path)/main.cf:\($0)" } ?? "\(path)/main.cf"
    }
}
