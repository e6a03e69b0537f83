import Foundation
import Dispatch
import ADARCore

/// Full-ranking Recall@K and NDCG@K of one held-out split (a `RankingTask`).
///
/// For each user with at least one target item, every item not among the
/// user's excluded items (a *candidate*) is ranked by score, higher first: for
/// validation the excluded items are the training items, for test the training
/// and validation items (`ImplicitFeedback.rankingTask`). With `H` the targets
/// in the top K, `Recall@K = |H|/|targets_u|` and
/// `NDCG@K = Σ_{hits at rank r} 1/log₂(r + 2) / Σ_{r < min(K, |targets_u|)} 1/log₂(r + 2)`
/// (ranks from 0); both are averaged over those users.
///
/// **Ties favour no item**: items with equal scores are ordered uniformly at
/// random, and the metrics are their exact *expectation* over those orders
/// (docs/TRAINING.md, "Ties"). A tie group of `g` candidates holding `h` target
/// items, with `a` candidates scored above it, puts each of its test items at
/// each of the ranks `a … a+g−1` with probability `1/g`, so it adds
/// `h·|[a, a+g) ∩ [0, K)|/g` expected hits and `h/g·Σ_{r ∈ [a, a+g) ∩ [0, K)} 1/log₂(r + 2)`
/// expected DCG. A constant model therefore scores what a random ranking
/// scores on average, never what the item ids happen to favour.
///
/// **NaN scores rank last**: a NaN is below every number (−∞ included), and
/// the NaNs of a user form one tie group. `nonFiniteScores` counts NaN and
/// ±∞ scores, so that a caller can refuse an overflowed model.
public struct RankingMetrics: Sendable, Equatable {
    public let cutoffs: [Int]
    public let recall: [Double]
    public let ndcg: [Double]
    public let evaluatedUsers: Int
    /// Scores (of any item, for the evaluated users) that were NaN or ±∞.
    public let nonFiniteScores: Int

    public func recall(at k: Int) -> Double { recall[cutoffs.firstIndex(of: k)!] }
    public func ndcg(at k: Int) -> Double { ndcg[cutoffs.firstIndex(of: k)!] }

    /// `scoreUser(u, out)` writes the scores of every item for user `u` into
    /// `out` (length `itemCount`). Evaluation is parallel over fixed chunks of
    /// users and sums them in chunk order, so the result does not depend on
    /// the thread count. At least one cutoff, each at least 1.
    public static func evaluate(
        _ task: RankingTask, cutoffs: [Int] = [10, 20],
        scoreUser: @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> RankingMetrics {
        precondition(!cutoffs.isEmpty && cutoffs.allSatisfy { $0 >= 1 }, "give at least one cutoff, each at least 1")
        let maxK = cutoffs.max()!
        // discount[r] = Σ_{i < r} 1/log₂(i + 2).
        let discount = (0 ..< maxK).reduce(into: [0.0]) { sums, rank in sums.append(sums[rank] + 1 / log2(Double(rank + 2))) }
        let chunkCount = 64, width = 2 * cutoffs.count + 2
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: chunkCount * width)
        sums.initialize(repeating: 0, count: chunkCount * width)
        defer { sums.deallocate() }
        nonisolated(unsafe) let shared = sums
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let row = shared + chunk * width
            var scores = [Float](repeating: 0, count: task.itemCount)
            var excluded = [Bool](repeating: false, count: task.itemCount), relevant = excluded
            for user in chunkRange(chunk, of: chunkCount, count: task.userCount) where !task.targets[user].isEmpty {
                scores.withUnsafeMutableBufferPointer { scoreUser(user, $0) }
                row[2 * cutoffs.count + 1] += Double(scores.count(where: { !$0.isFinite }))
                for item in task.excluded[user] { excluded[Int(item)] = true }
                for item in task.targets[user] { relevant[Int(item)] = true }
                let groups = tieGroups(scores, excluded: excluded, relevant: relevant, depth: maxK)
                for item in task.excluded[user] { excluded[Int(item)] = false }
                for item in task.targets[user] { relevant[Int(item)] = false }
                let targetCount = Double(task.targets[user].count)
                for (index, k) in cutoffs.enumerated() {
                    var hits = 0.0, dcg = 0.0, above = 0
                    for group in groups where above < k {
                        let covered = min(k - above, group.size)
                        let share = Double(group.relevant) / Double(group.size)
                        hits += share * Double(covered)
                        dcg += share * (discount[above + covered] - discount[above])
                        above += group.size
                    }
                    row[index] += hits / targetCount
                    row[cutoffs.count + index] += dcg / discount[min(k, task.targets[user].count)]
                }
                row[2 * cutoffs.count] += 1
            }
        }
        var recall = [Double](repeating: 0, count: cutoffs.count), ndcg = recall, users = 0.0, nonFinite = 0.0
        for chunk in 0..<chunkCount {
            let row = sums + chunk * width
            for index in cutoffs.indices {
                recall[index] += row[index]
                ndcg[index] += row[cutoffs.count + index]
            }
            users += row[2 * cutoffs.count]
            nonFinite += row[2 * cutoffs.count + 1]
        }
        let n = max(users, 1)
        return RankingMetrics(cutoffs: cutoffs, recall: recall.map { $0 / n }, ndcg: ndcg.map { $0 / n },
                              evaluatedUsers: Int(users), nonFiniteScores: Int(nonFinite))
    }

    /// A run of candidates with equal scores: how many, and how many of them are target items.
    struct TieGroup: Equatable {
        var size: Int
        var relevant: Int
    }

    /// The tie groups of the non-excluded items, best score first, down to and
    /// including the group that holds rank `depth − 1` (the whole group, however
    /// far it extends past that rank).
    static func tieGroups(_ scores: [Float], excluded: [Bool], relevant: [Bool], depth: Int) -> [TieGroup] {
        // The depth-th best key (or the lowest, with fewer candidates): every
        // group that reaches rank depth − 1 has a key at least this one.
        var best: [UInt32] = []
        best.reserveCapacity(depth + 1)
        for item in scores.indices where !excluded[item] {
            let key = rankKey(scores[item])
            if best.count == depth, key <= best[depth - 1] { continue }
            var position = best.count
            while position > 0 && key > best[position - 1] { position -= 1 }
            best.insert(key, at: position)
            if best.count > depth { best.removeLast() }
        }
        guard let threshold = best.last else { return [] }
        var above: [(key: UInt32, relevant: Bool)] = []
        var boundary = TieGroup(size: 0, relevant: 0)
        for item in scores.indices where !excluded[item] {
            let key = rankKey(scores[item])
            if key > threshold {
                above.append((key, relevant[item]))
            } else if key == threshold {
                boundary.size += 1
                if relevant[item] { boundary.relevant += 1 }
            }
        }
        above.sort { $0.key > $1.key }
        var groups: [TieGroup] = []
        var previous: UInt32?
        for entry in above {
            if entry.key != previous { groups.append(TieGroup(size: 0, relevant: 0)) }
            groups[groups.count - 1].size += 1
            if entry.relevant { groups[groups.count - 1].relevant += 1 }
            previous = entry.key
        }
        return groups + [boundary]
    }

    /// An order-preserving key: NaN (0) < −∞ < … < −0 = +0 < … < +∞.
    @inline(__always)
    static func rankKey(_ score: Float) -> UInt32 {
        if score.isNaN { return 0 }
        let bits = (score == 0 ? Float(0) : score).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }
}
