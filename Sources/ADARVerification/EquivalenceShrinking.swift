import Foundation
import ADARCore
import ADAR

extension EquivalenceCase {
    /// A case given by its values, as a shrunk counterexample prints it; the
    /// shapes are checked (`users`, `positives`: `rows × dimension`, `pool`:
    /// `rows × poolSize × dimension`, explicit `ε`: `rows × dimension`).
    public init(
        schedule: NoiseSchedule, configuration: ADARConfiguration, rows: Int, dimension: Int, poolSize: Int,
        users: [Float], positives: [Float], pool: [Float], noise: Noise32,
        rowKinds: [EquivalenceRowKind], caseSeed: UInt64, index: Int = 0
    ) throws {
        _ = try DenseRows32(rows: rows, dimension: dimension, poolSize: poolSize, users: users, positives: positives, pool: pool)
        if case let .explicit(epsilon) = noise, epsilon.count != rows * dimension {
            throw ADARError.shapeMismatch(field: "noise", expected: rows * dimension, actual: epsilon.count)
        }
        guard rowKinds.count == rows else { throw ADARError.shapeMismatch(field: "rowKinds", expected: rows, actual: rowKinds.count) }
        self.init(index: index, caseSeed: caseSeed, schedule: schedule, configuration: configuration, rows: rows,
                  dimension: dimension, poolSize: poolSize, users: users, positives: positives, pool: pool,
                  noise: noise, rowKinds: rowKinds)
    }

    func replacing(
        schedule: NoiseSchedule? = nil, configuration: ADARConfiguration? = nil,
        users: [Float]? = nil, positives: [Float]? = nil, pool: [Float]? = nil, noise: Noise32? = nil
    ) -> EquivalenceCase {
        EquivalenceCase(index: index, caseSeed: caseSeed, schedule: schedule ?? self.schedule,
                        configuration: configuration ?? self.configuration, rows: rows, dimension: dimension,
                        poolSize: poolSize, users: users ?? self.users, positives: positives ?? self.positives,
                        pool: pool ?? self.pool, noise: noise ?? self.noise, rowKinds: rowKinds)
    }

    /// The case restricted to rows `keep`, pool candidates `candidates` and components `components`.
    func restricted(rows keep: [Int]? = nil, candidates: [Int]? = nil, components: [Int]? = nil) -> EquivalenceCase {
        let selection = BatchSelection(rows: keep ?? Array(0..<rows), candidates: candidates ?? Array(0..<poolSize),
                                       components: components ?? Array(0..<dimension))
        return EquivalenceCase(
            index: index, caseSeed: caseSeed, schedule: schedule, configuration: configuration,
            rows: selection.rows.count, dimension: selection.components.count, poolSize: selection.candidates.count,
            users: selection.vectors(users, dimension: dimension), positives: selection.vectors(positives, dimension: dimension),
            pool: selection.pool(pool, dimension: dimension, poolSize: poolSize),
            noise: selection.noise(noise, dimension: dimension), rowKinds: selection.rows.map { rowKinds[$0] })
    }
}

extension EquivalenceCase: Shrinkable, DenseBatchCase {
    public var shrinkSize: [Int] { batchShrinkSize }

    public var shrinkCandidateGroups: [() -> [EquivalenceCase]] { batchCandidateGroups }

    public var summary: String {
        var text = "B = \(rows), d = \(dimension), M = \(poolSize); schedule \(Self.swiftLiteral(schedule.kind)) T = \(schedule.steps); "
            + "\(Self.configurationSource(configuration).dropFirst("try ".count)); noise \(noise.summary); rows drawn as \(rowKinds.map(\.rawValue))"
        if users.count + positives.count + pool.count <= 48 {
            text += "; e_u \(SwiftSource.array(users)), x_0 \(SwiftSource.array(positives)), pool \(SwiftSource.array(pool))"
        }
        return text + " (case #\(index), case seed \(caseSeed))"
    }

    public var swiftExpression: String {
        """
        try EquivalenceCase(
            schedule: try NoiseSchedule(\(Self.swiftLiteral(schedule.kind)), steps: \(schedule.steps)),
            configuration: \(Self.configurationSource(configuration)),
            rows: \(rows), dimension: \(dimension), poolSize: \(poolSize),
            users: \(SwiftSource.array(users)),
            positives: \(SwiftSource.array(positives)),
            pool: \(SwiftSource.array(pool)),
            noise: \(noise.swiftSource),
            rowKinds: [\(rowKinds.map { "." + $0.rawValue }.joined(separator: ", "))], caseSeed: \(caseSeed))
        """
    }

    // MARK: Schedule, configuration and noise

    /// The same family with fewer steps (custom: a prefix of its β), then β as powers of two.
    static func simplerSchedules(_ schedule: NoiseSchedule) -> [NoiseSchedule] {
        var kinds = [(ScheduleKind, Int)]()
        for steps in smallerCounts(schedule.steps) {
            if case let .custom(betas) = schedule.kind {
                kinds.append((.custom(betas: Array(betas.prefix(steps))), steps))
            } else {
                kinds.append((schedule.kind, steps))
            }
        }
        if scheduleComplexity(schedule) > 0, schedule.steps <= 16 {
            kinds.append((.custom(betas: schedule.beta.dropFirst().map { exp2(log2($0).rounded()) }), schedule.steps))
        }
        // ddpm-linear at T < 20 and similar are invalid: those candidates are dropped.
        return kinds.compactMap { try? NoiseSchedule($0.0, steps: $0.1) }
    }

    /// 0 for custom β that are all powers of two, 1 otherwise.
    static func scheduleComplexity(_ schedule: NoiseSchedule) -> Int {
        if case let .custom(betas) = schedule.kind, betas.allSatisfy({ Simplicity.rank($0) <= 2 }) { return 0 }
        return 1
    }

    static let defaultConfiguration = try! ADARConfiguration()

    /// Each option back to its default (ρ ½, σ 1, w 1, λ 0, max, skip, detach), then ρ, σ, w, λ simplified.
    static func simplerConfigurations(_ c: ADARConfiguration) -> [ADARConfiguration] {
        let base = defaultConfiguration
        var candidates = [ADARConfiguration]()
        func add(_ change: (inout ADARConfiguration) -> Void) {
            var changed = c
            change(&changed)
            // Re-validated: a simplified ρ of 0 or 1 is not a configuration.
            if let valid = try? ADARConfiguration(
                rho: changed.rho, policy: changed.policy, sigma: changed.sigma, fallback: changed.fallback,
                augmentationWeight: changed.augmentationWeight, syntheticWeight: changed.syntheticWeight,
                gradientFlow: changed.gradientFlow, l2: changed.l2), valid != c {
                candidates.append(valid)
            }
        }
        add { $0.rho = base.rho }
        add { $0.sigma = base.sigma }
        add { $0.augmentationWeight = base.augmentationWeight }
        add { $0.l2 = base.l2 }
        add { $0.syntheticWeight = base.syntheticWeight }
        add { $0.policy = base.policy }
        add { $0.fallback = base.fallback }
        add { $0.gradientFlow = base.gradientFlow }
        for rho in Simplicity.simpler(c.rho) { add { $0.rho = rho } }
        for sigma in Simplicity.simpler(c.sigma) { add { $0.sigma = sigma } }
        for weight in Simplicity.simpler(c.augmentationWeight) { add { $0.augmentationWeight = weight } }
        for l2 in Simplicity.simpler(c.l2) { add { $0.l2 = l2 } }
        return candidates
    }

    /// Options away from their defaults, plus how complex the numeric ones are.
    static func configurationComplexity(_ c: ADARConfiguration) -> Int {
        let base = defaultConfiguration
        let numeric = [(c.rho, base.rho), (c.sigma, base.sigma), (c.augmentationWeight, base.augmentationWeight), (c.l2, base.l2)]
        let enums = [c.policy != base.policy, c.fallback != base.fallback, c.gradientFlow != base.gradientFlow, c.syntheticWeight != nil]
        return numeric.reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1 + Simplicity.rank($1.0)) } + enums.filter { $0 }.count
    }

    // MARK: Swift source

    static func swiftLiteral(_ kind: ScheduleKind) -> String {
        switch kind {
        case let .linear(start, end): ".linear(start: \(SwiftSource.literal(start)), end: \(SwiftSource.literal(end)))"
        case .ddpmLinear: ".ddpmLinear"
        case let .scaledLinear(start, end): ".scaledLinear(start: \(SwiftSource.literal(start)), end: \(SwiftSource.literal(end)))"
        case let .cosine(s, maxBeta): ".cosine(s: \(SwiftSource.literal(s)), maxBeta: \(SwiftSource.literal(maxBeta)))"
        case let .linearVariance(scale, low, high, maxBeta):
            ".linearVariance(scale: \(SwiftSource.literal(scale)), min: \(SwiftSource.literal(low)), max: \(SwiftSource.literal(high)), maxBeta: \(SwiftSource.literal(maxBeta)))"
        case let .custom(betas): ".custom(betas: \(SwiftSource.array(betas)))"
        }
    }

    /// `try ADARConfiguration(…)` naming only the options away from their defaults.
    static func configurationSource(_ c: ADARConfiguration) -> String {
        let base = defaultConfiguration
        var arguments = [String]()
        if c.rho != base.rho { arguments.append("rho: \(c.rho)") }
        if c.policy != base.policy { arguments.append("policy: .\(c.policy)") }
        if c.sigma != base.sigma { arguments.append("sigma: \(c.sigma)") }
        if c.fallback != base.fallback { arguments.append("fallback: .\(c.fallback)") }
        if c.augmentationWeight != base.augmentationWeight { arguments.append("augmentationWeight: \(c.augmentationWeight)") }
        if let weight = c.syntheticWeight { arguments.append("syntheticWeight: \(weight)") }
        if c.gradientFlow != base.gradientFlow { arguments.append("gradientFlow: .\(c.gradientFlow)") }
        if c.l2 != base.l2 { arguments.append("l2: \(c.l2)") }
        return "try ADARConfiguration(\(arguments.joined(separator: ", ")))"
    }
}

/// Rows, pool candidates and components kept of a dense batch (vectors `B × d`, pool `B × M × d`,
/// row-major): the shape candidates of `EquivalenceCase` (binary32) and `SynthesisCase` (binary64).
struct BatchSelection {
    let rows: [Int], candidates: [Int], components: [Int]

    func vectors<Value>(_ values: [Value], dimension d: Int) -> [Value] {
        rows.flatMap { b in components.map { values[b * d + $0] } }
    }

    func pool<Value>(_ pool: [Value], dimension d: Int, poolSize m: Int) -> [Value] {
        rows.flatMap { b in candidates.flatMap { j in components.map { pool[(b * m + j) * d + $0] } } }
    }

    func noise<Noise: ShrinkableNoise>(_ noise: Noise, dimension d: Int) -> Noise {
        guard let (seed, stream, rowOffset) = noise.counterParts else { return .explicit(vectors(noise.explicitValues!, dimension: d)) }
        // Row b draws counter row `rowOffset + b`: starting at the first kept row keeps
        // a single kept row's (or a run of rows') own draws.
        return .counter(seed: seed, stream: stream, rowOffset: rowOffset &+ UInt64(rows.first ?? 0))
    }

    /// The shape candidates of a batch, largest reductions first: each row alone, all rows but one;
    /// each pool candidate alone, the two halves, all but one (`M ≤ 16`); the first 1, 2, `d/2`,
    /// `d − 1` components, all but one (`d ≤ 16`).
    static func groups<Case>(
        rows: Int, poolSize: Int, dimension: Int,
        _ restricted: @escaping (_ rows: [Int]?, _ candidates: [Int]?, _ components: [Int]?) -> Case
    ) -> [() -> [Case]] {
        [
            { rows > 1 ? (0..<rows).map { restricted([$0], nil, nil) } : [] },
            { rows > 1 ? (0..<rows).map { b in restricted((0..<rows).filter { $0 != b }, nil, nil) } : [] },
            { poolSize > 1 ? (0..<poolSize).map { restricted(nil, [$0], nil) } : [] },
            {
                guard poolSize > 1 else { return [] }
                return [Array(0..<poolSize / 2), Array(poolSize / 2 ..< poolSize)].map { restricted(nil, $0, nil) }
                    + (poolSize <= 16 ? (0..<poolSize).map { j in restricted(nil, (0..<poolSize).filter { $0 != j }, nil) } : [])
            },
            { smallerCounts(dimension).map { restricted(nil, nil, Array(0..<$0)) } },
            {
                dimension > 1 && dimension <= 16
                    ? (0..<dimension).map { k in restricted(nil, nil, (0..<dimension).filter { $0 != k }) } : []
            },
        ]
    }
}

/// A schedule, a configuration and a dense batch: `EquivalenceCase` (binary32) and `SynthesisCase`
/// (binary64) shrink by the same size and the same candidates (docs/Shrinking.md).
protocol DenseBatchCase: Shrinkable {
    associatedtype Noise: ShrinkableNoise
    var schedule: NoiseSchedule { get }
    var configuration: ADARConfiguration { get }
    var rows: Int { get }
    var dimension: Int { get }
    var poolSize: Int { get }
    var users: [Noise.Value] { get }
    var positives: [Noise.Value] { get }
    var pool: [Noise.Value] { get }
    var noise: Noise { get }
    func replacing(
        schedule: NoiseSchedule?, configuration: ADARConfiguration?, users: [Noise.Value]?, positives: [Noise.Value]?,
        pool: [Noise.Value]?, noise: Noise?
    ) -> Self
    func restricted(rows: [Int]?, candidates: [Int]?, components: [Int]?) -> Self
}

extension DenseBatchCase {
    /// `[B, d, M, T, schedule, options + noise + values]`.
    var batchShrinkSize: [Int] {
        [rows, dimension, poolSize, schedule.steps, EquivalenceCase.scheduleComplexity(schedule),
         EquivalenceCase.configurationComplexity(configuration) + noise.complexity
            + Simplicity.complexity(users) + Simplicity.complexity(positives) + Simplicity.complexity(pool)]
    }

    /// Fewer rows, candidates and components (`BatchSelection.groups`), a shorter schedule, simpler
    /// options, simpler noise, then simpler `x_0`, `e_u` and pool values.
    var batchCandidateGroups: [() -> [Self]] {
        BatchSelection.groups(rows: rows, poolSize: poolSize, dimension: dimension) { restricted(rows: $0, candidates: $1, components: $2) } + [
            {
                EquivalenceCase.simplerSchedules(schedule)
                    .map { replacing(schedule: $0, configuration: nil, users: nil, positives: nil, pool: nil, noise: nil) }
            },
            {
                EquivalenceCase.simplerConfigurations(configuration)
                    .map { replacing(schedule: nil, configuration: $0, users: nil, positives: nil, pool: nil, noise: nil) }
            },
            {
                noise.simpler(count: rows * dimension)
                    .map { replacing(schedule: nil, configuration: nil, users: nil, positives: nil, pool: nil, noise: $0) }
            },
            {
                let perComponent = users.count + positives.count + pool.count <= Simplicity.perComponentLimit
                return Simplicity.vectorCandidates(positives, perComponent: perComponent)
                    .map { replacing(schedule: nil, configuration: nil, users: nil, positives: $0, pool: nil, noise: nil) }
                    + Simplicity.vectorCandidates(users, perComponent: perComponent)
                    .map { replacing(schedule: nil, configuration: nil, users: $0, positives: nil, pool: nil, noise: nil) }
                    + Simplicity.vectorCandidates(pool, perComponent: perComponent)
                    .map { replacing(schedule: nil, configuration: nil, users: nil, positives: nil, pool: $0, noise: nil) }
            },
        ]
    }
}

/// The noise of a batch case: S8's counter or explicit `ε` (`Noise32` in binary32, `NoiseInput` in binary64).
protocol ShrinkableNoise {
    associatedtype Value: BinaryFloatingPoint & LosslessStringConvertible
    static func counter(seed: UInt64, stream: UInt32, rowOffset: UInt64) -> Self
    static func explicit(_ epsilon: [Value]) -> Self
    var counterParts: (seed: UInt64, stream: UInt32, rowOffset: UInt64)? { get }
    var explicitValues: [Value]? { get }
}

extension Noise32: ShrinkableNoise {
    var counterParts: (seed: UInt64, stream: UInt32, rowOffset: UInt64)? {
        if case let .counter(seed, stream, rowOffset) = self { (seed, stream, rowOffset) } else { nil }
    }
    var explicitValues: [Float]? { if case let .explicit(epsilon) = self { epsilon } else { nil } }
}

extension NoiseInput: ShrinkableNoise {
    var counterParts: (seed: UInt64, stream: UInt32, rowOffset: UInt64)? {
        if case let .counter(seed, stream, rowOffset) = self { (seed, stream, rowOffset) } else { nil }
    }
    var explicitValues: [Double]? { if case let .explicit(epsilon) = self { epsilon } else { nil } }
}

extension ShrinkableNoise {
    /// Explicit `ε = 0` (`count` values) first, then the counter's seed, stream and offset at 0,
    /// then simpler explicit `ε`.
    func simpler(count: Int) -> [Self] {
        guard let (seed, stream, rowOffset) = counterParts else {
            let epsilon = explicitValues!
            return Simplicity.vectorCandidates(epsilon, perComponent: epsilon.count <= Simplicity.perComponentLimit).map { .explicit($0) }
        }
        var candidates: [Self] = [.explicit([Value](repeating: 0, count: count))]
        if seed != 0 { candidates.append(.counter(seed: 0, stream: stream, rowOffset: rowOffset)) }
        if stream != 0 { candidates.append(.counter(seed: seed, stream: 0, rowOffset: rowOffset)) }
        if rowOffset != 0 { candidates.append(.counter(seed: seed, stream: stream, rowOffset: 0)) }
        return candidates
    }

    /// Explicit `ε` costs its values' complexity; a counter costs more than any zero `ε`.
    var complexity: Int {
        guard let (seed, stream, rowOffset) = counterParts else { return Simplicity.complexity(explicitValues!) }
        return 1 + [seed != 0, stream != 0, rowOffset != 0].filter { $0 }.count
    }

    var swiftSource: String {
        guard let (seed, stream, rowOffset) = counterParts else { return ".explicit(\(SwiftSource.array(explicitValues!)))" }
        return ".counter(seed: \(seed), stream: \(stream), rowOffset: \(rowOffset))"
    }

    /// The noise for people: explicit `ε` in full only when short.
    var summary: String {
        if let epsilon = explicitValues, epsilon.count > 16 { return "explicit ε (\(epsilon.count) values)" }
        return swiftSource
    }
}
