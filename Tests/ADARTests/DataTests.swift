import Foundation
import Testing
import ADARCore
import ADARData

@Suite("Data: hashing, fetching, parsing, splitting")
struct DataTests {
    // MARK: SHA-256

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256KnownAnswers() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("SHA-256 agrees with sha256sum on random lengths, and split updates agree with one")
    func sha256AgreesWithCoreutils() throws {
        var rng = SeededGenerator(seed: 11)
        for length in [1, 55, 56, 63, 64, 65, 127, 128, 1000, 4097] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(length)-\(UUID().uuidString)")
            try Data(bytes).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["sha256sum", url.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(SHA256.hex(bytes) == String(output.prefix(64)), "length \(length)")
            var split = SHA256()
            let cut = length / 3
            split.update(Array(bytes[..<cut]))
            split.update(Array(bytes[cut...]))
            #expect(split.finalizeHex() == SHA256.hex(bytes), "length \(length) split at \(cut)")
        }
    }

    // MARK: Fetching

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("adar-data-\(UUID().uuidString)", isDirectory: true)
    }

    @Test("a hash mismatch is refused and nothing is cached")
    func hashMismatchCachesNothing() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = MovieLens.ml100k.files[0]
        let rows = Array("1\t2\t3\t4\n".utf8)
        #expect(throws: DataError.hashMismatch(file: file.member, expected: file.sha256, actual: SHA256.hex(rows))) {
            try DataFetcher(cache: folder).cacheVerified(rows, as: file, in: folder)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(file.cachedName).path))
        #expect(!MovieLens.ml100k.isCached(in: folder))
    }

    @Test("matching rows are cached under their name")
    func matchingRowsAreCached() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows = Array("1\t2\t3\t4\n".utf8)
        let file = MovieLens.File(member: "m", cachedName: "rows", headerLines: 0, sha256: SHA256.hex(rows))
        try DataFetcher(cache: folder).cacheVerified(rows, as: file, in: folder)
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("rows").path) == Data(rows))
    }

    @Test("no python on PATH is a clear error")
    func missingPython() {
        let fetcher = DataFetcher(cache: Self.temporaryFolder(), pipEnvironment: ["PATH": "/nonexistent"])
        #expect(throws: DataError.toolMissing(tool: "python3", hint: "install it with `apt-get install python3 python3-pip`")) {
            try fetcher.fetch(.ml100k)
        }
    }

    @Test("pip that cannot reach its index reports a download failure, caching nothing")
    func offlineDownload() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fetcher = DataFetcher(cache: folder, pipEnvironment: [
            "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
            "PIP_NO_CACHE_DIR": "1", "PIP_FIND_LINKS": "",
        ])
        let error = #expect(throws: DataError.self) { try fetcher.fetch(.ml100k) }
        if case let .downloadFailed(package, _)? = error {
            #expect(package == "recbole==1.2.1")
            #expect(error?.description.contains("offline") == true)
        } else {
            Issue.record("expected downloadFailed, got \(String(describing: error))")
        }
        #expect(!MovieLens.ml100k.isCached(in: folder))
    }

    // MARK: Parsing

    @Test("malformed rows name the file, line and field")
    func malformedRows() {
        let cases: [(String, DataError)] = [
            ("1\t2\t3\t4\n5\t6\t7\n", .malformedRow(file: "f", line: 3, field: "row", reason: "expected 4 tab-separated fields, found 3")),
            ("x\t2\t3\t4\n", .malformedRow(file: "f", line: 2, field: "user", reason: "\"x\" is not an id ≥ 1")),
            ("1\t0\t3\t4\n", .malformedRow(file: "f", line: 2, field: "item", reason: "\"0\" is not an id ≥ 1")),
            ("1\t2\tfive\t4\n", .malformedRow(file: "f", line: 2, field: "rating", reason: "\"five\" is not a number")),
            ("1\t2\t3\t4.5\n", .malformedRow(file: "f", line: 2, field: "timestamp", reason: "\"4.5\" is not an integer")),
        ]
        for (text, expected) in cases {
            #expect(throws: expected) { try RatingsParser.parse(Array(text.utf8), file: "f", idOffset: 1, firstLine: 2) }
        }
    }

    @Test("well-formed rows parse with the id offset applied")
    func parseRows() throws {
        let pairs = try RatingsParser.parse(Array("196\t242\t3\t881250949\n186\t302\t3\t891717742\n".utf8), file: "f", idOffset: 1)
        #expect(pairs.map(\.user) == [195, 185] && pairs.map(\.item) == [241, 301])
    }

    // MARK: Splitting and synthetic data

    @Test("the synthetic data's 80/10/10 split is per user, disjoint, sized by the rule and reproducible")
    func split() throws {
        let data = try ImplicitFeedback.synthetic(users: 50, items: 200, interactionsPerUser: 15, seed: 3)
        let again = try ImplicitFeedback.synthetic(users: 50, items: 200, interactionsPerUser: 15, seed: 3)
        #expect(data.train == again.train && data.validation == again.validation && data.test == again.test)
        try data.validateSplits()
        #expect(SplitTests.usersBreakingRoundingRule(data) == [])
        let other = try ImplicitFeedback.synthetic(users: 50, items: 200, interactionsPerUser: 15, seed: 4)
        #expect(other.train != data.train)
    }

    @Test("synthetic popularity follows the power law: popular items are drawn more")
    func syntheticPopularity() throws {
        let data = try ImplicitFeedback.synthetic(users: 400, items: 300, interactionsPerUser: 20, seed: 9)
        var counts = [Int](repeating: 0, count: data.itemCount)
        for user in 0..<data.userCount {
            for item in data.train[user] + data.validation[user] + data.test[user] { counts[Int(item)] += 1 }
        }
        let head = counts[..<30].reduce(0, +), tail = counts[270...].reduce(0, +)
        #expect(head > 3 * tail, "head \(head), tail \(tail)")
    }

    // MARK: Metrics

    /// Recall@K and NDCG@K by a full sort of every non-training item.
    static func bruteForce(_ data: ImplicitFeedback, scores: [[Float]], k: Int) -> (recall: Double, ndcg: Double) {
        var recall = 0.0, ndcg = 0.0, users = 0
        for user in 0..<data.userCount where !data.test[user].isEmpty {
            let train = Set(data.train[user]), test = Set(data.test[user])
            let ranked = (0..<data.itemCount).filter { !train.contains(Int32($0)) }
                .sorted { scores[user][$0] > scores[user][$1] || (scores[user][$0] == scores[user][$1] && $0 < $1) }
            let top = ranked.prefix(k)
            let hits = top.enumerated().filter { test.contains(Int32($0.element)) }
            recall += Double(hits.count) / Double(test.count)
            let dcg = hits.reduce(0.0) { $0 + 1 / log2(Double($1.offset + 2)) }
            let ideal = (0..<min(k, test.count)).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
            ndcg += dcg / ideal
            users += 1
        }
        return (recall / Double(users), ndcg / Double(users))
    }

    @Test("Recall@K and NDCG@K equal a brute-force full sort")
    func metricsMatchBruteForce() throws {
        let data = try ImplicitFeedback.synthetic(users: 60, items: 120, interactionsPerUser: 12, seed: 5)
        var rng = SeededGenerator(seed: 6)
        // Distinct scores (ties have their own tests, TrainingRobustnessTests).
        let scores = (0..<data.userCount).map { _ in (0..<data.itemCount).map { _ in Float(rng.normal()) } }
        let metrics = RankingMetrics.evaluate(data, cutoffs: [10, 20]) { user, out in
            for item in 0..<out.count { out[item] = scores[user][item] }
        }
        for k in [10, 20] {
            let expected = Self.bruteForce(data, scores: scores, k: k)
            #expect(abs(metrics.recall(at: k) - expected.recall) < 1e-12, "Recall@\(k)")
            #expect(abs(metrics.ndcg(at: k) - expected.ndcg) < 1e-12, "NDCG@\(k)")
        }
    }

    @Test("an oracle ranking scores 1 and the brute force rejects a metric that forgets to exclude training items")
    func metricsCanFail() throws {
        let data = try ImplicitFeedback.synthetic(users: 40, items: 100, interactionsPerUser: 10, seed: 8)
        // Test items first, then training items: perfect once training items are excluded.
        let scores = (0..<data.userCount).map { user in
            (0..<data.itemCount).map { item -> Float in
                data.test[user].contains(Int32(item)) ? 2 : data.train[user].contains(Int32(item)) ? 3 : 0
            }
        }
        let metrics = RankingMetrics.evaluate(data, cutoffs: [20]) { user, out in
            for item in 0..<out.count { out[item] = scores[user][item] }
        }
        #expect(abs(metrics.ndcg(at: 20) - 1) < 1e-12)
        // Without exclusion the training items (score 3) would take the top ranks.
        let unexcluded = ImplicitFeedback(name: "x", userCount: data.userCount, itemCount: data.itemCount,
                                          train: [[Int32]](repeating: [], count: data.userCount), test: data.test)
        #expect(Self.bruteForce(unexcluded, scores: scores, k: 20).ndcg < 0.9)
    }
}
