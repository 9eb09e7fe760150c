import Foundation
import Matrix
import Policy
import Runner
import Scenario
import Testing

struct BaselineTests {
    @Test func theFileIsTheSameForTheSameResultsAndReadsBack() throws {
        let first = try Baseline(Fixtures.matrix()).encoded()
        // Another run of the same worlds: other queue ids, same file.
        var again = Fixtures.matrix()
        again.rows[0].cells[0].outcome.reply?.lines = ["Ok: queued as <id>"]
        let second = try Baseline(again).encoded()
        #expect(first == second)
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        #expect(!text.contains("MXH"), "queue ids are masked")
        // Cases sorted by name, cells by column: the diff of two baselines is the change.
        let dual = try #require(text.range(of: "\"dual-stack <no> & \\\"ipv6 ptr\\\"\""))
        let good = try #require(text.range(of: "\"good-sender\""))
        #expect(dual.lowerBound < good.lowerBound)
        #expect(text.contains("\"ipv6 tempfailed at rcpt 450 4.7.25\""), "one line per attempt")
        #expect(
            text.contains(
                "\"reply\" : \"550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]\""),
            "one line per reply")
        let decoded = try Baseline.decode(first, path: "b.json")
        #expect(decoded == Baseline(Fixtures.matrix()))
    }

    @Test func anUnchangedRunHasNoChanges() {
        let matrix = Fixtures.matrix()
        let comparison = BaselineComparison.compare(Baseline(matrix), with: matrix)
        #expect(comparison.isUnchanged)
        #expect(comparison.notes.isEmpty)
    }

    @Test func changedNewAndGoneCellsAreReportedWithBeforeAndAfter() {
        let old = Fixtures.matrix()
        var baseline = Baseline(old)
        baseline.cases["retired-case"] = ["fcrdns": CellOutcome(status: .ran, outcome: .delivered)]
        // The policy got stricter: the fallback case now bounces in the first column too.
        var new = old
        let dual = Fixtures.scenario("dual-stack <no> & \"ipv6 ptr\"")
        new.rows[0].cells[0] = MatrixCell(Fixtures.bounce(dual), isOwnPolicy: true)
        new.rows.append(MatrixRow(name: "new-case", cells: old.rows[1].cells))
        let comparison = BaselineComparison.compare(baseline, with: new)
        #expect(comparison.changes.map(\.kind) == [.changed, .added, .added, .removed])
        let changed = comparison.changes[0]
        #expect(changed.caseName == "dual-stack <no> & \"ipv6 ptr\"")
        #expect(changed.column == "fcrdns")
        #expect(changed.before?.label == "delivered/v4 after 450")
        #expect(changed.after?.label == "bounced/v6 550 5.7.25 at RCPT")
        #expect(comparison.changes[3].caseName == "retired-case")
        #expect(!comparison.isUnchanged)
        // With --tag/--filter the baseline's other cases were not run, not removed.
        #expect(
            BaselineComparison.compare(baseline, with: new, includeRemoved: false).changes.map(\.kind) == [
                .changed, .added, .added,
            ])
    }

    @Test func aColumnWhosePolicyChangedIsNotedAndItsCellsCompared() {
        let old = Fixtures.matrix()
        let baseline = Baseline(old)
        var new = old
        new.columns[0] = PolicyColumn(
            name: "fcrdns", source: .file(path: "fcrdns.yaml", policy: Preset.fcrdnsStrict.policy))
        new.target = .postfix
        let comparison = BaselineComparison.compare(baseline, with: new)
        #expect(comparison.notes.contains("the baseline was run on the builtin receiver, this run on postfix"))
        #expect(
            comparison.notes.contains {
                $0.hasPrefix("column fcrdns: was preset fcrdns:") && $0.contains("now policy file fcrdns.yaml")
            })
        #expect(comparison.isUnchanged, "the notes alone are not a change of outcome")
    }

    @Test func aBadBaselineFileIsAnErrorThatSaysWhatToDo() throws {
        #expect { try Baseline.read(from: "/nonexistent/base.json") } throws: {
            "\($0)".contains("write one with --save-baseline /nonexistent/base.json")
        }
        #expect { try Baseline.decode(Data("{\"format\": 1}".utf8), path: "b.json") } throws: {
            "\($0)".contains("b.json is not a matrix baseline")
        }
        #expect { try Baseline.decode(Data("not json".utf8), path: "b.json") } throws: {
            "\($0)".contains("b.json is not a matrix baseline")
        }
        var future = Baseline(Fixtures.matrix())
        future.format = "mxharness-matrix-baseline 9"
        let data = try future.encoded()
        #expect { try Baseline.decode(data, path: "b.json") } throws: {
            "\($0)".contains("this mxharness reads \"mxharness-matrix-baseline 1\"")
        }
        let corrupt = Data(
            #"{"format": "mxharness-matrix-baseline 1", "target": "builtin", "columns": {}, "cases": {"a": {"fcrdns": {"family": "ipv5"}}}}"#
                .utf8)
        #expect { try Baseline.decode(corrupt, path: "b.json") } throws: {
            "\($0)".contains("ipv5") && "\($0)".contains("cases.a.fcrdns")
        }
    }
}
