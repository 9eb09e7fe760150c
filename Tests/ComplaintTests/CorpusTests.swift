import Complaint
import Foundation
import MXHarnessTestKit
import Runner
import RunnerTestKit
import SMTPProtocol
import Scenario
import Testing

/// One input of `Corpus/` with the reading its README gives.
struct CorpusItem: Sendable, CustomTestStringConvertible {
    var file: String
    var code: Int
    var enhanced: String?
    var stage: SMTPStage?
    var outcome: DeliveryOutcome
    var family: String

    var testDescription: String { file }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    /// The README's table rows: `| file | source | code | enhanced | stage | outcome | family |`.
    static let all: [CorpusItem] = {
        guard let readme = try? String(contentsOf: directory.appendingPathComponent("README.md"), encoding: .utf8)
        else { return [] }
        return readme.split(separator: "\n").compactMap { line -> CorpusItem? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == 9, cells[1].first?.isNumber == true, let code = Int(cells[3]),
                let outcome = DeliveryOutcome(rawValue: cells[6])
            else { return nil }
            return CorpusItem(
                file: cells[1], code: code, enhanced: cells[4] == "-" ? nil : cells[4],
                stage: cells[5] == "-" ? nil : SMTPStage(rawValue: cells[5]), outcome: outcome, family: cells[7])
        }
    }()

    func text() throws -> String {
        try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
    }

    func reproduction() throws -> Reproduction {
        let input = try text()
        switch EvidenceReader.read(input) {
        case .success(let evidence): return ReproductionWriter.reproduce(evidence, input: input)
        case .failure(let error): throw error
        }
    }
}

@Suite struct ComplaintCorpusTests {
    @Test func theIndexListsEveryFileAndAtLeastThirty() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: CorpusItem.directory.path).filter {
            $0 != "README.md"
        }.sorted()
        #expect(files.count >= 30)
        #expect(CorpusItem.all.map(\.file).sorted() == files)
    }

    /// Issue #33's corpus: at least 80 inputs from sources the first 43 do not use, each source named.
    @Test func theSecondCorpusHasEightyNewItemsFromOtherSources() throws {
        let readme = try String(contentsOf: CorpusItem.directory.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.first(where: \.isNumber) != nil }
        func source(_ row: Substring) -> String? {
            row.range(of: #"https?://\S+"#, options: .regularExpression).map { String(row[$0]) }
        }
        func number(_ row: Substring) -> Int { Int(row.dropFirst(2).prefix { $0.isNumber }) ?? 0 }
        let old = Set(rows.filter { number($0) <= 43 }.compactMap(source))
        let new = rows.filter { number($0) > 43 }
        #expect(new.count >= 80)
        for row in new {
            let url = source(row)
            // Each new item names its source, or refers to the row above it ("same ...").
            #expect(url != nil || row.contains("| same "), "\(row.prefix(60))")
            if let url { #expect(!old.contains(url), "\(url) is already a source of the first corpus") }
        }
    }

    @Test(arguments: CorpusItem.all)
    func eachInputIsReadRight(_ item: CorpusItem) throws {
        let repro = try item.reproduction()
        let reply = try #require(repro.evidence.reply)
        #expect(reply.code == item.code)
        #expect(reply.enhanced == item.enhanced)
        #expect(repro.evidence.stage == item.stage)
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/\(item.file).yaml").first)
        #expect(scenario.expect.outcome == item.outcome)
        #expect(scenario.expect.family?.rawValue == item.family)
        // The expectation is one the written policy produces: the observed code, and a stage only
        // where the policy answers.
        #expect(scenario.expect.code == CodePattern(code: item.code))
        #expect(scenario.expect.enhanced == item.enhanced.flatMap(EnhancedPattern.init))
        // The expectation states the stage the input tells, at which the written policy answers
        // (format 1.2 answers at HELO and MAIL too); none it cannot produce.
        #expect(scenario.expect.stage == item.stage)
        #expect(repro.reproducesAsWritten)
        // Nothing read is dropped without a word: a stage the input does not tell is said to be left out.
        if item.stage == nil {
            #expect(repro.omissions.contains { $0.hasPrefix("expect.stage") })
        }
    }
}

/// Every corpus input's written scenario, run as written in a real world: it must reproduce.
@Suite(.serialized, .enabled(if: IntegrationEnvironment.canRunWorlds, IntegrationEnvironment.worldSkipReason))
struct ComplaintCorpusReplayTests {
    @Test(arguments: CorpusItem.all)
    func eachWrittenScenarioReproduces(_ item: CorpusItem) async throws {
        let repro = try item.reproduction()
        let scenario = try #require(
            try ScenarioLoader(kinds: builtinKinds).load(yaml: repro.yaml, file: "/tmp/\(item.file).yaml").first)
        let result = await CaseRunner(configuration: RunConfiguration(target: .builtin), parts: builtinParts).run(
            scenario)
        #expect(result.status == .passed, "\(result.status) \(result.mismatches)\n\(repro.yaml)")
        #expect(result.observed?.reply?.code == item.code)
        #expect(result.observed?.outcome == item.outcome)
    }
}
