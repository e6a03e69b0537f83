import Foundation
import ADARCore
import ADAR

/// How a row of an equivalence case was built (Proofs/S6-binary32-equivalence.md, "Inputs").
public enum EquivalenceRowKind: String, CaseIterable, Sendable {
    /// Gaussian vectors at a random scale, positives correlated with the user.
    case random
    /// Several pool candidates identical to the hardest one: ties in S3/S5.
    case tiedPool
    /// `e_u = 0`: `degenerateUser`.
    case zeroUser
    /// A candidate equal to the positive: `s_0 = s⁻` under `max`/`first`.
    case negativeEqualsPositive
    /// The positive negated: `s_0 ≤ 0`.
    case nonPositiveScore
    /// Norms near `10¹⁶ … 10²⁰`: squares at and beyond the binary32 range.
    case huge
    /// Components near `10⁻¹⁸ … 10⁻²²`: squares underflow in binary32.
    case tiny
    /// Subnormal components.
    case subnormal
    /// Pool built so that `ᾱ*` equals a table entry `ᾱ_t` (an S4.f tie).
    case timestepBoundary
}

/// One random case of the equivalence sweep: a schedule, a configuration and
/// a batch in binary32, with the same values widened for the reference.
public struct EquivalenceCase: Sendable, CustomStringConvertible {
    public let index: Int
    public let caseSeed: UInt64
    public let schedule: NoiseSchedule
    public let configuration: ADARConfiguration
    public let rows: Int, dimension: Int, poolSize: Int
    public let users: [Float], positives: [Float], pool: [Float]
    public let noise: Noise32
    public let rowKinds: [EquivalenceRowKind]

    public var dense: DenseRows32 {
        get throws { try DenseRows32(rows: rows, dimension: dimension, poolSize: poolSize, users: users, positives: positives, pool: pool) }
    }

    /// The same rows in the training form: the vectors stored in shuffled
    /// tables (users, then items with positives and candidates interleaved)
    /// and gathered back by index.
    public func indexed(using generator: inout SeededGenerator) throws -> IndexedRows32 {
        let d = dimension
        let userOrder = Array(0..<rows).shuffled(using: &generator)
        var userTable = [Float](repeating: 0, count: rows * d)
        var userIndex = [Int32](repeating: 0, count: rows)
        for (slot, b) in userOrder.enumerated() {
            userTable.replaceSubrange(slot * d ..< (slot + 1) * d, with: users[b * d ..< (b + 1) * d])
            userIndex[b] = Int32(slot)
        }
        let itemCount = rows * (poolSize + 1)
        let itemOrder = Array(0..<itemCount).shuffled(using: &generator)
        var itemTable = [Float](repeating: 0, count: itemCount * d)
        var positiveIndex = [Int32](repeating: 0, count: rows)
        var poolIndex = [Int32](repeating: 0, count: rows * poolSize)
        for (slot, item) in itemOrder.enumerated() {
            // Item `b·(M+1)` is row b's positive, `b·(M+1) + 1 + m` its candidate m.
            let b = item / (poolSize + 1), m = item % (poolSize + 1) - 1
            let source = m < 0 ? positives[b * d ..< (b + 1) * d] : pool[(b * poolSize + m) * d ..< (b * poolSize + m + 1) * d]
            itemTable.replaceSubrange(slot * d ..< (slot + 1) * d, with: source)
            if m < 0 { positiveIndex[b] = Int32(slot) } else { poolIndex[b * poolSize + m] = Int32(slot) }
        }
        return try IndexedRows32(dimension: d, poolSize: poolSize, userTable: userTable, itemTable: itemTable,
                                 users: userIndex, positives: positiveIndex, pool: poolIndex)
    }

    /// The reference's batch: every binary32 value widened exactly to binary64.
    public var batch: ADARBatch {
        get throws {
            let widen = { (values: [Float]) in values.map(Double.init) }
            let referenceNoise: NoiseInput
            switch noise {
            case let .counter(seed, stream, rowOffset): referenceNoise = .counter(seed: seed, stream: stream, rowOffset: rowOffset)
            case let .explicit(epsilon): referenceNoise = .explicit(widen(epsilon))
            }
            return try ADARBatch(rows: rows, dimension: dimension, poolSize: poolSize, users: widen(users),
                                 positives: widen(positives), pool: widen(pool), noise: referenceNoise)
        }
    }

    public var description: String {
        let c = configuration
        let noiseText: String
        switch noise {
        case let .counter(seed, stream, rowOffset): noiseText = "counter(seed: \(seed), stream: \(stream), rowOffset: \(rowOffset))"
        case .explicit: noiseText = "explicit ε"
        }
        return "case #\(index) (case seed \(caseSeed)): schedule \(schedule.kind) T = \(schedule.steps); "
            + "ρ = \(c.rho), σ = \(c.sigma), policy \(c.policy.rawValue), fallback \(c.fallback.rawValue), "
            + "w = \(c.augmentationWeight), flow \(c.gradientFlow.rawValue), λ = \(c.l2); "
            + "B = \(rows), d = \(dimension), M = \(poolSize); \(noiseText); rows \(rowKinds.map(\.rawValue))"
    }
}

/// Draws the cases of the sweep. Case `i` depends only on `(seed, i)`.
public enum EquivalenceCaseGenerator {
    public static func caseSeed(sweepSeed: UInt64, index: Int) -> UInt64 {
        var mixer = SeededGenerator(seed: sweepSeed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }

    public static func make(sweepSeed: UInt64, index: Int) throws -> EquivalenceCase {
        let seed = caseSeed(sweepSeed: sweepSeed, index: index)
        var g = SeededGenerator(seed: seed)
        let schedule = try randomSchedule(&g)
        let configuration = try randomConfiguration(&g)
        let rows = [0, 1, 1, 2, 3, 5, 8, 13][Int.random(in: 0..<8, using: &g)]
        // Log-uniform d in 1…512 so non-multiples of 8 and tails are common; some exact multiples.
        let dimension = Bool.random(using: &g)
            ? Int(exp(Double.random(in: 0...log(512.0), using: &g)).rounded())
            : 8 * Int.random(in: 1...64, using: &g)
        let poolSize = Int(exp(Double.random(in: 0...log(64.0), using: &g)).rounded())
        var users = [Float](), positives = [Float](), pool = [Float](), kinds = [EquivalenceRowKind]()
        for _ in 0..<rows {
            let kind = Double.random(in: 0..<1, using: &g) < 0.5
                ? EquivalenceRowKind.random : EquivalenceRowKind.allCases.randomElement(using: &g)!
            let row = makeRow(kind, dimension: dimension, poolSize: poolSize, schedule: schedule,
                              configuration: configuration, using: &g)
            users += row.user; positives += row.positive; pool += row.pool; kinds.append(kind)
        }
        let noise: Noise32 = Bool.random(using: &g)
            ? .counter(seed: g.next(), stream: UInt32.random(in: 0...UInt32.max, using: &g), rowOffset: g.next() >> UInt64.random(in: 0...63, using: &g))
            : .explicit((0..<rows * dimension).map { _ in Float(g.normal()) })
        return EquivalenceCase(index: index, caseSeed: seed, schedule: schedule, configuration: configuration,
                               rows: rows, dimension: dimension, poolSize: poolSize, users: users,
                               positives: positives, pool: pool, noise: noise, rowKinds: kinds)
    }

    static func logUniform(_ low: Double, _ high: Double, _ g: inout SeededGenerator) -> Double {
        exp(Double.random(in: log(low)...log(high), using: &g))
    }

    static func randomSchedule(_ g: inout SeededGenerator) throws -> NoiseSchedule {
        while true {
            let steps = [1, 2, 3, 7, 10, 50, 100, 1000][Int.random(in: 0..<8, using: &g)]
            let kind: ScheduleKind
            switch Int.random(in: 0..<6, using: &g) {
            case 0:
                let start = logUniform(1e-6, 1e-2, &g)
                kind = .linear(start: start, end: start + logUniform(1e-6, 0.3, &g))
            case 1: kind = .ddpmLinear
            case 2:
                let start = logUniform(1e-6, 1e-2, &g)
                kind = .scaledLinear(start: start, end: start + logUniform(1e-6, 0.3, &g))
            case 3: kind = .cosine(s: Double.random(in: 0...0.02, using: &g), maxBeta: Double.random(in: 0.5...0.999, using: &g))
            case 4:
                let low = logUniform(1e-5, 1e-2, &g)
                kind = .linearVariance(scale: Double.random(in: 0.1...1, using: &g), min: low,
                                       max: low + logUniform(1e-4, 0.5, &g), maxBeta: 0.999)
            default: kind = .custom(betas: (0..<steps).map { _ in logUniform(1e-7, 0.5, &g) })
            }
            // ddpm-linear at T < 20 has β ≥ 1: an invalid schedule, drawn again.
            if let schedule = try? NoiseSchedule(kind, steps: steps) { return schedule }
        }
    }

    static func randomConfiguration(_ g: inout SeededGenerator) throws -> ADARConfiguration {
        let rho: Double
        switch Int.random(in: 0..<6, using: &g) {
        case 0: rho = 0.5
        case 1: rho = logUniform(1e-7, 1e-2, &g)                  // near 0
        case 2: rho = 1 - logUniform(1e-7, 1e-2, &g)              // near 1
        default: rho = Double.random(in: 0.02...0.98, using: &g)
        }
        return try ADARConfiguration(
            rho: rho, policy: ReferencePolicy.allCases.randomElement(using: &g)!,
            sigma: Bool.random(using: &g) ? 1 : logUniform(1e-2, 1e2, &g),
            fallback: FallbackMode.allCases.randomElement(using: &g)!,
            augmentationWeight: [0, 1, logUniform(1e-2, 10, &g)][Int.random(in: 0..<3, using: &g)],
            gradientFlow: GradientFlow.allCases.randomElement(using: &g)!,
            l2: [0, logUniform(1e-6, 1, &g)][Int.random(in: 0..<2, using: &g)])
    }

    static func gaussian(_ count: Int, scale: Double, _ g: inout SeededGenerator) -> [Double] {
        (0..<count).map { _ in g.normal() * scale }
    }

    static func makeRow(
        _ kind: EquivalenceRowKind, dimension d: Int, poolSize m: Int, schedule: NoiseSchedule,
        configuration: ADARConfiguration, using g: inout SeededGenerator
    ) -> (user: [Float], positive: [Float], pool: [Float]) {
        let scale: Double
        switch kind {
        case .huge: scale = logUniform(1e16, 1e20, &g) / Double(d).squareRoot()
        case .tiny: scale = logUniform(1e-22, 1e-18, &g)
        case .subnormal: scale = logUniform(1e-44, 1e-39, &g)
        default: scale = logUniform(1e-2, 10, &g)
        }
        let user = gaussian(d, scale: scale, &g)
        let unit = (user.reduce(0) { $0 + $1 * $1 }).squareRoot()
        // Positives lean towards the user so that s_0 > 0 is common.
        let lean = Double.random(in: -0.2...1.5, using: &g)
        var positive = zip(user, gaussian(d, scale: scale, &g)).map { lean * $0 + $1 }
        var pool = (0..<m).flatMap { _ in
            let candidateLean = Double.random(in: -1...1, using: &g)
            return zip(user, gaussian(d, scale: scale, &g)).map { candidateLean * $0 + $1 }
        }
        switch kind {
        case .tiedPool:
            let copies = Int.random(in: 1...m, using: &g), source = Int.random(in: 0..<m, using: &g)
            for _ in 0..<copies {
                let target = Int.random(in: 0..<m, using: &g)
                pool.replaceSubrange(target * d ..< (target + 1) * d, with: pool[source * d ..< (source + 1) * d])
            }
        case .zeroUser:
            return ([Float](repeating: 0, count: d), positive.map(Float.init), pool.map(Float.init))
        case .negativeEqualsPositive:
            let target = configuration.policy == .first ? 0 : Int.random(in: 0..<m, using: &g)
            pool.replaceSubrange(target * d ..< (target + 1) * d, with: positive)
        case .nonPositiveScore:
            let s0 = zip(user, positive).reduce(0) { $0 + $1.0 * $1.1 }
            if s0 > 0 { positive = positive.map { -$0 } }
        case .timestepBoundary where unit > 0:
            // S4.d solved for s⁻: g(a) = z at a = √ᾱ_t gives s⁻ = a·s_0 − z·n·√(1 − a²);
            // every candidate is a·x_0 + v with ⟨e_u, v⟩ = −z·σ·‖e_u‖·√(1 − a²).
            let s0 = zip(user, positive).reduce(0) { $0 + $1.0 * $1.1 }
            if s0 < 0 { positive = positive.map { -$0 } }
            let t = Int.random(in: 1...schedule.steps, using: &g)
            let a = schedule.sqrtAlphaBar[t], z = StandardNormal.quantile(configuration.rho)
            let shift = -z * configuration.sigma * (1 - a * a).squareRoot() / unit
            let candidate = zip(positive, user).map { a * $0 + shift * $1 }
            pool = (0..<m).flatMap { _ in candidate }
        default: break
        }
        return (user.map(Float.init), positive.map(Float.init), pool.map(Float.init))
    }
}
