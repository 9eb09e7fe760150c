#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSCore
import Foundation
import Logging
import Sandbox

extension PostfixInstance {
    static func prepareDirectories(paths: PostfixPaths, directory: String, delivery: PostfixDelivery, options: Options)
        throws
    {
        let fm = FileManager.default
        // Not with intermediate folders: a case folder removed meanwhile (the run interrupted)
        // must not come back.
        if !fm.fileExists(atPath: directory) {
            try fm.createDirectory(
                atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        }
        // Postfix's daemons run as user postfix and must reach data_directory and the queue:
        // every parent folder has to be traversable ("open lock file ... Permission denied").
        var parent = directory
        while parent.count > 1 {
            var info = stat()
            if stat(parent, &info) == 0, info.st_mode & 0o001 == 0 {
                throw PostfixInstanceError(
                    message:
                        "\(parent) is not traversable by user postfix (mode \(String(info.st_mode & 0o7777, radix: 8))): the case folder and its parents need o+x"
                )
            }
            parent = (parent as NSString).deletingLastPathComponent
        }
        try fm.createDirectory(
            atPath: paths.queueDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try fm.createDirectory(
            atPath: paths.tableDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try fm.createDirectory(
            atPath: paths.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let postfix = SystemAccounts.user(named: "postfix") else {
            throw PostfixInstanceError(
                message: "there is no user postfix: reinstall Postfix (apt-get install --reinstall postfix)")
        }
        guard chown(paths.dataDirectory, postfix.uid, postfix.gid) == 0 else {
            throw PostfixInstanceError(
                message:
                    "cannot give \(paths.dataDirectory) to user postfix: \(String(cString: strerror(errno))); run as root"
            )
        }
        if options.quickStart {
            // What `post-install create-missing` would make, so that `postfix start` can skip its
            // integrity checks (postfix-script: a `quick-start` file in the queue directory), which
            // run some two hundred commands.
            guard
                let files = try? String(
                    contentsOfFile: options.stockConfigDirectory + "/postfix-files", encoding: .utf8)
            else {
                throw PostfixInstanceError(
                    message: "cannot read \(options.stockConfigDirectory)/postfix-files: is Postfix installed?")
            }
            for folder in QueueLayout(postfixFiles: files).folders {
                let path = folder.path.isEmpty ? paths.queueDirectory : paths.queueDirectory + "/" + folder.path
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
                guard let user = SystemAccounts.user(named: folder.owner) else {
                    throw PostfixInstanceError(
                        message: "postfix-files names user \(folder.owner) for \(path), which does not exist")
                }
                var gid = gid_t.max
                if let name = folder.group {
                    guard let group = SystemAccounts.groupID(named: name) else {
                        throw PostfixInstanceError(
                            message: "postfix-files names group \(name) for \(path), which does not exist")
                    }
                    gid = group
                }
                guard chown(path, user.uid, gid) == 0, chmod(path, mode_t(folder.mode)) == 0 else {
                    throw PostfixInstanceError(
                        message: "cannot set owner and mode of \(path): \(String(cString: strerror(errno)))")
                }
            }
            _ = fm.createFile(atPath: paths.queueDirectory + "/quick-start", contents: nil)
        }
        if case .maildir(let uid, let gid) = delivery {
            try fm.createDirectory(
                atPath: paths.mailDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard chown(paths.mailDirectory, uid, gid) == 0 else {
                throw PostfixInstanceError(
                    message: "cannot give \(paths.mailDirectory) to uid \(uid): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func writeFiles(_ rendered: RenderedPostfixConfiguration, into etc: String, options: Options) throws {
        let fm = FileManager.default
        let stock = options.stockConfigDirectory
        guard let stockMaster = try? String(contentsOfFile: stock + "/master.cf", encoding: .utf8) else {
            throw PostfixInstanceError(
                message: "cannot read \(stock)/master.cf: is Postfix installed? (apt-get install postfix)")
        }
        let config = etc + "/postfix"
        try fm.createDirectory(
            atPath: config, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // Everything else of the installed configuration (postfix-files*, dynamicmaps.cf*,
        // post-install, tables a base main.cf may name), since ours hides /etc/postfix.
        for entry in try fm.contentsOfDirectory(atPath: stock) where entry != "main.cf" && entry != "master.cf" {
            try fm.copyItem(atPath: stock + "/" + entry, toPath: config + "/" + entry)
        }
        if let site = rendered.site {
            try writeSiteFiles(site, into: config)
        }
        try rendered.masterCF(stock: stockMaster).write(
            toFile: config + "/master.cf", atomically: true, encoding: .utf8)
        try rendered.mainCF.write(toFile: config + "/main.cf", atomically: true, encoding: .utf8)
        for (path, contents) in rendered.files {
            try writeTable(contents, to: path)
        }
        // Only the world's unbound answers (resolv.conf(5)); /etc/hosts knows nothing but localhost.
        let resolv = ResolvConf(
            nameserver: options.nameserver, timeoutSeconds: options.dnsTimeoutSeconds, attempts: options.dnsAttempts
        ).text
        try resolv.write(toFile: etc + "/resolv.conf", atomically: true, encoding: .utf8)
        // The machine's own name stays in it, so that looking it up never reaches the world's DNS.
        let machine = ProcessInfo.processInfo.hostName
        let names = ["localhost"] + (machine.isEmpty || machine == "localhost" ? [] : [machine])
        let hosts = "127.0.0.1 \(names.joined(separator: " "))\n::1 localhost\n"
        try hosts.write(toFile: etc + "/hosts", atomically: true, encoding: .utf8)
        for file in ["resolv.conf", "hosts", "postfix/main.cf", "postfix/master.cf"] {
            chmod(etc + "/" + file, 0o644)
        }
        backdateAll(rendered, config: config)
    }

    /// A table or certificate file of the configuration; a private key readable by root alone.
    static func writeTable(_ contents: String, to path: String) throws {
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        if PostfixTLS.isPrivate(path) { chmod(path, 0o600) }
    }

    /// The installation's own files in a configuration directory, which a site's copy must not
    /// replace: they name this machine's shared objects and queue layout.
    static func isInstallationFile(_ relative: String) -> Bool {
        let first = relative.split(separator: "/").first.map(String.init) ?? relative
        return [
            "dynamicmaps.cf", "dynamicmaps.cf.d", "postfix-files", "postfix-files.d", "post-install", "postfix-script",
            "makedefs.out",
            "main.cf.proto", "master.cf.proto",
        ].contains(first)
    }

    /// The site's files, as they are, over the installed configuration's (whose installation
    /// files stay).
    static func writeSiteFiles(_ site: PostfixSiteDirectory, into config: String) throws {
        let fm = FileManager.default
        for (relative, file) in site.files.sorted(by: { $0.key < $1.key }) where !isInstallationFile(relative) {
            guard !relative.split(separator: "/").contains("..") else { continue }
            let target = config + "/" + relative
            let folder = (target as NSString).deletingLastPathComponent
            try fm.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
            guard
                fm.createFile(
                    atPath: target, contents: file.contents, attributes: [.posixPermissions: Int(file.mode & 0o777)])
            else {
                throw PostfixInstanceError(message: "cannot write \(target), the copy of \(site.path)/\(relative)")
            }
        }
    }

    /// Every file of the configuration directory and every table of the case a minute old.
    static func backdateAll(_ rendered: RenderedPostfixConfiguration, config: String) {
        for entry in FileManager.default.enumerator(atPath: config)?.allObjects as? [String] ?? [] {
            backdate(config + "/" + entry)
        }
        for path in rendered.files.keys { backdate(path) }
    }

    /// The indexed tables (`hash:`, `lmdb:`, ...) the configuration names inside its own
    /// configuration directory, compiled with postmap(1) in the copy `config` as the site would;
    /// tables elsewhere are the machine's and are left alone (the preflight reports missing ones).
    /// With `namespace`, postmap runs there (`ip netns exec`, where the copy is /etc/postfix and
    /// main.cf's inet_interfaces exist); without, on `config` itself (`postmap -c`).
    static func compileTables(
        _ rendered: RenderedPostfixConfiguration, config: String, namespace: String? = nil, options: Options,
        outputPath: String
    ) async throws {
        guard rendered.site != nil else { return }
        let postmap = (options.postfixPath as NSString).deletingLastPathComponent + "/postmap"
        var done: Set<String> = []
        for reference in PostfixReferences.scan(rendered.allParameters) {
            guard case .indexedTable(let type) = reference.kind,
                let copy = PostfixSiteDirectory.copyPath(of: reference.path, config: config)
            else { continue }
            guard done.insert(type + ":" + copy).inserted, FileManager.default.fileExists(atPath: copy) else {
                continue
            }
            let status =
                if let namespace {
                    await run(
                        options.ipPath, ["netns", "exec", namespace, postmap, "\(type):\(reference.path)"],
                        outputPath: outputPath, timeout: options.startTimeout)
                } else {
                    await run(
                        postmap, ["-c", config, "\(type):\(copy)"], outputPath: outputPath,
                        timeout: options.startTimeout)
                }
            guard status == 0 else {
                throw PostfixInstanceError(
                    message: "`postmap \(type):\(reference.path)` failed (status \(status)) for \(reference.parameter)",
                    output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
            }
        }
        backdateAll(rendered, config: config)
    }

    /// Sets a file's modification time a minute back. Postfix waits, 300 ms at a time, until a
    /// configuration file it loads is more than a second old ("pausing to let FILE cool down",
    /// dict_load_file_xt() in dict_file.c), which made every start take about two seconds.
    package static func backdate(_ path: String) {
        var times = [timespec](repeating: timespec(), count: 2)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        now.tv_sec -= 60
        times[0] = now
        times[1] = now
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }
}
