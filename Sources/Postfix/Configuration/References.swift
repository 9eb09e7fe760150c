/// The files, tables and servers a Postfix configuration names, found in its parameter values
/// (postconf(5): lookup tables are `type:name`, optionally behind `proxy:`; a list element that
/// starts with `/` is a file whose lines are read in its place).
public struct PostfixReference: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A table compiled by postmap(1) from a source file (`hash:`, `btree:`, `lmdb:`, `cdb:`, ...).
        case indexedTable(type: String)
        /// A table read from its file as it is (`texthash:`, `pcre:`, `regexp:`, `cidr:`).
        case fileTable(type: String)
        /// A table whose file configures a client of a server (`mysql:`, `pgsql:`, `ldap:`, `sqlite:`, `memcache:`).
        case serverTable(type: String)
        /// A server at an endpoint (`socketmap:`, `tcp:` tables, milters, policy services).
        case endpoint(type: String)
        /// A plain file (TLS certificates and keys, `/file` list elements).
        case file
    }

    public var parameter: String
    public var kind: Kind
    /// The path (or endpoint) as written.
    public var path: String
    /// The whole token as written (`proxy:hash:/etc/postfix/virtual`).
    public var token: String
}

public enum PostfixReferences {
    static let indexedTypes: Set<String> = ["hash", "btree", "cdb", "lmdb", "dbm", "sdbm"]
    static let fileTypes: Set<String> = ["texthash", "pcre", "regexp", "cidr"]
    static let serverTypes: Set<String> = ["mysql", "pgsql", "ldap", "sqlite", "memcache", "mongodb"]
    static let endpointTypes: Set<String> = ["socketmap", "tcp", "inet"]
    /// Types that name no file: `static:`, `inline:{...}`, `unix:passwd.byname`, `dev:/dev/urandom`...
    static let fileless: Set<String> = [
        "static", "inline", "fail", "environ", "internal", "unix", "nis", "randmap", "dev", "egd",
    ]

    /// Parameters whose values are paths that need not exist beforehand, or that the harness
    /// owns, or that only delivery (not smtpd) uses.
    public static let notChecked: Set<String> = [
        "queue_directory", "data_directory", "maillog_file", "maillog_file_prefixes", "virtual_mailbox_base",
        "mail_spool_directory",
        "home_mailbox", "mailbox_command", "mailbox_command_maps", "config_directory", "daemon_directory",
        "command_directory",
        "shlib_directory", "meta_directory", "sendmail_path", "newaliases_path", "mailq_path", "html_directory",
        "manpage_directory",
        "readme_directory", "sample_directory", "import_environment", "export_environment",
        "alternate_config_directories",
        "multi_instance_directories", "tls_random_source", "smtpd_sasl_path", "smtp_sasl_path", "process_name",
        "syslog_name",
        "alias_database", "default_database_type", "default_cache_db_type",
    ]

    /// Every reference in `parameters`: tables, endpoints and plain files.
    public static func scan(_ parameters: [(name: String, value: String)]) -> [PostfixReference] {
        var found: [PostfixReference] = []
        for (name, value) in parameters where !notChecked.contains(name) {
            // Caches the daemons create themselves.
            if name.hasSuffix("_cache_database") || name.hasSuffix("_cache_map") || name == "address_verify_map" {
                continue
            }
            // `transport:nexthop` values, not tables.
            if name.hasSuffix("_transport") || name.hasSuffix("relayhost")
                || ["content_filter", "fallback_relay", "smtp_fallback_relay"].contains(name)
            {
                continue
            }
            let separators: Set<Character> = [" ", "\t", ",", "{", "}"]
            for word in value.split(whereSeparator: { separators.contains($0) }) {
                let token = String(word)
                if token.contains("$") { continue }
                if token.hasPrefix("/") {
                    found.append(PostfixReference(parameter: name, kind: .file, path: token, token: token))
                    continue
                }
                var rest = Substring(token)
                while rest.hasPrefix("proxy:") { rest = rest.dropFirst("proxy:".count) }
                guard let colon = rest.firstIndex(of: ":") else { continue }
                let type = String(rest[..<colon])
                let path = String(rest[rest.index(after: colon)...])
                guard !type.isEmpty, type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !path.isEmpty else {
                    continue
                }
                if indexedTypes.contains(type) {
                    found.append(
                        PostfixReference(parameter: name, kind: .indexedTable(type: type), path: path, token: token))
                } else if fileTypes.contains(type) {
                    found.append(
                        PostfixReference(parameter: name, kind: .fileTable(type: type), path: path, token: token))
                } else if serverTypes.contains(type) {
                    found.append(
                        PostfixReference(parameter: name, kind: .serverTable(type: type), path: path, token: token))
                } else if endpointTypes.contains(type) {
                    found.append(
                        PostfixReference(parameter: name, kind: .endpoint(type: type), path: path, token: token))
                } else if type == "unix", path.hasPrefix("/") || path.hasPrefix("private/") || path.hasPrefix("public/")
                {
                    // A milter or policy service socket (`unix:/run/opendkim.sock`, `unix:private/policy`).
                    found.append(
                        PostfixReference(parameter: name, kind: .endpoint(type: type), path: path, token: token))
                } else if !fileless.contains(type), path.hasPrefix("/") {
                    // An unknown type: reported by the preflight as not available.
                    found.append(
                        PostfixReference(parameter: name, kind: .serverTable(type: type), path: path, token: token))
                }
            }
        }
        return found
    }

    /// `-o name=value` options of a master.cf, in order.
    public static func masterOptions(_ masterCF: String) -> [(name: String, value: String)] {
        var options: [(name: String, value: String)] = []
        for line in masterCF.split(separator: "\n") where !String(line).trimmingWhitespace().hasPrefix("#") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            for (index, word) in words.enumerated() where word == "-o" && index + 1 < words.count {
                let option = words[index + 1]
                guard let equals = option.firstIndex(of: "=") else { continue }
                options.append((String(option[..<equals]), String(option[option.index(after: equals)...])))
            }
        }
        return options
    }
}
