import Foundation
import ADARCore

/// A deliberate inconsistency planted in a well-formed call: the shape errors of S5/E1. Its expected
/// error follows from the well-formed call's shape (`B·d`, `B·M·d`), so a smaller well-formed call
/// with the defect planted again still expects the right error.
public enum ShapeDefect: String, CaseIterable, Sendable {
    case shortUsers, longPositives, shortPool, shortEpsilon, zeroDimension, negativeRows, emptyPool

    /// What the catalogue calls it.
    public var label: String {
        switch self {
        case .shortUsers: "short user array"
        case .longPositives: "long positive array"
        case .shortPool: "short pool array"
        case .shortEpsilon: "short epsilon"
        case .zeroDimension: "d = 0"
        case .negativeRows: "B = −1"
        case .emptyPool: "M = 0"
        }
    }

    /// The well-formed `call` with the defect: one value too few or too many, or a shape out of range.
    func planted(in call: DiscretisationChecks.RawCall) -> DiscretisationChecks.RawCall {
        var defective = call
        switch self {
        case .shortUsers: defective.users.removeLast()
        case .longPositives: defective.positives.append(0)
        case .shortPool: defective.pool.removeLast()
        case .shortEpsilon:
            if case var .explicit(epsilon) = call.noise {
                epsilon.removeLast()
                defective.noise = .explicit(epsilon)
            }
        case .zeroDimension: defective.dimension = 0
        case .negativeRows: defective.rows = -1
        case .emptyPool: (defective.poolSize, defective.pool) = (0, [])
        }
        return defective
    }

    /// The error S5 requires of the defective call, from the shape of the well-formed `call`.
    func expected(for call: DiscretisationChecks.RawCall) -> DiscretisationChecks.ExpectedError {
        let rowValues = call.rows * call.dimension, poolValues = call.rows * call.poolSize * call.dimension
        let error: ADARError = switch self {
        case .shortUsers: .shapeMismatch(field: "user", expected: rowValues, actual: rowValues - 1)
        case .longPositives: .shapeMismatch(field: "positive", expected: rowValues, actual: rowValues + 1)
        case .shortPool: .shapeMismatch(field: "pool", expected: poolValues, actual: poolValues - 1)
        case .shortEpsilon: .shapeMismatch(field: "epsilon", expected: rowValues, actual: rowValues - 1)
        case .zeroDimension: .shapeMismatch(field: "dimension", expected: 1, actual: 0)
        case .negativeRows: .shapeMismatch(field: "rows", expected: 0, actual: -1)
        case .emptyPool: .emptyPool
        }
        return .exactly(error)
    }
}

/// One invalid call of S5/E1 and the error it must raise. Where the error does not depend on the
/// call's shape — one non-finite value, an overflowing row, an invalid option or schedule on a
/// well-formed batch — the case shrinks: fewer rows, components and candidates that keep the faulty
/// one (its row, component and candidate renumbered in the expected error), then simpler finite
/// values. A shape error is a well-formed call and a `ShapeDefect`: the well-formed call shrinks the
/// same way and the defect is planted again, its expected error recomputed from the smaller shape.
public struct ErrorCase: Sendable {
    /// The call handed to the pipeline: `wellFormed` with its defect planted, or the call as given.
    public let call: DiscretisationChecks.RawCall
    public let expected: DiscretisationChecks.ExpectedError
    /// The shape error planted in `wellFormed`, if the case is one.
    public let defect: ShapeDefect?
    /// The call before its defect (the call itself when there is none): what shrinks.
    let wellFormed: DiscretisationChecks.RawCall
    /// What the catalogue calls the case ("nan in user row 2 component 0"; empty for a case given by
    /// values or shrunk, since it names the drawn row, component and candidate).
    public let label: String
    /// Which call of its sweep the case was (0 for a case given by values).
    public let index: Int

    /// Refuses an expected non-finite value or overflow at a row, component or candidate the call does not have, naming it.
    public init(
        call: DiscretisationChecks.RawCall, expected: DiscretisationChecks.ExpectedError, label: String = "", index: Int = 0
    ) throws(ADARError) {
        if let fault = Fault(expected) {
            if !(0..<call.rows).contains(fault.row) {
                throw .indexOutOfRange(row: fault.row, field: "expected row", index: fault.row, count: call.rows)
            }
            if let k = fault.component, !(0..<call.dimension).contains(k) {
                throw .indexOutOfRange(row: fault.row, field: "expected component", index: k, count: call.dimension)
            }
            if let m = fault.candidate, !(0..<call.poolSize).contains(m) {
                throw .indexOutOfRange(row: fault.row, field: "expected pool candidate", index: m, count: call.poolSize)
            }
        }
        (self.call, self.wellFormed, self.expected, self.defect) = (call, call, expected, nil)
        self.label = label
        self.index = index
    }

    /// The shape error `defect` planted in `call`, which must be well-formed so that the defect is its
    /// only fault: `B ≥ 1` rows, arrays that match `B`, `d` and `M`, finite values and valid options
    /// (the error of the first check that fails, naming its field), and an explicit `ε` for `.shortEpsilon`.
    public init(call: DiscretisationChecks.RawCall, defect: ShapeDefect, label: String = "", index: Int = 0) throws(ADARError) {
        guard call.rows >= 1 else {
            throw .invalidConfiguration(field: "rows", reason: "a shape defect needs a well-formed call with B ≥ 1 rows, got B = \(call.rows)")
        }
        if defect == .shortEpsilon, case .counter = call.noise {
            throw .invalidConfiguration(
                field: "noise", reason: "a short ε needs an explicit ε (B·d values), but the call draws ε from the counter stream")
        }
        _ = try ADARBatch(
            rows: call.rows, dimension: call.dimension, poolSize: call.poolSize,
            users: call.users, positives: call.positives, pool: call.pool, noise: call.noise)
        _ = try ADARConfiguration(rho: call.rho, sigma: call.sigma, augmentationWeight: call.augmentationWeight, l2: call.l2)
        _ = try NoiseSchedule(call.schedule, steps: call.steps)
        (self.call, self.wellFormed, self.expected, self.defect) = (defect.planted(in: call), call, defect.expected(for: call), defect)
        self.label = label
        self.index = index
    }

    /// The same kind of case on another well-formed call (`expected` is recomputed for a shape defect), or nil if it is not one.
    func replacing(wellFormed call: DiscretisationChecks.RawCall, expected: DiscretisationChecks.ExpectedError) -> ErrorCase? {
        if let defect { try? ErrorCase(call: call, defect: defect, index: index) } else { try? ErrorCase(call: call, expected: expected, index: index) }
    }

    /// Where the expected error points: a non-finite value (its component, and its candidate for
    /// `pool[m]`) or a row whose `σ‖e_u‖` overflows.
    struct Fault {
        var row: Int, component: Int?, candidate: Int?, field: String

        init?(_ expected: DiscretisationChecks.ExpectedError) {
            switch expected {
            case let .exactly(.nonFinite(row, field, component)):
                self.row = row
                self.component = component
                self.field = field
                candidate = field.hasPrefix("pool[") ? Int(field.dropFirst(5).dropLast()) : nil
            case let .exactly(.overflow(row, field)):
                (self.row, component, candidate, self.field) = (row, nil, nil, field)
            default:
                return nil
            }
        }

        /// The expected error after renumbering.
        func expected(row: Int, component: Int?, candidate: Int?) -> DiscretisationChecks.ExpectedError {
            guard let component else { return .exactly(.overflow(row: row, field: field)) }
            return .exactly(.nonFinite(row: row, field: candidate.map { "pool[\($0)]" } ?? field, component: component))
        }
    }

    /// The well-formed call's arrays split by row, candidate and component, when they are consistent (explicit ε).
    struct Rows {
        var users: [[Double]], positives: [[Double]], pool: [[[Double]]], epsilon: [[Double]]
    }

    var rows: Rows? {
        let call = wellFormed, (b, d, m) = (call.rows, call.dimension, call.poolSize)
        guard b >= 1, d >= 1, m >= 1, call.users.count == b * d, call.positives.count == b * d, call.pool.count == b * m * d,
              case let .explicit(epsilon) = call.noise, epsilon.count == b * d else { return nil }
        func split(_ values: [Double]) -> [[Double]] { (0..<b).map { Array(values[$0 * d ..< ($0 + 1) * d]) } }
        return Rows(users: split(call.users), positives: split(call.positives),
                    pool: (0..<b).map { r in (0..<m).map { Array(call.pool[(r * m + $0) * d ..< (r * m + $0 + 1) * d]) } },
                    epsilon: split(epsilon))
    }

    /// Whether the expected error holds for any well-formed batch with the same fault (so the case may shrink).
    var shrinks: Bool {
        guard rows != nil else { return false }
        if defect != nil { return true }
        switch expected {
        case .configuration, .schedule, .exactly(.shapeMismatch(field: "betas", _, _)): return true
        default: return Fault(expected) != nil
        }
    }

    /// The case restricted to the given rows, components and candidates (in order), the fault renumbered.
    func restricted(rows keptRows: [Int], components: [Int], candidates: [Int]) -> ErrorCase? {
        guard let split = rows else { return nil }
        let fault = Fault(expected)
        var call = wellFormed
        call.rows = keptRows.count
        call.dimension = components.count
        call.poolSize = candidates.count
        call.users = keptRows.flatMap { r in components.map { split.users[r][$0] } }
        call.positives = keptRows.flatMap { r in components.map { split.positives[r][$0] } }
        call.pool = keptRows.flatMap { r in candidates.flatMap { m in components.map { split.pool[r][m][$0] } } }
        call.noise = .explicit(keptRows.flatMap { r in components.map { split.epsilon[r][$0] } })
        var expected = self.expected
        if let fault {
            guard let row = keptRows.firstIndex(of: fault.row) else { return nil }
            let component = fault.component.map { components.firstIndex(of: $0) }
            let candidate = fault.candidate.map { candidates.firstIndex(of: $0) }
            if component == .some(nil) || candidate == .some(nil) { return nil }
            expected = fault.expected(row: row, component: component.flatMap { $0 }, candidate: candidate.flatMap { $0 })
        }
        return replacing(wellFormed: call, expected: expected)
    }

    /// All values as one vector (user, positive, pool, ε), and which of them may be simplified: the
    /// finite ones, except an overflowing row's `e_u`, which must keep overflowing.
    var values: (all: [Double], simplifiable: [Bool]) {
        let call = wellFormed, epsilon = if case let .explicit(values) = call.noise { values } else { [Double]() }
        let all = call.users + call.positives + call.pool + epsilon
        var simplifiable = all.map(\.isFinite)
        if let fault = Fault(expected), fault.component == nil {
            for k in fault.row * call.dimension ..< (fault.row + 1) * call.dimension { simplifiable[k] = false }
        }
        return (all, simplifiable)
    }

    func with(values: [Double]) -> ErrorCase? {
        var call = wellFormed
        let (b, d, m) = (call.rows, call.dimension, call.poolSize)
        call.users = Array(values[0 ..< b * d])
        call.positives = Array(values[b * d ..< 2 * b * d])
        call.pool = Array(values[2 * b * d ..< (2 + m) * b * d])
        call.noise = .explicit(Array(values[((2 + m) * b * d)...]))
        return replacing(wellFormed: call, expected: expected)
    }
}

extension ErrorCase: Shrinkable {
    /// `[B, d, M, values]`; the values count only where they may be simplified.
    public var shrinkSize: [Int] {
        let (all, simplifiable) = values
        let finite = zip(all, simplifiable).filter(\.1).map(\.0)
        return [max(wellFormed.rows, 0), max(wellFormed.dimension, 0), max(wellFormed.poolSize, 0), Simplicity.complexity(finite)]
    }

    public var shrinkCandidateGroups: [() -> [ErrorCase]] {
        guard shrinks else { return [] }
        let fault = Fault(expected)
        let allRows = Array(0..<wellFormed.rows), allComponents = Array(0..<wellFormed.dimension)
        let allCandidates = Array(0..<wellFormed.poolSize)
        /// The one index to keep alone (the faulty one, else the first), then every index but one that is not the faulty one.
        func subsets(_ all: [Int], keeping faulty: Int?) -> [[Int]] {
            guard all.count > 1 else { return [] }
            return [[faulty ?? 0]] + all.filter { $0 != faulty }.map { dropped in all.filter { $0 != dropped } }
        }
        return [
            { subsets(allRows, keeping: fault?.row).compactMap { restricted(rows: $0, components: allComponents, candidates: allCandidates) } },
            {
                subsets(allComponents, keeping: fault?.component).compactMap {
                    restricted(rows: allRows, components: $0, candidates: allCandidates)
                }
            },
            {
                subsets(allCandidates, keeping: fault?.candidate).compactMap {
                    restricted(rows: allRows, components: allComponents, candidates: $0)
                }
            },
            {
                let (all, simplifiable) = values
                let positions = all.indices.filter { simplifiable[$0] }
                let perComponent = positions.count <= Simplicity.perComponentLimit
                return Simplicity.vectorCandidates(positions.map { all[$0] }, perComponent: perComponent).compactMap { simpler in
                    var changed = all
                    for (position, value) in zip(positions, simpler) { changed[position] = value }
                    return with(values: changed)
                }
            },
        ]
    }

    /// A shape error shows its well-formed call and the defect.
    public var summary: String {
        let call = wellFormed
        var text = "B = \(call.rows), d = \(call.dimension), M = \(call.poolSize)"
        let options = optionArguments
        if !options.isEmpty { text += "; " + options.joined(separator: ", ") }
        if call.users.count + call.positives.count + call.pool.count <= 12 {
            text += "; e_u \(SwiftSource.array(call.users)), x_0 \(SwiftSource.array(call.positives)), pool \(SwiftSource.array(call.pool)), noise \(Self.noiseSource(call.noise))"
        }
        if let defect { text += "; defect .\(defect.rawValue) (\(defect.label))" }
        return text + "; must throw \(expected) (\(label.isEmpty ? "" : "\(label), ")call #\(index))"
    }

    public var swiftExpression: String {
        let call = wellFormed
        let arguments = ["rows: \(call.rows), dimension: \(call.dimension), poolSize: \(call.poolSize)",
                         "users: \(SwiftSource.array(call.users))", "positives: \(SwiftSource.array(call.positives))",
                         "pool: \(SwiftSource.array(call.pool))", "noise: \(Self.noiseSource(call.noise))"] + optionArguments
        return """
            try ErrorCase(
                call: DiscretisationChecks.RawCall(
                    \(arguments.joined(separator: ",\n        "))),
                \(defect.map { "defect: .\($0.rawValue)" } ?? "expected: \(Self.source(expected))"))
            """
    }

    /// The call's options away from `RawCall`'s defaults, as arguments.
    var optionArguments: [String] {
        let call = wellFormed, defaults = DiscretisationChecks.RawCall(users: [], positives: [], pool: [], noise: .explicit([]))
        var arguments = [String]()
        for (name, value, base) in [("rho", call.rho, defaults.rho), ("sigma", call.sigma, defaults.sigma),
                                    ("augmentationWeight", call.augmentationWeight, defaults.augmentationWeight), ("l2", call.l2, defaults.l2)]
        where !(value == base && value.sign == base.sign) {
            arguments.append("\(name): \(SwiftSource.literal(value))")
        }
        if call.schedule != defaults.schedule || call.steps != defaults.steps {
            arguments.append("schedule: \(EquivalenceCase.swiftLiteral(call.schedule)), steps: \(call.steps)")
        }
        return arguments
    }

    static func noiseSource(_ noise: NoiseInput) -> String {
        switch noise {
        case let .explicit(values): ".explicit(\(SwiftSource.array(values)))"
        case let .counter(seed, stream, rowOffset): ".counter(seed: \(seed), stream: \(stream), rowOffset: \(rowOffset))"
        }
    }

    static func source(_ expected: DiscretisationChecks.ExpectedError) -> String {
        func quoted(_ text: String) -> String { String(reflecting: text) }
        switch expected {
        case let .configuration(field): return ".configuration(field: \(quoted(field)))"
        case let .schedule(parameter): return ".schedule(parameter: \(quoted(parameter)))"
        case let .exactly(error):
            let value = switch error {
            case let .nonFinite(row, field, component): ".nonFinite(row: \(row), field: \(quoted(field)), component: \(component))"
            case let .overflow(row, field): ".overflow(row: \(row), field: \(quoted(field)))"
            case let .shapeMismatch(field, expected, actual): ".shapeMismatch(field: \(quoted(field)), expected: \(expected), actual: \(actual))"
            case let .invalidSchedule(parameter, reason): ".invalidSchedule(parameter: \(quoted(parameter)), reason: \(quoted(reason)))"
            case let .invalidConfiguration(field, reason): ".invalidConfiguration(field: \(quoted(field)), reason: \(quoted(reason)))"
            case let .indexOutOfRange(row, field, index, count): ".indexOutOfRange(row: \(row), field: \(quoted(field)), index: \(index), count: \(count))"
            case .emptyPool: ".emptyPool"
            case let .limitExceeded(field, limit, actual): ".limitExceeded(field: \(quoted(field)), limit: \(limit), actual: \(actual))"
            }
            return ".exactly(\(value))"
        }
    }
}
