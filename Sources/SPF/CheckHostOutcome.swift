/// How one `check_host()` level ended without an error: a result and what decided it.
struct CheckHostDecision: Sendable {
    var result: SPFResult
    /// The SPF record of the domain evaluated at this level.
    var record: String?
    /// The deciding term, `default`, or nil for `none`.
    var matched: String?
    var reason: String
    var explanation: String?
}

/// Why `check_host()` stopped with `permerror` or `temperror`. Each `include`/`redirect` it passes
/// through on the way out adds its term, so the top level can name the term that led there.
struct CheckHostAbort: Error, Sendable {
    var result: SPFResult
    var reason: String
    /// The terms being evaluated when it happened, outermost first.
    var trail: [String] = []

    static func permerror(_ reason: String) -> CheckHostAbort { CheckHostAbort(result: .permerror, reason: reason) }
    static func temperror(_ reason: String) -> CheckHostAbort { CheckHostAbort(result: .temperror, reason: reason) }

    func inside(_ term: String) -> CheckHostAbort {
        var copy = self
        copy.trail.insert(term, at: 0)
        return copy
    }
}
