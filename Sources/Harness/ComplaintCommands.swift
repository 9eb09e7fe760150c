#if canImport(Glibc)
import Glibc
#endif
import Complaint
import DNSCore
import Foundation
import Logging
import Runner
import Sandbox
import Scenario

/// `mxharness capture`'s arguments.
public struct CaptureOptions: Sendable {
    /// `ADDR` or `ADDR@PORT`: the only server the capture talks to.
    public var resolver: String
    public var client: String
    public var helo: String
    /// The envelope sender; `""` or `<>` is the null sender.
    public var from: String
    public var to: [String]
    public var output: String?
    /// Seconds one query may take before it is recorded as a timeout.
    public var timeout: Double
    public var dnsbl: [String]
    /// A scenario (a `mxharness repro` file) whose policy and expectation the captured world goes with.
    public var complaint: String?
    /// The receiver and sender names, and kinds' keys, the `complaint` file may use.
    public var kinds: ScenarioKinds = .core

    public init(
        resolver: String, client: String, helo: String, from: String, to: [String], output: String? = nil,
        timeout: Double = 3, dnsbl: [String] = [], complaint: String? = nil
    ) {
        self.resolver = resolver
        self.client = client
        self.helo = helo
        self.from = from
        self.to = to
        self.output = output
        self.timeout = timeout
        self.dnsbl = dnsbl
        self.complaint = complaint
    }
}

/// A `capture` argument that cannot be used, with what was expected.
public struct CaptureUsageError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Whether `repro` runs the scenario it wrote before it hands it over.
public enum ReproVerification: Sendable {
    /// `--verify`: run it; without root and unbound that is an error.
    case required
    /// The default: run it when the machine can (root, unbound), else say why not.
    case ifPossible
    /// `--no-verify`.
    case skipped
}

extension Harness {
    /// `mxharness repro [INPUT] [-o FILE|DIR] [--message N] [--verify | --no-verify]`: a bounce (an
    /// .eml message with its MIME parts, or its text), a DSN, a log line or a transcript (a file,
    /// or standard input for none or `-`) into a scenario that reproduces it, checked by running it
    /// in a real world before it is handed over. An mbox of several bounces gives one scenario per
    /// bounce (`--message N` picks one): each in its own file with `-o DIR`, or as the documents of
    /// one multi-document YAML on standard output. The scenario goes to FILE or standard output;
    /// the account of every value (read, inferred, assumed, left out) and the check's verdict to
    /// standard error, or standard output when the scenario goes to a file.
    public static func repro(
        input: String?, output: String?, message: Int? = nil, verification: ReproVerification = .ifPossible,
        parts: PartCatalog,
        logger: Logger
    ) async throws(HarnessError) -> Verdict {
        let out = Output()
        let text: String
        let inputName: String
        if let input, input != "-" {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw .usage("repro: cannot read \(input): no such file, or not readable")
            }
            text = String(decoding: data, as: UTF8.self)
            inputName = input
        } else {
            if isatty(0) == 1 { out.error("mxharness repro: paste the bounce, log line or transcript, then Ctrl-D") }
            text = String(decoding: (try? FileHandle.standardInput.readToEnd()) ?? Data(), as: UTF8.self)
            inputName = "standard input"
        }
        let messages = Mailbox.messages(text)
        if let message {
            guard (1...messages.count).contains(message) else {
                throw .usage(
                    "repro --message \(message): \(inputName) holds \(messages.count) message\(messages.count == 1 ? "" : "s") (1 to \(messages.count))"
                )
            }
            return try await reproOne(
                messages[message - 1], inputName: "\(inputName), message \(message)", output: output,
                verification: verification, parts: parts, logger: logger)
        }
        guard messages.count > 1 else {
            return try await reproOne(
                text, inputName: inputName, output: output, verification: verification, parts: parts, logger: logger)
        }
        // An mbox of several bounces: one scenario each.
        var directory: String?
        if let output {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
                directory = output
            } else if output.hasSuffix("/") {
                do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch
                {
                    throw .failed("repro: cannot make \(output): \(error.localizedDescription)")
                }
                directory = output
            } else {
                throw .usage(
                    "repro: \(inputName) is an mbox of \(messages.count) messages: give -o DIRECTORY for one scenario file each, or --message N (1 to \(messages.count)) for one"
                )
            }
        }
        let stem = URL(fileURLWithPath: inputName).deletingPathExtension().lastPathComponent
        var verdict = Verdict.passed
        var documents: [String] = []
        var unread: [String] = []
        for (index, message) in messages.enumerated() {
            let number = index + 1
            out.error("Message \(number) of \(messages.count): \(Mailbox.summary(message))")
            let path = directory.map { ($0.hasSuffix("/") ? $0 : $0 + "/") + "\(stem)-\(number).yaml" }
            do {
                let one = try await reproOne(
                    message, inputName: "\(inputName), message \(number)", output: path, verification: verification,
                    parts: parts, logger: logger,
                    name: "repro-m\(number)", print: false)
                if one.verdict == .failed { verdict = .failed }
                if path == nil { documents.append(one.yaml) }
            } catch let error {
                // A message of the mailbox that is no bounce (a reply, a digest) is said and skipped.
                out.error("  not read: \(error)")
                unread.append(String(number))
            }
        }
        if !documents.isEmpty {
            try? FileHandle.standardOutput.write(contentsOf: Data(documents.joined(separator: "---\n").utf8))
        }
        if !unread.isEmpty {
            out.error(
                "repro: \(unread.count) of \(messages.count) messages not read (\(unread.joined(separator: ", "))); the others are written"
            )
            if unread.count == messages.count {
                throw .usage("repro: none of the \(messages.count) messages of \(inputName) is a bounce repro reads")
            }
        }
        return verdict
    }

    private static func reproOne(
        _ text: String, inputName: String, output: String?, verification: ReproVerification, parts: PartCatalog,
        logger: Logger
    ) async throws(HarnessError) -> Verdict {
        try await reproOne(
            text, inputName: inputName, output: output, verification: verification, parts: parts, logger: logger,
            name: nil, print: true
        ).verdict
    }

    /// One bounce into one scenario: read, written, checked, handed over (to `output`, or to
    /// standard output when `print`; the YAML is returned either way).
    private static func reproOne(
        _ text: String, inputName: String, output: String?, verification: ReproVerification, parts: PartCatalog,
        logger: Logger,
        name: String?, print: Bool
    ) async throws(HarnessError) -> (verdict: Verdict, yaml: String) {
        let out = Output()
        let evidence: Evidence
        switch EvidenceReader.read(text) {
        case .success(let read): evidence = read
        case .failure(let unrecognized):
            throw .usage("repro: \(inputName): \(unrecognized)")
        }
        let reproduction = ReproductionWriter.reproduce(evidence, input: text, scenarioPath: output, name: name)
        // The file must load as the runner will load it; a failure here is a bug in the writer, said plainly.
        let scenario: ScenarioCase
        do {
            guard
                let first = try ScenarioLoader(kinds: parts.scenarioKinds).load(
                    yaml: reproduction.yaml, file: output ?? "repro.yaml"
                ).first
            else {
                throw CaptureUsageError(description: "no case in the written scenario")
            }
            scenario = first
        } catch {
            throw .failed(
                "repro: the scenario written for this input does not load (a bug in mxharness, please report it with the input):\n\(error)\n\(reproduction.yaml)"
            )
        }
        let toFile = output != nil
        func say(_ text: String) { if toFile { out.line(text) } else { out.error(text) } }
        say("Read \(inputName) as: \(evidence.source)")
        for line in reproduction.report where !line.contains(": LEFT OUT — ") { say("  " + line) }
        if !reproduction.omissions.isEmpty {
            say("Left out (read, but not stated in the scenario):")
            for omission in reproduction.omissions { say("  - " + omission) }
        }
        if !reproduction.todos.isEmpty {
            say("Assumed (replace with what you know):")
            for todo in reproduction.todos { say("  - " + todo) }
        }
        say("Record the real DNS instead of the written world: \(reproduction.captureCommand)")

        var verdict = Verdict.passed
        switch verification {
        case .skipped:
            say("Not run (--no-verify): check it with mxharness run")
        case .required, .ifPossible:
            // As root only: a user namespace would start this process again, and the input read
            // from standard input would be gone.
            let problem = geteuid() == 0 ? Preflight.prepare(logger: logger) : Preflight.rootReason("repro --verify")
            if let problem {
                if verification == .required {
                    throw .usage("repro --verify: cannot run the scenario here: \(problem)")
                }
                say(
                    "Not run: checking the scenario needs root and unbound (\(problem.split(separator: ".").first ?? "")); run it with mxharness run, or repro --verify as root"
                )
            } else {
                let check = await verify(scenario, parts: parts, logger: logger)
                say(check.message)
                if !check.reproduces { verdict = .failed }
            }
        }
        if let output {
            do {
                try reproduction.yaml.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw .failed("repro: cannot write \(output): \(error.localizedDescription)")
            }
            say("Wrote \(output); run it with: mxharness run \(output)")
        } else if print {
            try? FileHandle.standardOutput.write(contentsOf: Data(reproduction.yaml.utf8))
        }
        return (verdict, reproduction.yaml)
    }

    /// Runs a written reproduction in a world of its own: "reproduces", or exactly why not.
    public static func verify(_ scenario: ScenarioCase, parts: PartCatalog, logger: Logger) async -> (
        reproduces: Bool, message: String
    ) {
        let result = await CaseRunner(configuration: RunConfiguration(), parts: parts, logger: logger).run(scenario)
        switch result.status {
        case .passed:
            let observed =
                result.observed.map {
                    " (\($0.outcome) \($0.family?.rawValue ?? "") \($0.stage?.rawValue ?? "") \($0.reply.map { String($0.code) } ?? ""))"
                } ?? ""
            return (true, "Ran it: reproduces\(observed).")
        case .failed:
            let lines = result.mismatches.map { "  - " + $0.description }
            return (
                false, "Ran it: does NOT reproduce; the world written here gives:\n" + lines.joined(separator: "\n")
            )
        case .skipped(let reason):
            return (false, "Ran it: skipped (\(reason))")
        case .error(let message):
            return (false, "Ran it: could not run: \(message)")
        }
    }

    /// `mxharness capture`: everything a receiver would look up for one delivery, asked of one
    /// resolver, written as a scenario. Connects to nothing but that resolver; sends no mail.
    public static func capture(_ options: CaptureOptions, logger: Logger) async throws(HarnessError) {
        let out = Output()
        do {
            let (yaml, world) = try await captureScenario(options, namespace: nil, logger: logger)
            let unanswered = world.faults.count
            let summary =
                "captured \(world.records.count) records, \(unanswered) failing name(s), \(world.notes.count) note(s); SPF over them: \(world.spfVerdict)"
            if let output = options.output {
                try yaml.write(toFile: output, atomically: true, encoding: .utf8)
                out.line("mxharness capture: \(summary); wrote \(output)")
            } else {
                try? FileHandle.standardOutput.write(contentsOf: Data(yaml.utf8))
                out.error("mxharness capture: \(summary)")
            }
        } catch let error as CaptureUsageError {
            throw .usage("capture: \(error)")
        } catch {
            throw .failed("capture: \(error)")
        }
    }

    /// The capture itself, with the network namespace the resolver's sockets live in (nil: the
    /// current one, as the CLI uses it; tests pass the namespace of a world of their own).
    static func captureScenario(_ options: CaptureOptions, namespace: NetworkNamespace?, logger: Logger) async throws
        -> (String, CapturedWorld)
    {
        guard let (server, port) = parseResolver(options.resolver) else {
            throw CaptureUsageError(
                description:
                    "--resolver \(options.resolver): expected ADDR or ADDR@PORT, e.g. 192.0.2.53 or 127.0.0.1@5353")
        }
        guard let client = IPAddress(options.client.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) else {
            throw CaptureUsageError(description: "--client \(options.client): not an IPv4 or IPv6 address")
        }
        guard !options.helo.isEmpty else {
            throw CaptureUsageError(description: "--helo: give the name the sending MTA says in EHLO")
        }
        let from = options.from == "<>" ? "" : options.from.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        let to = options.to.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) }
        guard !to.isEmpty, to.allSatisfy({ $0.contains("@") }) else {
            throw CaptureUsageError(description: "--to: give at least one recipient address (user@domain)")
        }
        guard options.timeout > 0 else { throw CaptureUsageError(description: "--timeout must be positive") }
        var complaint: ScenarioCase?
        if let path = options.complaint {
            do { complaint = try CaseLookup.one(file: path, variant: nil, kinds: options.kinds) } catch {
                throw CaptureUsageError(description: "--complaint \(path): \(error)")
            }
        }
        let request = CaptureRequest(
            client: client, helo: options.helo, mailFrom: from, rcptTo: to, dnsblZones: options.dnsbl,
            receiverName: complaint?.receiver.hostname ?? "mx.example.test")
        let world = try await CaptureSession.capture(
            request, server: server, port: port, namespace: namespace,
            timeout: .milliseconds(Int(options.timeout * 1000)), logger: logger)
        let yaml = world.scenarioYAML(CapturedScenarioOptions(resolver: "\(server)@\(port)", complaint: complaint))
        return (yaml, world)
    }
}
