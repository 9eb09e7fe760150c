import DNSCore
import Foundation
import Testing
import Yams

/// docker-compose.yml and the files it builds from, checked without a container engine: the
/// Compose specification's JSON schema (through python3-jsonschema, the validator Debian has),
/// and the agreement between the fixed addresses of the file, the unbound world, the Postfix
/// receiver and the harness's entrypoint. Running the file is scripts/compose-podman's job.
@Suite struct ComposeFileTests {
    @Test(
        .enabled(
            if: SchemaValidator.isRequired || SchemaValidator.isAvailable,
            "python3 with jsonschema and yaml is missing (Debian: python3-jsonschema python3-yaml)"))
    func composeFileIsValidAgainstTheComposeSchema() throws {
        let result = try SchemaValidator.validate(Repository.path("docker-compose.yml"))
        #expect(
            result.status == 0, "docker-compose.yml against docker/compose-spec/compose-spec.json:\n\(result.output)")
    }

    /// The validator must see mistakes, or the test above could not fail.
    @Test(
        .enabled(
            if: SchemaValidator.isRequired || SchemaValidator.isAvailable,
            "python3 with jsonschema and yaml is missing (Debian: python3-jsonschema python3-yaml)"))
    func schemaRejectsAMisspelledKeyAndAWrongType() throws {
        let original = try Repository.text("docker-compose.yml")
        let broken =
            original
            .replacingOccurrences(of: "    hostname: ns.compose.test", with: "    hostnme: ns.compose.test")
            .replacingOccurrences(of: "enable_ipv6: true", with: "enable_ipv6: 6")
        #expect(broken != original)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mxharness-compose-\(getpid()).yml")
            .path
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try SchemaValidator.validate(path)
        #expect(result.status == 1)
        #expect(result.output.contains("services.unbound: 'hostnme'"), "\(result.output)")
        #expect(result.output.contains("networks.mail.enable_ipv6"), "\(result.output)")
    }

    @Test func networkIsIPv6EnabledWithDocumentationSubnets() throws {
        let compose = try ComposeFile.load()
        #expect(compose.network["enable_ipv6"] as? Bool == true)
        let subnets = compose.subnets
        #expect(subnets.count == 2)
        #expect(Set(subnets.map(\.address.family)) == [.ipv4, .ipv6])
        for subnet in subnets {
            #expect(Documentation.contains(subnet.address), "\(subnet.address) is not a documentation address")
            // 192.0.2.0/24 and 203.0.113.0/24 are the CI machine's own network and its Debian
            // mirror: a bridge on either takes the machine's route to them.
            #expect(!subnet.address.isInside(IPAddress("192.0.2.0")!, prefixLength: 24))
            #expect(!subnet.address.isInside(IPAddress("203.0.113.0")!, prefixLength: 24))
        }
    }

    @Test(arguments: ["unbound", "postfix", "harness"])
    func serviceHasFixedAddressesInsideTheSubnets(_ name: String) throws {
        let compose = try ComposeFile.load()
        let addresses = try compose.addresses(of: name)
        #expect(addresses.map(\.family).sorted { $0.rawValue < $1.rawValue } == [.ipv4, .ipv6])
        for address in addresses {
            #expect(
                compose.subnets.contains { address.isInside($0.address, prefixLength: $0.prefixLength) },
                "\(name): \(address) is outside the network's subnets")
        }
    }

    @Test func serviceAddressesAreDistinct() throws {
        let compose = try ComposeFile.load()
        let all = try ["unbound", "postfix", "harness"].flatMap { try compose.addresses(of: $0) }
        #expect(Set(all).count == all.count)
    }

    /// The world the postfix service checks senders against must name the addresses the file gives.
    @Test func unboundWorldPublishesTheServiceAddresses() throws {
        let compose = try ComposeFile.load()
        let conf = try Repository.text("docker/unbound/unbound.conf")
        let lines = conf.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func has(_ line: String) -> Bool { lines.contains(line) }
        #expect(has(#"local-data: "compose.test. 300 IN MX 10 mx.compose.test.""#))
        for (service, name) in [
            ("postfix", "mx.compose.test."), ("unbound", "ns.compose.test."), ("harness", "sender.compose.test."),
        ] {
            for address in try compose.addresses(of: service) {
                let type = address.family == .ipv4 ? "A" : "AAAA"
                #expect(has("local-data: \"\(name) 300 IN \(type) \(address)\""), "no \(type) \(address) for \(name)")
                #expect(has("local-data-ptr: \"\(address) 300 \(name)\""), "no PTR \(address) -> \(name)")
                // Each PTR lies in a reverse zone the configuration makes static.
                let zone =
                    address.family == .ipv4
                    ? address.reversedLabels.suffix(3).joined(separator: ".") + ".in-addr.arpa."
                    : address.reversedLabels.suffix(16).joined(separator: ".") + ".ip6.arpa."
                #expect(has("local-zone: \"\(zone)\" static"), "no static zone \(zone)")
            }
        }
        // The harness's second address is the one without reverse DNS.
        let second = try #require(IPAddress(try Entrypoint.default("second6")))
        #expect(!conf.contains("local-data-ptr: \"\(second) "))
        #expect(compose.subnets.contains { second.isInside($0.address, prefixLength: $0.prefixLength) })
        #expect(has(#"local-zone: "." static"#))
    }

    @Test func servicesPointAtEachOther() throws {
        let compose = try ComposeFile.load()
        let unbound = try compose.addresses(of: "unbound")
        let postfix = try compose.addresses(of: "postfix")
        let harness = try compose.addresses(of: "harness")
        func environment(_ service: String, _ key: String) -> IPAddress? {
            ((compose.services[service]?["environment"] as? [String: Any])?[key] as? String).flatMap { IPAddress($0) }
        }
        #expect(environment("postfix", "MXHARNESS_DNS").map { unbound.contains($0) } == true)
        #expect(environment("harness", "MXHARNESS_DNS").map { unbound.contains($0) } == true)
        #expect(environment("harness", "MXHARNESS_MX6").map { postfix.contains($0) && $0.family == .ipv6 } == true)
        #expect(environment("harness", "MXHARNESS_MX4").map { postfix.contains($0) && $0.family == .ipv4 } == true)
        for (key, service) in [
            ("dns", unbound), ("mx6", postfix), ("mx4", postfix), ("own6", harness), ("own4", harness),
        ] {
            let value = try #require(IPAddress(try Entrypoint.default(key)), "entrypoint default for \(key)")
            #expect(service.contains(value), "docker/harness/entrypoint: \(key) defaults to \(value)")
        }
    }

    @Test func harnessIsPrivilegedAndWritesReportsToAMountedFolder() throws {
        let compose = try ComposeFile.load()
        let harness = try #require(compose.services["harness"])
        #expect(harness["privileged"] as? Bool == true)
        let volumes = harness["volumes"] as? [String] ?? []
        #expect(volumes.contains("./reports:/reports"))
        #expect(volumes.contains("./Scenarios:/scenarios:ro"))
        let entrypoint = try Repository.text("docker/harness/entrypoint")
        #expect(entrypoint.contains("--junit \"$reports/junit.xml\""))
        #expect(entrypoint.contains("--target postfix --postfix-config /etc/mxharness/postfix/main.cf"))
        let dependencies = harness["depends_on"] as? [String: Any] ?? [:]
        #expect(Set(dependencies.keys) == ["unbound", "postfix"])
    }

    /// Every file a Dockerfile copies is in the repository (docker/stage/ is made by the scripts).
    @Test(arguments: ["unbound", "postfix", "harness"])
    func buildInputsExist(_ name: String) throws {
        let compose = try ComposeFile.load()
        let build = try #require(compose.services[name]?["build"] as? [String: Any])
        #expect(build["context"] as? String == ".")
        let dockerfile = try #require(build["dockerfile"] as? String)
        let text = try Repository.text(dockerfile)
        #expect(text.contains("ARG BASE_IMAGE=debian:bookworm-slim\nFROM ${BASE_IMAGE}"))
        for line in text.split(separator: "\n") where line.hasPrefix("COPY ") {
            let sources = line.split(separator: " ").dropFirst().dropLast()
            for source in sources where !source.hasPrefix("docker/stage/") {
                #expect(
                    FileManager.default.fileExists(atPath: Repository.path(String(source))),
                    "\(dockerfile): COPY \(source)")
            }
        }
    }

    /// scripts/compose-podman installs exactly these versions: every requirement is pinned with
    /// `==`, podman-compose among them at 1.6 (Debian's 1.0.3 cannot run the file).
    @Test func podmanComposeAndItsDependenciesArePinned() throws {
        let lines = try Repository.text("docker/podman/requirements.txt").split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(!lines.isEmpty)
        for line in lines {
            let parts = line.components(separatedBy: "==")
            #expect(parts.count == 2 && !parts[0].isEmpty && parts[1].first?.isNumber == true, "not pinned: \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("podman-compose==1.6.") })
        let script = try Repository.text("scripts/compose-podman")
        #expect(script.contains("-r docker/podman/requirements.txt"))
    }

    /// The base main.cf is the layer under every case's policy: it must not decide anything a
    /// scenario or the harness decides.
    @Test func siteMainCFLeavesPolicyAndAddressesToTheScenario() throws {
        let text = try Repository.text("docker/postfix/main.cf")
        let names = text.split(separator: "\n")
            .filter { !$0.hasPrefix("#") && $0.contains("=") }
            .map { $0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces) }
        #expect(!names.isEmpty)
        for name in names {
            #expect(
                !name.hasPrefix("smtpd_") || name == "smtpd_banner" || name == "smtpd_tls_security_level", "\(name)")
            #expect(
                !["mydestination", "myhostname", "inet_interfaces", "inet_protocols", "mynetworks"].contains(name),
                "\(name)")
        }
    }
}

// MARK: - Helpers

enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
}

struct ComposeError: Error, CustomStringConvertible {
    var description: String
}

struct Subnet {
    var address: IPAddress
    var prefixLength: Int
}

struct ComposeFile {
    var document: [String: Any]

    static func load() throws -> ComposeFile {
        let text = try Repository.text("docker-compose.yml")
        guard let document = try Yams.load(yaml: text) as? [String: Any] else {
            throw ComposeError(description: "docker-compose.yml: not a mapping at the top level")
        }
        return ComposeFile(document: document)
    }

    var services: [String: [String: Any]] {
        (document["services"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    var network: [String: Any] {
        (document["networks"] as? [String: Any])?["mail"] as? [String: Any] ?? [:]
    }

    var subnets: [Subnet] {
        let configs = (network["ipam"] as? [String: Any])?["config"] as? [[String: Any]] ?? []
        return configs.compactMap { config in
            let parts = (config["subnet"] as? String ?? "").split(separator: "/")
            guard parts.count == 2, let address = IPAddress(parts[0]), let length = Int(parts[1]) else { return nil }
            return Subnet(address: address, prefixLength: length)
        }
    }

    func addresses(of service: String) throws -> [IPAddress] {
        guard let networks = services[service]?["networks"] as? [String: Any],
            let mail = networks["mail"] as? [String: Any]
        else {
            throw ComposeError(description: "docker-compose.yml: service \(service) has no networks.mail mapping")
        }
        return try ["ipv4_address", "ipv6_address"].compactMap { key in
            guard let text = mail[key] as? String else { return nil }
            guard let address = IPAddress(text) else {
                throw ComposeError(
                    description: "docker-compose.yml: \(service).networks.mail.\(key) `\(text)` is not an address")
            }
            return address
        }
    }
}

enum Documentation {
    static let ranges: [(String, Int)] = [
        ("192.0.2.0", 24), ("198.51.100.0", 24), ("203.0.113.0", 24), ("2001:db8::", 32),
    ]

    static func contains(_ address: IPAddress) -> Bool {
        ranges.contains { address.isInside(IPAddress($0.0)!, prefixLength: $0.1) }
    }
}

enum Entrypoint {
    /// The default of `NAME="${MXHARNESS_X:-DEFAULT}"` in docker/harness/entrypoint.
    static func `default`(_ name: String) throws -> String {
        let text = try Repository.text("docker/harness/entrypoint")
        for line in text.split(separator: "\n") where line.hasPrefix("\(name)=\"${") {
            if let start = line.range(of: ":-"),
                let end = line.range(of: "}\"", range: start.upperBound..<line.endIndex)
            {
                return String(line[start.upperBound..<end.lowerBound])
            }
        }
        throw ComposeError(description: "docker/harness/entrypoint: no `\(name)=\"${...:-DEFAULT}\"` line")
    }
}

enum SchemaValidator {
    /// In CI the schema test must run, so a missing validator fails it instead of skipping it.
    static var isRequired: Bool { ProcessInfo.processInfo.environment["MXHARNESS_CI"] == "1" }

    static var isAvailable: Bool {
        (try? run(["-c", "import jsonschema, yaml"]).status) == 0
    }

    static func validate(_ file: String) throws -> (status: Int32, output: String) {
        try run([Repository.path("docker/compose-spec/validate.py"), file])
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
