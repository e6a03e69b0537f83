import Foundation
import ADARCore

/// The negative-selection rules, as pure functions of the candidates' scores
/// so that tests can check them on hand-made scores.
public enum NegativeRule {
    /// DNS: the index of the highest score (the first on ties).
    public static func dns(_ scores: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for m in scores.indices.dropFirst() where scores[m] > scores[best] { best = m }
        return best
    }

    /// AHNS's target score `β·(s_ui + α)^(p+1)`.
    ///
    /// Where the power is undefined or infinite — `s_ui + α ≤ 0` with
    /// `p + 1 < 0`, e.g. the default `p = −2` — the target is `+∞`: the limit
    /// of `β·(s_ui + α)^(p+1)` as `s_ui + α → 0⁺` (for `β > 0`), so the rule
    /// asks for the hardest candidate. With `p + 1 ≥ 0` the base is clamped at
    /// 0 as well (`0^0 = 1`), keeping the target continuous at the boundary.
    public static func ahnsTarget(positiveScore: Float, _ parameters: AHNSParameters) -> Double {
        let base = Swift.max(Double(positiveScore) + parameters.alpha, 0)
        let exponent = parameters.p + 1
        if base == 0 && exponent < 0 { return parameters.beta >= 0 ? .infinity : -.infinity }
        return parameters.beta * pow(base, exponent)
    }

    /// AHNS: the index minimising `|s_uj − target|` (the first on ties); for
    /// an infinite target, the highest (or lowest) score.
    public static func ahns(positiveScore: Float, _ scores: UnsafeBufferPointer<Float>, _ parameters: AHNSParameters) -> Int {
        let target = ahnsTarget(positiveScore: positiveScore, parameters)
        if target == .infinity { return dns(scores) }
        if target == -.infinity {
            var lowest = 0
            for m in scores.indices.dropFirst() where scores[m] < scores[lowest] { lowest = m }
            return lowest
        }
        var best = 0, bestDistance = abs(Double(scores[0]) - target)
        for m in scores.indices.dropFirst() {
            let distance = abs(Double(scores[m]) - target)
            if distance < bestDistance { best = m; bestDistance = distance }
        }
        return best
    }
}

/// Draws items a user has not interacted with in training, uniformly, by
/// rejection against a bit matrix of the training interactions (one bit per
/// user–item pair: 2.8 MB for ML-1M).
public struct UniformNegatives: Sendable {
    public let itemCount: Int
    private let words: [UInt64]
    private let wordsPerUser: Int

    public init(train: [[Int32]], itemCount: Int) throws(TrainingError) {
        if let user = train.firstIndex(where: { $0.count >= itemCount }) { throw .noNegativeItems(user: user) }
        self.itemCount = itemCount
        wordsPerUser = (itemCount + 63) / 64
        var words = [UInt64](repeating: 0, count: train.count * wordsPerUser)
        for (user, items) in train.enumerated() {
            for item in items { words[user * wordsPerUser + Int(item) / 64] |= 1 << UInt64(item % 64) }
        }
        self.words = words
    }

    /// Whether `user` interacted with `item` in training.
    @inline(__always)
    public func isTraining(user: Int, item: Int) -> Bool {
        words[user * wordsPerUser + item / 64] & (1 << UInt64(item % 64)) != 0
    }

    @inline(__always)
    public func draw(for user: Int, using rng: inout SeededGenerator) -> Int32 {
        while true {
            // ⌊r·I/2⁶⁴⌋: uniform up to a bias below I/2⁶⁴.
            let item = Int(rng.next().multipliedFullWidth(by: UInt64(itemCount)).high)
            if !isTraining(user: user, item: item) { return Int32(item) }
        }
    }

    /// The generator of row `row` in epoch `epoch`: a pure function of the
    /// run's seed and the row's position, so rows can be drawn in parallel.
    public static func generator(seed: UInt64, epoch: Int, row: UInt64) -> SeededGenerator {
        var mixer = SeededGenerator(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        return SeededGenerator(seed: mixer.next() ^ (row &* 0x9E37_79B9_7F4A_7C15))
    }
}
