import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining
import ADARProtocol

/// Issue 8, training: ties and NaN in the metrics, divergence, the synthetic
/// generator's shape, option ranges, outputs checked first and written
/// atomically, `train --json`. Tiny synthetic data only.
@Suite("Training robustness: ties, divergence, shapes, ranges, outputs")
struct TrainingRobustnessTests {
    /// The seed of the randomised cases; replay a failure with `ADAR_SEED=<seed>`.
    static let seed = UInt64(ProcessInfo.processInfo.environment["ADAR_SEED"] ?? "") ?? 20_261_129
    static func replay(_ test: String) -> String {
        "seed \(seed); replay: ADAR_SEED=\(seed) swift test --disable-xctest --filter 'TrainingRobustnessTests/\(test)'"
    }

    // MARK: Metrics: ties favour no item, NaN ranks last

    /// Recall@K and NDCG@K of one user's ranking, by definition.
    static func metrics(ranking: [Int], test: Set<Int>, k: Int) -> (recall: Double, ndcg: Double) {
        var hits = 0, dcg = 0.0
        for (rank, item) in ranking.prefix(k).enumerated() where test.contains(item) {
            hits += 1
            dcg += 1 / log2(Double(rank + 2))
        }
        let ideal = (0 ..< min(k, test.count)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        return (Double(hits) / Double(test.count), dcg / ideal)
    }

    /// Every permutation of `items`.
    static func permutations(_ items: [Int]) -> [[Int]] {
        guard let first = items.first else { return [[]] }
        return permutations(Array(items.dropFirst())).flatMap { rest in
            (0...rest.count).map { position in
                var order = rest
                order.insert(first, at: position)
                return order
            }
        }
    }

    /// For each cutoff, the mean over users of the average, over every order of
    /// every tie group, of the metrics of that ranking; NaN below every number, −0 tied with +0.
    static func bruteForce(_ data: ImplicitFeedback, scores: [[Float]], cutoffs: [Int]) -> [(recall: Double, ndcg: Double)] {
        var sums = [(recall: Double, ndcg: Double)](repeating: (0, 0), count: cutoffs.count), users = 0.0
        for user in 0..<data.userCount where !data.test[user].isEmpty {
            let candidates = (0..<data.itemCount).filter { !data.train[user].contains(Int32($0)) }
            let score = scores[user]
            // Distinct values, best first; NaN last.
            var values: [Float] = []
            for item in candidates where !values.contains(where: { $0 == score[item] || ($0.isNaN && score[item].isNaN) }) {
                values.append(score[item])
            }
            values.sort { $1.isNaN ? !$0.isNaN : (!$0.isNaN && $0 > $1) }
            let groups = values.map { value in candidates.filter { value.isNaN ? score[$0].isNaN : score[$0] == value } }
            var orders: [[Int]] = [[]]
            for group in groups {
                let groupOrders = permutations(group)
                orders = orders.flatMap { prefix in groupOrders.map { prefix + $0 } }
            }
            let test = Set(data.test[user].map(Int.init))
            for (index, k) in cutoffs.enumerated() {
                let each = orders.map { metrics(ranking: $0, test: test, k: k) }
                sums[index].recall += each.reduce(0) { $0 + $1.recall } / Double(orders.count)
                sums[index].ndcg += each.reduce(0) { $0 + $1.ndcg } / Double(orders.count)
            }
            users += 1
        }
        return sums.map { ($0.recall / users, $0.ndcg / users) }
    }

    @Test("with ties, Recall@K and NDCG@K are the exact mean over every tie order (brute-force enumeration)")
    func tiesAreTheMeanOverEveryOrder() {
        var rng = SeededGenerator(seed: Self.seed)
        let alphabet: [Float] = [.nan, -.infinity, -1, -0.0, 0, 1, 2, .infinity]
        for trial in 0..<30 {
            let items = 5 + Int(rng.next() % 3), users = 3
            var train: [[Int32]] = [], test: [[Int32]] = []
            for _ in 0..<users {
                let order = Array(0..<items).shuffled(using: &rng).map(Int32.init)
                let trainCount = Int(rng.next() % 2), testCount = 1 + Int(rng.next() % 3)
                train.append(order[..<trainCount].sorted())
                test.append(order[trainCount ..< trainCount + testCount].sorted())
            }
            let data = ImplicitFeedback(name: "ties", userCount: users, itemCount: items, train: train, test: test)
            // Few distinct values: big tie groups, some straddling every cutoff.
            let width = 2 + Int(rng.next() % 3)
            let palette = (0..<width).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let scores = (0..<users).map { _ in (0..<items).map { _ in palette[Int(rng.next() % UInt64(width))] } }
            let cutoffs = [1, 2, 3, 5, 9]
            let metrics = RankingMetrics.evaluate(data.rankingTask(.test), cutoffs: cutoffs) { user, out in
                for item in 0..<out.count { out[item] = scores[user][item] }
            }
            for (index, expected) in Self.bruteForce(data, scores: scores, cutoffs: cutoffs).enumerated() {
                let k = cutoffs[index], context = "trial \(trial), scores \(scores); \(Self.replay("tiesAreTheMeanOverEveryOrder"))"
                #expect(abs(metrics.recall(at: k) - expected.recall) < 1e-12,
                        "Recall@\(k): \(metrics.recall(at: k)) vs \(expected.recall); \(context)")
                #expect(abs(metrics.ndcg(at: k) - expected.ndcg) < 1e-12,
                        "NDCG@\(k): \(metrics.ndcg(at: k)) vs \(expected.ndcg); \(context)")
            }
        }
    }

    @Test("a constant model scores the random-ranking expectation, whatever the item ids")
    func constantModelScoresLikeRandom() throws {
        let data = try ImplicitFeedback.synthetic(users: 40, items: 100, interactionsPerUser: 12, seed: 3)
        for constant: Float in [0, 0.25, .nan] {
            let metrics = RankingMetrics.evaluate(data.rankingTask(.test), cutoffs: [10, 20]) { _, out in
                for item in 0..<out.count { out[item] = constant }
            }
            for k in [10, 20] {
                // Uniform random ranking of n candidates: each test item is at each rank with probability 1/n.
                var recall = 0.0, ndcg = 0.0, users = 0.0
                for user in 0..<data.userCount where !data.test[user].isEmpty {
                    // The test task ranks every item outside train ∪ validation.
                    let n = data.itemCount - data.train[user].count - data.validation[user].count, t = data.test[user].count
                    let discount = { (count: Int) in (0..<count).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) } }
                    recall += Double(min(k, n)) / Double(n)
                    ndcg += Double(t) / Double(n) * discount(min(k, n)) / discount(min(k, t))
                    users += 1
                }
                #expect(abs(metrics.recall(at: k) - recall / users) < 1e-12, "constant \(constant), Recall@\(k)")
                #expect(abs(metrics.ndcg(at: k) - ndcg / users) < 1e-12, "constant \(constant), NDCG@\(k)")
            }
            #expect(metrics.nonFiniteScores == (constant.isNaN ? metrics.evaluatedUsers * data.itemCount : 0))
        }
    }

    @Test("a NaN score ranks below every number, −∞ included, and is counted")
    func nanRanksLast() {
        // One user, no training items, one test item (0).
        let data = ImplicitFeedback(name: "nan", userCount: 1, itemCount: 4, train: [[]], test: [[0]])
        let cases: [([Float], [Double])] = [
            // Recall@1…4 of the test item.
            ([.nan, 1, 2, 3], [0, 0, 0, 1]),
            ([.nan, -.infinity, -.infinity, 0], [0, 0, 0, 1]),
            ([-.infinity, .nan, .nan, .nan], [1, 1, 1, 1]),
            ([.infinity, .infinity, 0, .nan], [0.5, 1, 1, 1]),
        ]
        for (scores, expected) in cases {
            let metrics = RankingMetrics.evaluate(data.rankingTask(.test), cutoffs: [1, 2, 3, 4]) { _, out in
                for item in 0..<out.count { out[item] = scores[item] }
            }
            #expect(metrics.recall == expected, "scores \(scores)")
            #expect(metrics.nonFiniteScores == scores.count(where: { !$0.isFinite }), "scores \(scores)")
        }
    }

    // MARK: The synthetic generator's shape

    @Test("the synthetic generator refuses a shape it cannot build, naming the parameter")
    func syntheticShapeIsChecked() throws {
        let refused: [((users: Int, items: Int, perUser: Int, dimension: Int), String)] = [
            ((50, 40, 40, 8), "items"), ((50, 60, 40, 8), "items"), ((0, 100, 40, 8), "users"), ((-3, 100, 40, 8), "users"),
            ((5, 100, 0, 8), "interactionsPerUser"), ((5, 100, 10, 0), "dimension"), ((1, 2, 1, 8), "items"),
            ((ImplicitFeedback.syntheticMaximumPairs / 100 + 1, 100, 40, 8), "users"),
        ]
        for (shape, parameter) in refused {
            #expect {
                try ImplicitFeedback.synthetic(users: shape.users, items: shape.items, interactionsPerUser: shape.perUser,
                                               dimension: shape.dimension, seed: 1)
            } throws: { ($0 as? SyntheticShapeError)?.parameter == parameter }
        }
        #expect(throws: SyntheticShapeError.self) {
            try ImplicitFeedback.synthetic(users: 5, items: 100, affinity: .nan, seed: 1)
        }
        // The smallest catalogue accepted for 40 interactions per user: every user keeps a negative.
        let edge = try ImplicitFeedback.synthetic(users: 30, items: 61, interactionsPerUser: 40, seed: 2)
        #expect(edge.train.indices.allSatisfy { edge.train[$0].count + edge.test[$0].count < 61 })
        _ = try UniformNegatives(train: edge.train, itemCount: edge.itemCount)
        _ = try ImplicitFeedback.synthetic(users: 1, items: 3, interactionsPerUser: 1, seed: 2)
    }

    // MARK: Configuration ranges

    @Test("every training size and rate has a range; one step outside it is refused, naming the field")
    func configurationRanges() throws {
        typealias Make = () throws -> TrainingConfiguration
        let refused: [(String, Make)] = [
            ("dimension", { try TrainingConfiguration(dimension: 0) }), ("dimension", { try TrainingConfiguration(dimension: 1025) }),
            ("batchSize", { try TrainingConfiguration(batchSize: 0) }), ("batchSize", { try TrainingConfiguration(batchSize: 65_537) }),
            ("poolSize", { try TrainingConfiguration(poolSize: 0) }), ("poolSize", { try TrainingConfiguration(poolSize: 1025) }),
            ("layers", { try TrainingConfiguration(layers: 0) }), ("layers", { try TrainingConfiguration(layers: 17) }),
            ("epochs", { try TrainingConfiguration(epochs: 0) }), ("epochs", { try TrainingConfiguration(epochs: -1) }),
            ("l2", { try TrainingConfiguration(l2: -1e-9) }), ("l2", { try TrainingConfiguration(l2: .nan) }),
            ("initialScale", { try TrainingConfiguration(initialScale: 0) }),
            ("initialScale", { try TrainingConfiguration(initialScale: 1e200) }),
            ("initialScale", { try TrainingConfiguration(initialScale: 100.000_001) }),
            ("initialScale", { try TrainingConfiguration(initialScale: .nan) }),
            ("learningRate", { try TrainingConfiguration(adam: AdamParameters(learningRate: 0)) }),
            ("learningRate", { try TrainingConfiguration(adam: AdamParameters(learningRate: .infinity)) }),
            ("ahns.p", { try TrainingConfiguration(ahns: AHNSParameters(p: .nan)) }),
        ]
        for (field, make) in refused {
            #expect { try make() } throws: { error in
                guard case let .invalidConfiguration(thrown, _) = error as? TrainingError else { return false }
                return thrown == field
            }
        }
        // The bounds themselves are accepted.
        _ = try TrainingConfiguration(layers: 16, poolSize: 1024, dimension: 1024, batchSize: 65_536, epochs: 1, l2: 0, initialScale: 100)
        _ = try TrainingConfiguration(layers: 1, poolSize: 1, dimension: 1, batchSize: 1, initialScale: 1e-30)
    }

    @Test("a model with more than 2²⁶ embedding values is refused before anything is allocated")
    func modelSizeIsLimited() throws {
        let wide = ImplicitFeedback(name: "wide", userCount: 1, itemCount: 70_000, train: [[0]], test: [[1]])
        #expect(throws: TrainingError.modelTooLarge(values: 70_001 * 1024, maximum: 1 << 26)) {
            try Trainer(data: wide, configuration: TrainingConfiguration(dimension: 1024), seed: 1)
        }
        _ = try Trainer(data: wide, configuration: TrainingConfiguration(dimension: 8), seed: 1)
    }

    // MARK: Divergence

    static func tiny() throws -> ImplicitFeedback {
        try .synthetic(users: 50, items: 100, interactionsPerUser: 20, dimension: 8, seed: 2026)
    }

    @Test("a diverging run throws .diverged naming the epoch and the batch; it never returns a history")
    func divergenceStopsTheRun() throws {
        let data = try Self.tiny()
        // Seven batches an epoch: the first step from lr = 1e30 makes the second batch's loss NaN.
        let steep = try TrainingConfiguration(dimension: 16, batchSize: 256, epochs: 3, adam: AdamParameters(learningRate: 1e30))
        #expect {
            try trainEpochs(Trainer(data: data, configuration: steep, seed: 1), epochs: steep.epochs, evaluateEvery: 0, threads: 2)
        } throws: { error in
            guard case let .diverged(epoch, batch, detail) = error as? TrainingError else { return false }
            return epoch == 1 && batch == 2 && detail.contains("loss")
        }
        // ADAR refuses the non-finite embeddings before its loss is computed: the same epoch and batch.
        let steepADAR = try TrainingConfiguration(sampler: .adar, poolSize: 4, dimension: 16, batchSize: 256, epochs: 3,
                                                  adam: AdamParameters(learningRate: 1e30))
        #expect {
            try trainEpochs(Trainer(data: data, configuration: steepADAR, seed: 1), epochs: steepADAR.epochs, evaluateEvery: 0, threads: 2)
        } throws: { error in
            guard case let .diverged(epoch, batch, detail) = error as? TrainingError else { return false }
            return epoch == 1 && batch == 2 && detail.hasPrefix("ADAR: ")
        }
        // One batch an epoch, evaluated every epoch: the overflowed scores are found by the evaluation after epoch 1.
        let oneBatch = try TrainingConfiguration(dimension: 16, batchSize: 4096, epochs: 3, adam: AdamParameters(learningRate: 1e30))
        #expect {
            try trainEpochs(Trainer(data: data, configuration: oneBatch, seed: 1), epochs: oneBatch.epochs, evaluateEvery: 1, threads: 2)
        } throws: { error in
            guard case let .diverged(epoch, batch, detail) = error as? TrainingError else { return false }
            return epoch == 1 && batch == nil && detail.contains("scores")
        }
        // A healthy run of the same shape finishes.
        let healthy = try TrainingConfiguration(dimension: 16, batchSize: 256, epochs: 3, adam: AdamParameters(learningRate: 0.01))
        let history = try trainEpochs(Trainer(data: data, configuration: healthy, seed: 1), epochs: healthy.epochs, evaluateEvery: 0, threads: 2)
        #expect(history.compactMap(\.statistics).allSatisfy { $0.meanLoss.isFinite })
    }

    @Test("an embedding no batch touches is still checked after each epoch")
    func nonFiniteEmbeddingIsFound() throws {
        // User 2 has no training items, so its embedding never enters a loss.
        let data = ImplicitFeedback(name: "idle", userCount: 3, itemCount: 6, train: [[0, 1], [2, 3], []], test: [[4], [5], []])
        let trainer = try Trainer(data: data, configuration: TrainingConfiguration(dimension: 4, epochs: 2), seed: 1)
        trainer.parameters[2 * 4 + 1] = .infinity
        #expect {
            try trainEpochs(trainer, epochs: 2, evaluateEvery: 0, threads: 1)
        } throws: { error in
            guard case let .diverged(epoch, batch, detail) = error as? TrainingError else { return false }
            return epoch == 1 && batch == nil && detail == "the embedding of user 2 is +∞ after the epoch's last step"
        }
    }

    // MARK: End to end through the built `adar`

    static let tinyRun = ["--dataset", "synthetic", "--synthetic-users", "20", "--synthetic-items", "80", "--dim", "8", "--epochs", "2"]

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Every file under `folder`, hidden ones included, relative to it.
    static func files(in folder: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path, isDirectory: &isFolder),
               !isFolder.boolValue {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// The first number in `json` that is not finite, or a `null`, with its path; nil when there is none.
    static func firstNonFinite(_ json: JSONValue, at path: String = "$") -> String? {
        switch json {
        case .null: return path
        case let .number(x): return x.isFinite ? nil : path
        case let .array(items): return items.enumerated().lazy.compactMap { firstNonFinite($1, at: "\(path)[\($0)]") }.first
        case let .object(fields): return fields.lazy.compactMap { firstNonFinite($1, at: "\(path).\($0)") }.first
        default: return nil
        }
    }

    @Test("adar train: a diverging run exits 65 naming the epoch and batch, and writes no record")
    func divergedRunWritesNothing() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = ["train", "--dataset", "synthetic", "--synthetic-users", "50", "--synthetic-items", "100", "--epochs", "3", "--lr", "1e30"]
        let cases: [([String], String)] = [
            (["--eval-every", "1"], "training diverged in epoch 1: "),
            (["--eval-every", "0", "--batch", "256"], "training diverged in epoch 1, batch 2: the batch's mean loss is NaN"),
        ]
        for (extra, message) in cases {
            let result = try ADARExecutable.run(base + extra, in: folder)
            #expect(result.status == 65 && !result.endedBySignal, "\(extra): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains("adar train: error: " + message), "\(result.standardError)")
            #expect(Self.files(in: folder).isEmpty, "\(extra) left \(Self.files(in: folder))")
        }
    }

    @Test("adar train: a finished run's record holds only finite numbers (no null)")
    func recordIsFinite() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for sampler in ["uniform", "adar"] {
            let result = try ADARExecutable.run(["train"] + Self.tinyRun + ["--sampler", sampler, "--eval-every", "1", "--output", "run.json"],
                                                in: folder)
            #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
            let record = try JSONValue.parse(String(contentsOf: folder.appendingPathComponent("run.json"), encoding: .utf8))
            #expect(Self.firstNonFinite(record) == nil, "\(sampler): \(Self.firstNonFinite(record) ?? "")")
            // One entry per epoch trained (no untrained epoch 0), and the best epoch's test metrics.
            #expect(record["run"]?["epochs"]?.arrayValue?.count == 2)
            #expect(record["earlyStopping"]?["test"]?["ndcg@20"] != nil && record["earlyStopping"]?["bestEpoch"] != nil)
        }
        // The check itself finds a NaN rendered as null.
        #expect(Self.firstNonFinite(.object([("loss", .number(.nan))])) == "$.loss")
    }

    @Test("adar train --json: the record on standard output, the progress on standard error, no file")
    func jsonToStandardOutput() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(["train"] + Self.tinyRun + ["--eval-every", "0", "--json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let record = try JSONValue.parse(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(record["command"]?.stringValue == "train")
        #expect(Self.firstNonFinite(record) == nil)
        // --eval-every 0: no epoch-0 evaluation.
        #expect(record["run"]?["epochs"]?.arrayValue?.compactMap { $0["epoch"]?.intValue } == [1, 2])
        #expect(result.standardError.contains("epoch 2/2") && !result.standardError.contains("untrained"))
        // Early stopping: with only the last epoch evaluated, it is the best, and its test metrics are reported.
        #expect(record["earlyStopping"]?["bestEpoch"]?.intValue == 2 && record["earlyStopping"]?["stopReason"]?.stringValue == "maxEpochsReached")
        #expect(result.standardError.contains("best validation epoch 2"))
        #expect(Self.files(in: folder).isEmpty, "\(Self.files(in: folder))")
    }

    @Test("adar train: a bad output path is refused (73) before anything is trained, leaving nothing behind")
    func outputIsCheckedFirst() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Root ignores permissions, so the unwritable places are a path under a regular file and an existing folder.
        try Data("not a folder\n".utf8).write(to: folder.appendingPathComponent("afile"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("adir"), withIntermediateDirectories: false)
        let cases: [([String], String)] = [
            (["train"] + Self.tinyRun + ["--output", "afile/out.json"], "is a file, not a folder"),
            (["train"] + Self.tinyRun + ["--output", "adir"], "is a folder, not a file"),
            (["train"] + Self.tinyRun + ["--output", "afile/deeper/out.json", "--json"], "is a file, not a folder"),
        ]
        for (arguments, message) in cases {
            let result = try ADARExecutable.run(arguments, in: folder)
            #expect(result.status == 73 && !result.endedBySignal, "\(arguments): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(message) && !result.standardError.contains("NSCocoaErrorDomain"),
                    "\(arguments): \(result.standardError)")
            #expect(!result.standardOutput.contains("epoch") && !result.standardError.contains("epoch"), "\(arguments) trained")
            #expect(Self.files(in: folder) == ["afile"], "\(arguments) left \(Self.files(in: folder))")
        }
    }

    /// Whether `chattr +i` works here (root on ext4 and the like): an immutable file cannot be replaced, even by root.
    static let immutableFilesWork: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/chattr"),
              let folder = try? temporaryFolder() else { return false }
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("probe")
        guard (try? Data().write(to: file)) != nil, chattr("+i", file) else { return false }
        defer { _ = chattr("-i", file) }
        return rename(file.path, folder.appendingPathComponent("moved").path) != 0
    }()

    static func chattr(_ flag: String, _ file: URL) -> Bool {
        (try? ProcessResult.run(URL(fileURLWithPath: "/usr/bin/chattr"), [flag, file.path]))?.status == 0
    }

    @Test("adar train/demo: out-of-range and contradictory options are usage errors (64) before any data is loaded")
    func optionRangesAreUsageErrors() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = ["train", "--dataset", "synthetic"], demo = ["demo", "--dataset", "synthetic"]
        let cases: [([String], String)] = [
            (train + ["--synthetic-items", "40"], "--synthetic-items: 40 must be at least 61"),
            (train + ["--synthetic-users", "0"], "--synthetic-users: 0 must be at least 1"),
            (demo + ["--synthetic-items", "60"], "--synthetic-items: 60 must be at least 61"),
            (train + ["--threads", "0"], "--threads: 0 must be between 1 and 256"),
            (train + ["--threads", "100000"], "--threads: 100000 must be between 1 and 256"),
            (demo + ["--threads", "-2"], "--threads: -2 must be between 1 and 256"),
            (train + ["--epochs", "0"], "--epochs: 0 must be at least 1"),
            (train + ["--eval-every", "-1"], "--eval-every: -1 must be ≥ 0"),
            (train + ["--patience", "0"], "--patience: 0 must be at least 1"),
            (train + ["--dim", "0"], "--dim: 0 must be between 1 and 1024"),
            (train + ["--dim", "100000"], "--dim: 100000 must be between 1 and 1024"),
            (train + ["--batch", "0"], "--batch: 0 must be between 1 and 65536"),
            (train + ["--pool", "2000"], "--pool: 2000 must be between 1 and 1024"),
            (train + ["--layers", "-1"], "--layers: -1 must be between 1 and 16"),
            (train + ["--lr", "-1"], "--lr: -1.0 must be finite and > 0"),
            (train + ["--lr", "inf"], "--lr: inf must be finite and > 0"),
            (train + ["--l2", "-0.5"], "--l2: -0.5 must be finite and ≥ 0"),
            (train + ["--init-scale", "0"], "--init-scale: 0.0 must be > 0 (all-zero embeddings get zero gradients"),
            (train + ["--init-scale", "1e200"], "--init-scale: 1e+200 must be > 0"),
            (train + ["--rho", "1"], "--rho: ρ = 1.0 must lie in (0, 1)"),
            (train + ["--sigma", "-1"], "--sigma: σ = -1.0 must be finite and > 0"),
            (train + ["--weight", "-1"], "--weight: w = -1.0 must be finite and ≥ 0"),
            (train + ["--ahns-beta", "nan"], "--ahns-beta: nan must be finite"),
            (demo + ["--samplers", ""], "--samplers is empty"),
            (demo + ["--samplers", "uniform,dns,uniform"], "--samplers: uniform is listed twice"),
            (demo + ["--samplers", "uniform,,adar"], "--samplers: an empty name in \"uniform,,adar\""),
            (demo + ["--samplers", "uniform,bpr"], "--samplers: \"bpr\" is not a row of protocol reduced"),
        ]
        for (arguments, message) in cases {
            let result = try ADARExecutable.run(arguments, in: folder)
            #expect(result.status == 64 && !result.endedBySignal, "\(arguments): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            // Refused while parsing: nothing loaded, printed or written.
            #expect(result.standardOutput.isEmpty, "\(arguments): \(result.standardOutput)")
        }
        #expect(Self.files(in: folder).isEmpty)
    }

    @Test("adar train accepts negative option values as written: --ahns-p -2 --ahns-alpha -0.5")
    func negativeValuesParse() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ADARExecutable.run(["train"] + Self.tinyRun + ["--sampler", "ahns", "--ahns-p", "-2", "--ahns-alpha", "-0.5",
                                                                         "--ahns-beta", "-0.1", "--json"], in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.standardError)")
        let ahns = try JSONValue.parse(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))["run"]?["config"]?["ahns"]
        #expect(ahns?["p"]?.doubleValue == -2 && ahns?["alpha"]?.doubleValue == -0.5 && ahns?["beta"]?.doubleValue == -0.1)
    }
}
