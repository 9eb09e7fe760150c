import Foundation
import Matrix
import Reports
import Runner
import Scenario
import Testing

// Receiver and sender names of kinds this test target does not link: the parity table and the
// matrix only carry them.
extension ReceiverTarget {
    static let exim = ReceiverTarget(named: "exim")
    static let opensmtpd = ReceiverTarget(named: "opensmtpd")
}

struct MatrixTextTests {
    let text = MatrixText(terminal: Terminal(colour: false))

    @Test func theTableHasARowPerCaseAColumnPerPolicyAndTheMarks() {
        let rendered = text.table(Fixtures.matrix())
        let lines = rendered.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("   case"))
        #expect(lines[0].contains("│ fcrdns") && lines[0].contains("│ fcrdns-strict"))
        // Two lines per case: the labels, then the replies.
        #expect(lines.count == 2 + 2 * 2)
        #expect(lines[2].hasPrefix("≠  dual-stack <no> & \"ipv6 ptr\""))
        #expect(lines[2].contains("│ delivered/v4 after 450 ✓"))
        #expect(lines[2].contains("│ bounced/v6 550 5.7.25 at RCPT ≠"))
        #expect(lines[3].contains("│ 250 2.0.0 Ok: queued as <id>"))
        #expect(
            lines[3].contains("│ 550 5.7.25 Client host rejected: cannot fin…"), "long replies are cut to the column")
        #expect(lines[4].hasPrefix("   good-sender"))
        #expect(!lines[4].contains("≠"))
        #expect(lines[4].contains("delivered/v6 ✓"), "good-sender's own policy is fcrdns-strict")
        let columns = lines[2].components(separatedBy: " │ ").count
        #expect(columns == 3)
    }

    @Test func theReportHasTheColumnsLegendFailuresAndCounts() {
        var matrix = Fixtures.matrix()
        matrix.rows[1].cells[1].mismatches = [Mismatch(key: "family", expected: "ipv4", got: "ipv6")]
        let rendered = text.render(matrix)
        #expect(rendered.hasPrefix("Policy matrix: 2 cases × 2 policies on the built-in MX"))
        #expect(
            rendered.contains(
                "  fcrdns-strict  preset fcrdns-strict: IPv4 and IPv6: fcrdns; failures rejected (5xx) at RCPT"))
        #expect(rendered.contains("expect is judged only there"))
        #expect(
            rendered.contains(
                "Expectations that fail (in the column of the case's own policy):\n  ✗ good-sender [fcrdns-strict] (Scenarios/fixture.yaml:3:1)\n      family: expected ipv4, got ipv6"
            ))
        #expect(
            rendered.hasSuffix(
                "matrix: 2 cases × 2 policies, 1 row differs; expect in the own-policy column: 1 passed, 1 failed; 0 skipped, 0 could not run"
            ))
    }

    @Test func aComparisonPrintsOnlyWhatChangedWithTheReplyBeforeAndAfter() {
        let old = Fixtures.matrix()
        var new = old
        new.rows[0].cells[0] = MatrixCell(Fixtures.bounce(Fixtures.scenario("dual")), isOwnPolicy: true)
        let comparison = BaselineComparison.compare(Baseline(old), with: new)
        let rendered = text.renderComparison(comparison, baselinePath: "base.json", comparedCells: 4)
        #expect(
            rendered == """
                Changed against the baseline base.json:
                  dual-stack <no> & "ipv6 ptr" [fcrdns]
                    before: delivered/v4 after 450   250 2.0.0 Ok: queued as <id>
                    after:  bounced/v6 550 5.7.25 at RCPT   550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]

                baseline: 1 cell changed, 0 new, 0 gone (of 4 cells run); review them, then update the baseline with --save-baseline
                """)
        #expect(!rendered.contains("good-sender"))
        let same = text.renderComparison(
            BaselineComparison.compare(Baseline(old), with: old), baselinePath: "base.json", comparedCells: 4)
        #expect(same == "baseline base.json: no change in 4 cells")
    }
}

/// Headings name the receiver as its kind's `displayName` says; the matrix never guesses from the target.
struct ReceiverHeadingTests {
    @Test func aMatrixOnAnotherReceiverIsHeadedWithItsName() {
        var matrix = Fixtures.matrix()
        matrix.target = .exim
        matrix.receiverName = "Exim"
        #expect(
            MatrixText(terminal: Terminal(colour: false)).render(matrix).hasPrefix(
                "Policy matrix: 2 cases × 2 policies on Exim"))
        let html = MatrixHTML.render(matrix)
        #expect(html.contains("policies on Exim."))
        #expect(!html.contains("built-in MX"))
        let unnamed = MatrixRunner.assemble([], columns: [PolicyColumn.preset(.open)], results: [], target: .opensmtpd)
        #expect(unnamed.receiverName == "opensmtpd")
    }
}

struct MatrixHTMLTests {
    @Test func everyCellIsADetailsWithTranscriptAndDecisionRecord() {
        let html = MatrixHTML.render(Fixtures.matrix())
        #expect(html.components(separatedBy: "<td class=\"cell ").count - 1 == 4)
        #expect(html.components(separatedBy: "<details>").count - 1 == 4)
        #expect(html.contains("<h4>Transcripts of the attempts</h4><pre>=== Destinations (mx): none"))
        #expect(html.contains("&lt;- 550 5.7.25 Client host rejected"))
        #expect(
            html.contains("<td class=\"cell bounced differs\" data-column=\"fcrdns-strict\" data-outcome=\"bounced\">"))
        #expect(html.contains("<tr class=\"differs\">"))
        #expect(html.contains("own ✓"))
    }

    @Test func textIsEscapedEverywhere() {
        let html = MatrixHTML.render(Fixtures.matrix(), title: "<script>alert(1)</script>")
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("dual-stack &lt;no&gt; &amp; &quot;ipv6 ptr&quot;"))
        #expect(MatrixHTML.escape("a\u{7}b'c") == "a\u{FFFD}b&#39;c")
    }

    @Test func thePageFetchesNothingAndFitsPhonesAndPaper() {
        let html = MatrixHTML.render(Fixtures.matrix())
        for pattern in ["http://", "https://", "src=", "@import", "url(", "<link", "<script"] {
            #expect(!html.contains(pattern), "\(pattern)")
        }
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        #expect(html.contains("overflow-x: auto"))
        #expect(html.contains("@media print"))
        #expect(html.contains("@media (max-width: 640px)"))
    }
}
