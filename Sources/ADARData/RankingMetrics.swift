import Foundation
import Dispatch
import ADARCore

/// Full-ranking Recall@K and NDCG@K, excluding each user's training items.
///
/// For each user with at least one test item, every item not in the user's
/// training set is ranked by score (higher first; equal scores by lower item
/// index), and with `H` the test items in the top K:
/// `Recall@K = |H|/|test_u|`, `NDCG@K = Σ_{hits at rank r} 1/log₂(r + 2) / Σ_{r < min(K, |test_u|)} 1/log₂(r + 2)`
/// (ranks from 0). Both are averaged over those users.
public struct RankingMetrics: Sendable, Equatable {
    public let cutoffs: [Int]
    public let recall: [Double]
    public let ndcg: [Double]
    public let evaluatedUsers: Int

    public func recall(at k: Int) -> Double { recall[cutoffs.firstIndex(of: k)!] }
    public func ndcg(at k: Int) -> Double { ndcg[cutoffs.firstIndex(of: k)!] }

    /// `scoreUser(u, out)` writes the scores of every item for user `u` into
    /// `out` (length `itemCount`). Evaluation is parallel over fixed chunks of
    /// users and sums them in chunk order, so the result does not depend on
    /// the thread count.
    public static func evaluate(
        _ data: ImplicitFeedback, cutoffs: [Int] = [10, 20],
        scoreUser: @Sendable (Int, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> RankingMetrics {
        let maxK = cutoffs.max() ?? 0
        let chunkCount = 64
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: chunkCount * (2 * cutoffs.count + 1))
        sums.initialize(repeating: 0, count: chunkCount * (2 * cutoffs.count + 1))
        defer { sums.deallocate() }
        nonisolated(unsafe) let shared = sums
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            let row = shared + chunk * (2 * cutoffs.count + 1)
            var scores = [Float](repeating: 0, count: data.itemCount)
            var excluded = [Bool](repeating: false, count: data.itemCount)
            for user in chunkRange(chunk, of: chunkCount, count: data.userCount) where !data.test[user].isEmpty {
                scores.withUnsafeMutableBufferPointer { scoreUser(user, $0) }
                for item in data.train[user] { excluded[Int(item)] = true }
                let top = topK(scores, excluded: excluded, k: maxK)
                for item in data.train[user] { excluded[Int(item)] = false }
                let relevant = Set(data.test[user])
                for (index, k) in cutoffs.enumerated() {
                    var hits = 0, dcg = 0.0, ideal = 0.0
                    for (rank, item) in top.prefix(k).enumerated() where relevant.contains(item) {
                        hits += 1
                        dcg += 1 / log2(Double(rank + 2))
                    }
                    for rank in 0 ..< min(k, relevant.count) { ideal += 1 / log2(Double(rank + 2)) }
                    row[index] += Double(hits) / Double(relevant.count)
                    row[cutoffs.count + index] += dcg / ideal
                }
                row[2 * cutoffs.count] += 1
            }
        }
        var recall = [Double](repeating: 0, count: cutoffs.count), ndcg = recall, users = 0.0
        for chunk in 0..<chunkCount {
            let row = sums + chunk * (2 * cutoffs.count + 1)
            for index in cutoffs.indices {
                recall[index] += row[index]
                ndcg[index] += row[cutoffs.count + index]
            }
            users += row[2 * cutoffs.count]
        }
        let n = max(users, 1)
        return RankingMetrics(cutoffs: cutoffs, recall: recall.map { $0 / n }, ndcg: ndcg.map { $0 / n }, evaluatedUsers: Int(users))
    }

    /// The `k` best items by score (ties: lower index first), skipping excluded ones.
    static func topK(_ scores: [Float], excluded: [Bool], k: Int) -> [Int32] {
        var best: [(score: Float, item: Int32)] = []
        best.reserveCapacity(k + 1)
        for item in scores.indices where !excluded[item] {
            let score = scores[item]
            if best.count == k, let last = best.last, !(score > last.score) { continue }
            // Insert after every entry that is at least as good (stable: lower index wins ties).
            var position = best.count
            while position > 0 && score > best[position - 1].score { position -= 1 }
            best.insert((score, Int32(item)), at: position)
            if best.count > k { best.removeLast() }
        }
        return best.map(\.item)
    }
}
