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
/// rejection (the training lists are sorted, so membership is a binary search).
public struct UniformNegatives: Sendable {
    public let train: [[Int32]]
    public let itemCount: Int

    public init(train: [[Int32]], itemCount: Int) throws(TrainingError) {
        if let user = train.firstIndex(where: { $0.count >= itemCount }) { throw .noNegativeItems(user: user) }
        self.train = train
        self.itemCount = itemCount
    }

    public func draw(for user: Int, using rng: inout SeededGenerator) -> Int32 {
        let items = train[user]
        while true {
            // The modulo bias is below 2⁻⁴⁰ for any realistic catalogue.
            let item = Int32(truncatingIfNeeded: rng.next() % UInt64(itemCount))
            if !Self.contains(items, item) { return item }
        }
    }

    static func contains(_ sorted: [Int32], _ item: Int32) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let mid = (low + high) / 2
            if sorted[mid] < item { low = mid + 1 } else { high = mid }
        }
        return low < sorted.count && sorted[low] == item
    }

    /// The generator of row `row` in epoch `epoch`: a pure function of the
    /// run's seed and the row's position, so rows can be drawn in parallel.
    static func generator(seed: UInt64, epoch: Int, row: UInt64) -> SeededGenerator {
        var mixer = SeededGenerator(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        return SeededGenerator(seed: mixer.next() ^ (row &* 0x9E37_79B9_7F4A_7C15))
    }
}
