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

    @Test func aFreeSlotTakesAConfigurationNoRunningCaseHas() {
        let keys: [String?] = ["a", "a", "a", "b", nil]
        #expect(ScenarioRun.nextPosition([1, 2, 3, 4], keys: keys, running: ["a": 1]) == 2, "b, not a second a")
        #expect(ScenarioRun.nextPosition([1, 2, 4], keys: keys, running: ["a": 1]) == 2, "a case without a key")
        #expect(ScenarioRun.nextPosition([1, 2], keys: keys, running: ["a": 1, "b": 1]) == 0, "all busy: the first")
        #expect(ScenarioRun.nextPosition([1, 2], keys: keys, running: ["a": 0]) == 0)
        #expect(ScenarioRun.nextPosition([], keys: keys, running: [:]) == nil)
    }
}
