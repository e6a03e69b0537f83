import ADARCore

/// The two held-out splits of the evaluation protocol (issue 9 §1). Model
/// selection reads only `.validation`; `.test` is scored once, for the chosen model.
public enum HeldOutSplit: String, CaseIterable, Sendable {
    case validation, test
}

/// What the evaluation of one held-out split ranks, per user: the relevant
/// items (`targets`) and the items removed from the ranking (`excluded`).
///
/// - validation: targets = validation items; excluded = training items. The
///   test items stay candidates: at validation time they are unknown future
///   interactions, exactly like any other unobserved item.
/// - test: targets = test items; excluded = training ∪ validation items. The
///   validation items are known interactions by test time (they were observed
///   and used to choose the model), so ranking them would either count an
///   already-consumed item as a miss or push the test items down for it.
public struct RankingTask: Sendable {
    public let split: HeldOutSplit
    public let itemCount: Int
    /// Per user, the relevant items, ascending and unique.
    public let targets: [[Int32]]
    /// Per user, the items not ranked, ascending and unique (disjoint from `targets`).
    public let excluded: [[Int32]]

    /// One list of targets and one of excluded items per user. Normally made by
    /// `ImplicitFeedback.rankingTask`; the final test evaluation builds its task
    /// from the targets a `SealedTestSplit` hands out.
    public init(split: HeldOutSplit, itemCount: Int, targets: [[Int32]], excluded: [[Int32]]) {
        precondition(targets.count == excluded.count, "one list of targets and one of excluded items per user")
        self.split = split
        self.itemCount = itemCount
        self.targets = targets
        self.excluded = excluded
    }

    public var userCount: Int { targets.count }
}

/// A split that breaks the invariants of `ImplicitFeedback`.
public struct SplitError: Error, Equatable, CustomStringConvertible {
    /// The user whose lists are wrong.
    public let user: Int
    public let reason: String

    public init(user: Int, reason: String) {
        self.user = user
        self.reason = reason
    }

    public var description: String {
        "user \(user): \(reason); build the split with ImplicitFeedback.randomSplit or ImplicitFeedback.latestValidationSplit"
    }
}

extension ImplicitFeedback {
    /// The targets and exclusions of `split` (see `RankingTask`).
    public func rankingTask(_ split: HeldOutSplit) -> RankingTask {
        switch split {
        case .validation:
            RankingTask(split: split, itemCount: itemCount, targets: validation, excluded: train)
        case .test:
            testTask(targets: test)
        }
    }

    /// The test task with the given per-user targets (the test split's, handed
    /// out by a `SealedTestSplit`): training and validation items excluded.
    public func testTask(targets: [[Int32]]) -> RankingTask {
        RankingTask(split: .test, itemCount: itemCount, targets: targets,
                    excluded: zip(train, validation).map { ($0 + $1).sorted() })
    }

    /// Checks every user's lists: strictly ascending (so unique), items in
    /// `0..<itemCount`, and train, validation and test pairwise disjoint. (One
    /// list per user is already a precondition of `init`.)
    public func validateSplits() throws(SplitError) {
        let lists = [("train", train), ("validation", validation), ("test", test)]
        for user in 0..<userCount {
            for (name, list) in lists {
                let items = list[user]
                if let bad = items.first(where: { $0 < 0 || Int($0) >= itemCount }) {
                    throw SplitError(user: user, reason: "\(name) item \(bad) is outside 0..<\(itemCount)")
                }
                if let index = items.indices.dropFirst().first(where: { items[$0 - 1] >= items[$0] }) {
                    throw SplitError(user: user, reason: "\(name) is not strictly ascending at \(items[index - 1]), \(items[index])")
                }
            }
            for (a, b) in [(0, 1), (0, 2), (1, 2)] {
                if let shared = Set(lists[a].1[user]).intersection(lists[b].1[user]).min() {
                    throw SplitError(user: user, reason: "item \(shared) is in both \(lists[a].0) and \(lists[b].0)")
                }
            }
        }
    }

    /// The items of each held-out split for a user with `n` distinct items, by
    /// the protocol's 80/10/10 rule: `round(n/10)` with halves rounded up,
    /// computed exactly as `(n + 5) / 10` in integers. Test and validation get
    /// that many each and training the rest, `n − 2·⌊(n + 5)/10⌋ ≥ 1` for every
    /// `n ≥ 1` (it is `n` for n ≤ 4 and at least `0.8·n − 1 > 1` beyond). So users
    /// with 1–4 items keep them all in training and have no held-out items;
    /// 5–14 items give 1 + 1 held out, 15–24 give 2 + 2, and so on.
    public static func heldOutCount(forUserWith n: Int) -> Int { (n + 5) / 10 }

    /// The per-user random 80/10/10 split (ML-100K, synthetic): every distinct
    /// (user, item) pair of `interactions` is a positive; each user's distinct
    /// items, in ascending order, are shuffled by a Fisher–Yates pass from the
    /// front that stops after the `2·heldOutCount(n)` held-out positions, with
    /// draws `x mod m` from SplitMix64 (rejecting `x` in the incomplete last
    /// block, so they are unbiased). The first `heldOutCount(n)` positions are
    /// the test items, the next as many the validation items, the rest training.
    ///
    /// `seed` is the split seed. A user's generator is keyed by (split seed,
    /// user id) only, so the split does not depend on the order of
    /// `interactions`, on other users, or on the Swift standard library's
    /// shuffling; the same seed gives the same split.
    public static func randomSplit(
        name: String, userCount: Int, itemCount: Int, interactions: [(user: Int, item: Int)], seed splitSeed: UInt64
    ) -> ImplicitFeedback {
        var byUser = [Set<Int32>](repeating: [], count: userCount)
        for (user, item) in interactions { byUser[user].insert(Int32(item)) }
        var train = [[Int32]](), validation = [[Int32]](), test = [[Int32]]()
        for (user, itemSet) in byUser.enumerated() {
            var items = itemSet.sorted()
            let heldOut = heldOutCount(forUserWith: items.count)
            var rng = userGenerator(splitSeed: splitSeed, user: user)
            for position in 0 ..< 2 * heldOut {
                items.swapAt(position, position + uniformIndex(below: items.count - position, using: &rng))
            }
            test.append(items[..<heldOut].sorted())
            validation.append(items[heldOut ..< 2 * heldOut].sorted())
            train.append(items[(2 * heldOut)...].sorted())
        }
        return ImplicitFeedback(name: name, userCount: userCount, itemCount: itemCount,
                                train: train, validation: validation, test: test)
    }

    /// ML-1M's fixed split (no split seed): the shipped leave-latest-out test
    /// items, and as validation item the latest remaining interaction.
    ///
    /// - test: the user's `testRows` items not among their `trainRows` items.
    /// - validation: the item of the user's `trainRows` row with the greatest
    ///   timestamp; on equal timestamps, the row later in `trainRows` (file order).
    ///   A user with a single distinct training item keeps it in training and
    ///   has no validation item.
    /// - train: the user's other `trainRows` items.
    public static func latestValidationSplit(name: String, trainRows: [Rating], testRows: [Rating]) -> ImplicitFeedback {
        let userCount = (trainRows + testRows).map(\.user).max().map { $0 + 1 } ?? 0
        let itemCount = (trainRows + testRows).map(\.item).max().map { $0 + 1 } ?? 0
        var trainSets = [Set<Int32>](repeating: [], count: userCount)
        var latest = [Rating?](repeating: nil, count: userCount)
        for row in trainRows {
            trainSets[row.user].insert(Int32(row.item))
            // `>=`: of equal timestamps the later row wins.
            if latest[row.user].map({ row.timestamp >= $0.timestamp }) ?? true { latest[row.user] = row }
        }
        var testSets = [Set<Int32>](repeating: [], count: userCount)
        for row in testRows where !trainSets[row.user].contains(Int32(row.item)) {
            testSets[row.user].insert(Int32(row.item))
        }
        var validation = [[Int32]](repeating: [], count: userCount)
        for user in 0..<userCount where trainSets[user].count > 1 {
            let item = Int32(latest[user]!.item)
            trainSets[user].remove(item)
            validation[user] = [item]
        }
        return ImplicitFeedback(name: name, userCount: userCount, itemCount: itemCount,
                                train: trainSets.map { $0.sorted() }, validation: validation,
                                test: testSets.map { $0.sorted() })
    }

    /// SplitMix64 keyed by (splitSeed, user) through its own output function
    /// twice, so neighbouring users and seeds get unrelated streams.
    private static func userGenerator(splitSeed: UInt64, user: Int) -> SeededGenerator {
        var seedStream = SeededGenerator(seed: splitSeed)
        var userStream = SeededGenerator(seed: seedStream.next() ^ UInt64(user))
        return SeededGenerator(seed: userStream.next())
    }

    /// A uniform integer in `0..<bound` by rejection: `x mod bound` for the
    /// first draw below the largest multiple of `bound` that fits in 2⁶⁴.
    private static func uniformIndex(below bound: Int, using rng: inout SeededGenerator) -> Int {
        let bound = UInt64(bound)
        let rejectFrom = UInt64.max - (UInt64.max % bound + 1) % bound
        while true {
            let x = rng.next()
            if x <= rejectFrom { return Int(x % bound) }
        }
    }
}
