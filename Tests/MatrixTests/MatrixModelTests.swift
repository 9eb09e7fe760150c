import Matrix
import Policy
import Runner
import Scenario
import Testing

struct MatrixModelTests {
    @Test func rowsWhoseCellsEndDifferentlyAreMarked() {
        let matrix = Fixtures.matrix()
        #expect(matrix.rows.map(\.differs) == [true, false])
        #expect(matrix.rows[0].differingCells == [1], "on a tie the first column is the reference")
        #expect(matrix.rows[1].differingCells.isEmpty)
    }

    @Test func theMostCommonOutcomeIsTheReference() {
        let scenario = Fixtures.scenario("x")
        let columns = [PolicyColumn.preset(.fcrdnsStrict), PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.reverse)]
        let matrix = MatrixRunner.assemble(
            [scenario], columns: columns,
            results: [Fixtures.bounce(scenario), Fixtures.fallback(scenario), Fixtures.fallback(scenario)],
            target: .builtin)
        #expect(matrix.rows[0].differingCells == [0])
    }

    @Test func skippedCellsAreNotDifferences() {
        let scenario = Fixtures.scenario("x")
        let columns = [PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.gmailLike)]
        let matrix = MatrixRunner.assemble(
            [scenario], columns: columns,
            results: [
                Fixtures.fallback(scenario),
                CaseResult(scenario: scenario, target: .postfix, status: .skipped("builtin only")),
            ], target: .postfix)
        #expect(!matrix.rows[0].differs)
        #expect(matrix.summary.skipped == 1)
    }

    @Test func expectIsJudgedOnlyInTheCasesOwnPolicyColumn() {
        let scenario = Fixtures.scenario("x", policy: Preset.fcrdns.policy, expect: Expectation(outcome: .delivered))
        let mismatch = Mismatch(key: "outcome", expected: "delivered", got: "bounced")
        // The strict column's delivery does not meet the case's expect, and that is not a failure there.
        let strict = Fixtures.result(
            scenario, .bounced, [Fixtures.attempt(.ipv6, .rejected, .rcpt, Fixtures.rejectedV6)], status: .failed,
            mismatches: [mismatch])
        let columns = [PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.fcrdnsStrict)]
        let matrix = MatrixRunner.assemble(
            [scenario], columns: columns, results: [Fixtures.fallback(scenario), strict], target: .builtin)
        #expect(matrix.rows[0].cells.map(\.verdict) == [.holds, .notJudged])
        #expect(matrix.rows[0].cells[1].mismatches.isEmpty)
        #expect(matrix.summary.fails == 0)
        #expect(matrix.summary.holds == 1)

        // In its own column a failure counts.
        let ownFails = MatrixRunner.assemble(
            [scenario], columns: [PolicyColumn.preset(.fcrdns)],
            results: [
                Fixtures.result(
                    scenario, .bounced, [Fixtures.attempt(.ipv6, .rejected, .rcpt, Fixtures.rejectedV6)],
                    status: .failed, mismatches: [mismatch])
            ], target: .builtin)
        #expect(ownFails.rows[0].cells[0].verdict == .fails)
        #expect(ownFails.expectationFailures.map(\.row.name) == ["x"])
        #expect(ownFails.summary.fails == 1)
    }

    @Test func casesWithoutTheirOwnPolicyAmongTheColumnsAreCounted() {
        let scenario = Fixtures.scenario("x", policy: Preset.heloStrict.policy)
        let matrix = MatrixRunner.assemble(
            [scenario], columns: [PolicyColumn.preset(.fcrdns)], results: [Fixtures.fallback(scenario)],
            target: .builtin)
        #expect(matrix.summary.withoutOwnColumn == 1)
        #expect(matrix.rows[0].cells[0].verdict == .notJudged)
    }

    @Test func aMissingResultIsAnErrorCellNotACrash() {
        let scenario = Fixtures.scenario("x")
        let matrix = MatrixRunner.assemble(
            [scenario], columns: [PolicyColumn.preset(.fcrdns), PolicyColumn.preset(.open)],
            results: [Fixtures.fallback(scenario)], target: .builtin)
        #expect(matrix.rows[0].cells[1].outcome.status == .error)
        #expect(matrix.summary.errors == 1)
    }
}
