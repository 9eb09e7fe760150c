@testable import Runner
import Testing

/// Cases with the same Postfix configuration start one after another; the rest keep their place.
struct StartOrderTests {
    @Test func casesWithOneKeyStartTogetherWhereTheFirstOneWas() {
        #expect(ScenarioRun.startOrder(["a", nil, "b", "a", nil, "b", "c"]) == [0, 3, 1, 2, 5, 4, 6])
    }

    @Test func withoutKeysTheOrderIsKept() {
        #expect(ScenarioRun.startOrder([nil, nil, nil]) == [0, 1, 2])
        #expect(ScenarioRun.startOrder([]) == [])
    }

    @Test func everyCaseStartsOnce() {
        let keys: [String?] = ["x", "y", "x", nil, "y", "x", "z", nil, "z"]
        let order = ScenarioRun.startOrder(keys)
        #expect(order.sorted() == Array(keys.indices))
        #expect(order == [0, 2, 5, 1, 4, 3, 6, 8, 7])
    }
}
