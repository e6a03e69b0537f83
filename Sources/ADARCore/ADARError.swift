/// Every way an ADAR call can refuse its input. Nothing partial is returned:
/// a call either produces every row or throws one of these (spec S1, S5).
public enum ADARError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A NaN or ±∞ in an input (S5). `row` is the batch row, `field` names the
    /// array (`user`, `positive`, `pool[m]`, `epsilon`), `component` the index.
    case nonFinite(row: Int, field: String, component: Int)
    /// A value derived from finite inputs overflowed (e.g. `σ·‖e_u‖`).
    case overflow(row: Int, field: String)
    /// An array's length does not match the declared shape.
    case shapeMismatch(field: String, expected: Int, actual: Int)
    /// A schedule parameter outside its domain (S1); never silently clamped.
    case invalidSchedule(parameter: String, reason: String)
    /// A configuration field outside its domain (ρ ∉ (0, 1), σ ≤ 0, …).
    case invalidConfiguration(field: String, reason: String)
    /// An index into an embedding table is outside `0 ..< count` (training form).
    case indexOutOfRange(row: Int, field: String, index: Int, count: Int)
    /// A pool of `M = 0` candidates (S3 needs `M ≥ 1`).
    case emptyPool
    /// A size above its maximum in `ADARLimits` (`steps`, `dimension`, `poolSize`,
    /// a product such as `rows·M·d`, a request line): refused before allocating.
    /// `actual` is `Int.max` when the product itself overflows.
    case limitExceeded(field: String, limit: Int, actual: Int)

    public var description: String {
        switch self {
        case let .nonFinite(row, field, component):
            return "row \(row), field \(field)[\(component)]: value is not finite (NaN or ±∞) (S5)"
        case let .overflow(row, field):
            return "row \(row), field \(field): overflows binary64"
        case let .shapeMismatch(field, expected, actual):
            return "field \(field): expected \(expected) values, got \(actual)"
        case let .invalidSchedule(parameter, reason):
            return "schedule parameter \(parameter): \(reason) (S1)"
        case let .invalidConfiguration(field, reason):
            return "configuration field \(field): \(reason)"
        case let .indexOutOfRange(row, field, index, count):
            return "row \(row), field \(field): index \(index) is outside 0..<\(count)"
        case .emptyPool:
            return "pool: M must be at least 1 (S3)"
        case let .limitExceeded(field, limit, actual):
            let size = actual == .max ? "more than \(Int.max)" : "\(actual)"
            return "\(field) = \(size) exceeds adar's limit of \(limit) (ADARLimits; docs/CLI.md, Limits)"
        }
    }
}
