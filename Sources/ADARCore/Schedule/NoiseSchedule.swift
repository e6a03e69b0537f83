import Foundation

/// A validated noise schedule with its binary64 tables (spec S1).
///
/// Every table is indexed by the 1-based timestep `t ∈ 0…T`; index 0 is the
/// clean sample: `β[0] = 0`, `ᾱ[0] = 1`, `√ᾱ[0] = 1`, `√(1 − ᾱ)[0] = 0`.
public struct NoiseSchedule: Equatable, Sendable {
    public let kind: ScheduleKind
    /// `T`, the number of diffusion steps.
    public let steps: Int
    /// `β_t`, `t = 0…T` (`β_0 = 0` by convention).
    public let beta: [Double]
    /// `ᾱ_t = ᾱ_{t−1}·(1 − β_t)`, accumulated left to right in binary64.
    public let alphaBar: [Double]
    /// `√ᾱ_t`.
    public let sqrtAlphaBar: [Double]
    /// `√(1 − ᾱ_t)`, computed from the `ᾱ_t` table exactly as written.
    public let sqrtOneMinusAlphaBar: [Double]

    public init(_ kind: ScheduleKind, steps: Int) throws(ADARError) {
        guard steps >= 1 else {
            throw .invalidSchedule(parameter: "steps", reason: "T = \(steps); T must be at least 1")
        }
        try ADARLimits.check("steps", steps, atMost: ADARLimits.maxSteps)
        let betas = try Self.betas(kind, steps: steps)
        var alphaBar = [1.0]
        alphaBar.reserveCapacity(steps + 1)
        for t in 1...steps {
            let beta = betas[t - 1]
            guard beta.isFinite, beta > 0, beta < 1 else {
                throw .invalidSchedule(parameter: "beta[\(t)]", reason: "β_\(t) = \(beta) is outside (0, 1)")
            }
            let next = alphaBar[t - 1] * (1 - beta)
            // S1.a: ᾱ must strictly decrease and stay positive; a β too small to
            // move ᾱ in binary64, or an ᾱ that underflows, is refused, not clamped.
            guard next < alphaBar[t - 1] else {
                throw .invalidSchedule(parameter: "beta[\(t)]", reason: "β_\(t) = \(beta) leaves ᾱ unchanged in binary64")
            }
            guard next > 0 else {
                throw .invalidSchedule(parameter: "beta[\(t)]", reason: "ᾱ_\(t) underflows to 0")
            }
            alphaBar.append(next)
        }
        self.kind = kind
        self.steps = steps
        self.beta = [0] + betas
        self.alphaBar = alphaBar
        self.sqrtAlphaBar = alphaBar.map { $0.squareRoot() }
        self.sqrtOneMinusAlphaBar = alphaBar.map { (1 - $0).squareRoot() }
    }

    /// `β_1 … β_T` of each family (S1 table), before the range checks.
    private static func betas(_ kind: ScheduleKind, steps T: Int) throws(ADARError) -> [Double] {
        switch kind {
        case let .linear(start, end):
            try checkOrdered(start: start, end: end)
            return (1...T).map { linspace(start, end, steps: T, at: $0) }
        case .ddpmLinear:
            let scale = 1000 / Double(T)
            return try betas(.linear(start: 1e-4 * scale, end: 0.02 * scale), steps: T)
        case let .scaledLinear(start, end):
            try checkOrdered(start: start, end: end)
            guard start >= 0 else {
                throw .invalidSchedule(parameter: "start", reason: "start = \(start) must be ≥ 0 to take its square root")
            }
            return (1...T).map {
                let root = linspace(start.squareRoot(), end.squareRoot(), steps: T, at: $0)
                return root * root
            }
        case let .cosine(s, maxBeta):
            guard s.isFinite, s >= 0 else {
                throw .invalidSchedule(parameter: "s", reason: "s = \(s) must be finite and ≥ 0")
            }
            try checkMaxBeta(maxBeta)
            let f = { (tau: Double) -> Double in
                let c = cos((tau + s) / (1 + s) * Double.pi / 2)
                return c * c
            }
            return (1...T).map {
                min(1 - f(Double($0) / Double(T)) / f(Double($0 - 1) / Double(T)), maxBeta)
            }
        case let .linearVariance(scale, lo, hi, maxBeta):
            guard scale.isFinite, scale > 0 else {
                throw .invalidSchedule(parameter: "scale", reason: "scale = \(scale) must be finite and > 0")
            }
            guard lo.isFinite else {
                throw .invalidSchedule(parameter: "min", reason: "min = \(lo) must be finite")
            }
            guard hi.isFinite, hi > lo else {
                throw .invalidSchedule(parameter: "max", reason: "max = \(hi) must be finite and > min = \(lo)")
            }
            try checkMaxBeta(maxBeta)
            let v = (1...T).map { linspace(scale * lo, scale * hi, steps: T, at: $0) }
            // β_t = 1 − ᾱ'_t/ᾱ'_{t−1} with ᾱ'_t = 1 − v_t; v is 0-based here.
            var betas = [v[0]]
            for t in stride(from: 2, through: T, by: 1) {
                let ratio: Double = (1 - v[t - 1]) / (1 - v[t - 2])
                betas.append(min(1 - ratio, maxBeta))
            }
            return betas
        case let .custom(betas):
            guard betas.count == T else {
                throw .shapeMismatch(field: "betas", expected: T, actual: betas.count)
            }
            return betas
        }
    }

    private static func checkOrdered(start: Double, end: Double) throws(ADARError) {
        guard start.isFinite, end.isFinite else {
            throw .invalidSchedule(parameter: "start/end", reason: "start = \(start), end = \(end) must be finite")
        }
        guard start <= end else {
            throw .invalidSchedule(parameter: "start", reason: "start = \(start) > end = \(end)")
        }
    }

    private static func checkMaxBeta(_ maxBeta: Double) throws(ADARError) {
        guard maxBeta.isFinite, maxBeta > 0, maxBeta < 1 else {
            throw .invalidSchedule(parameter: "maxBeta", reason: "maxBeta = \(maxBeta) is outside (0, 1)")
        }
    }
}
