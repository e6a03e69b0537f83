import Foundation
import ADARCore

/// Why `ImplicitFeedback.synthetic` cannot build the data set it was asked for.
public struct SyntheticShapeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The argument at fault: `users`, `items`, `interactionsPerUser`, `dimension`, `popularityExponent`, `affinity`.
    public let parameter: String
    public let reason: String

    public var description: String { "synthetic data: \(parameter): \(reason)" }
}

extension ImplicitFeedback {
    /// The largest `users × items` the generator accepts: its time grows as
    /// `users·items·dimension` (10⁸ pairs take minutes; ML-1M has 2.2·10⁷).
    public static let syntheticMaximumPairs = 100_000_000

    /// The most interactions the generator gives one user: between half and
    /// one and a half times the mean, and at least 2.
    public static func syntheticMaximumInteractions(perUser mean: Int) -> Int { max(2, mean / 2 + mean) }

    /// Throws unless `synthetic` can build this shape: at least one user, and
    /// more items than the most interactions one user can get, so that every
    /// user keeps at least one item to sample as a negative.
    public static func checkSyntheticShape(
        users: Int, items: Int, interactionsPerUser: Int, dimension: Int = 8,
        popularityExponent: Double = 0.8, affinity: Double = 3
    ) throws(SyntheticShapeError) {
        guard users >= 1 else { throw SyntheticShapeError(parameter: "users", reason: "\(users) must be at least 1") }
        guard interactionsPerUser >= 1 else {
            throw SyntheticShapeError(parameter: "interactionsPerUser", reason: "\(interactionsPerUser) must be at least 1")
        }
        guard dimension >= 1 else { throw SyntheticShapeError(parameter: "dimension", reason: "\(dimension) must be at least 1") }
        let most = syntheticMaximumInteractions(perUser: interactionsPerUser)
        guard items > most else {
            throw SyntheticShapeError(
                parameter: "items",
                reason: "\(items) must be at least \(most + 1): a user gets up to \(most) items "
                    + "(1.5 × \(interactionsPerUser) interactions per user) and needs one more to sample as a negative")
        }
        guard users <= syntheticMaximumPairs / items else {
            throw SyntheticShapeError(parameter: "users",
                                      reason: "\(users) users × \(items) items exceeds the generator's maximum of \(syntheticMaximumPairs) pairs")
        }
        for (parameter, value) in [("popularityExponent", popularityExponent), ("affinity", affinity)] where !value.isFinite {
            throw SyntheticShapeError(parameter: parameter, reason: "\(value) must be finite")
        }
    }

    /// A seeded synthetic data set for tests that must not touch the network:
    /// latent factors `e_u, e_i ~ N(0, I/d)`, power-law popularity
    /// `p_i ∝ (i + 1)^(−popularityExponent)`, and each user's items drawn
    /// without replacement with weights `p_i·exp(affinity·⟨e_u, e_i⟩)`
    /// (Gumbel top-k), then split 80/10/10 per user as ML-100K, with `seed` as the split seed.
    /// Throws for a shape `checkSyntheticShape` refuses.
    public static func synthetic(
        users: Int, items: Int, interactionsPerUser: Int = 20, dimension: Int = 8,
        popularityExponent: Double = 0.8, affinity: Double = 3, seed: UInt64
    ) throws(SyntheticShapeError) -> ImplicitFeedback {
        try checkSyntheticShape(users: users, items: items, interactionsPerUser: interactionsPerUser, dimension: dimension,
                                popularityExponent: popularityExponent, affinity: affinity)
        var rng = SeededGenerator(seed: seed)
        let scale = 1 / Double(dimension).squareRoot()
        let userFactors = (0 ..< users * dimension).map { _ in rng.normal() * scale }
        let itemFactors = (0 ..< items * dimension).map { _ in rng.normal() * scale }
        let logPopularity = (0..<items).map { -popularityExponent * log(Double($0 + 1)) }
        var interactions: [(user: Int, item: Int)] = []
        for u in 0..<users {
            // Between half and one and a half times the mean, so users differ.
            let count = max(2, interactionsPerUser / 2 + Int(rng.next() % UInt64(interactionsPerUser + 1)))
            var keyed: [(key: Double, item: Int)] = []
            keyed.reserveCapacity(items)
            for i in 0..<items {
                var affinityScore = 0.0
                for k in 0..<dimension { affinityScore += userFactors[u * dimension + k] * itemFactors[i * dimension + k] }
                let uniform = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &rng)
                keyed.append((logPopularity[i] + affinity * affinityScore - log(-log(uniform)), i))
            }
            keyed.sort { $0.key > $1.key || ($0.key == $1.key && $0.item < $1.item) }
            for (_, item) in keyed.prefix(count) { interactions.append((u, item)) }
        }
        return randomSplit(name: "synthetic", userCount: users, itemCount: items, interactions: interactions, seed: seed)
    }
}
