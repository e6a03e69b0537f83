import Foundation
import ADARCore

extension ImplicitFeedback {
    /// A seeded synthetic data set for tests that must not touch the network:
    /// latent factors `e_u, e_i ~ N(0, I/d)`, power-law popularity
    /// `p_i ∝ (i + 1)^(−popularityExponent)`, and each user's items drawn
    /// without replacement with weights `p_i·exp(affinity·⟨e_u, e_i⟩)`
    /// (Gumbel top-k), then split 80/10/10 per user as ML-100K, with `seed` as the split seed.
    public static func synthetic(
        users: Int, items: Int, interactionsPerUser: Int = 20, dimension: Int = 8,
        popularityExponent: Double = 0.8, affinity: Double = 3, seed: UInt64
    ) -> ImplicitFeedback {
        precondition(users > 0 && items > 1 && interactionsPerUser >= 1 && interactionsPerUser < items)
        var rng = SeededGenerator(seed: seed)
        let scale = 1 / Double(dimension).squareRoot()
        let userFactors = (0 ..< users * dimension).map { _ in rng.normal() * scale }
        let itemFactors = (0 ..< items * dimension).map { _ in rng.normal() * scale }
        let logPopularity = (0..<items).map { -popularityExponent * log(Double($0 + 1)) }
        var interactions: [(user: Int, item: Int)] = []
        for u in 0..<users {
            // Between half and one and a half times the mean, so users differ.
            let count = min(items - 1, max(2, interactionsPerUser / 2 + Int(rng.next() % UInt64(interactionsPerUser + 1))))
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
