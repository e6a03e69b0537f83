import Foundation
import ADARCore

/// Implicit-feedback data split into training and test interactions.
/// Every observed (user, item) pair is a positive; ids are dense and 0-based.
public struct ImplicitFeedback: Sendable {
    public let name: String
    public let userCount: Int
    public let itemCount: Int
    /// Per user, the training items, ascending and unique.
    public let train: [[Int32]]
    /// Per user, the test items, ascending, unique, disjoint from `train`.
    public let test: [[Int32]]

    public init(name: String, userCount: Int, itemCount: Int, train: [[Int32]], test: [[Int32]]) {
        precondition(train.count == userCount && test.count == userCount)
        self.name = name
        self.userCount = userCount
        self.itemCount = itemCount
        self.train = train
        self.test = test
    }

    public var trainInteractions: Int { train.reduce(0) { $0 + $1.count } }
    public var testInteractions: Int { test.reduce(0) { $0 + $1.count } }

    /// ML-100K protocol: every rating is a positive; per user, a seeded random
    /// 80/20 split — `round(0.8·n)` training items (at least one), the rest test.
    public static func randomSplit(
        name: String, userCount: Int, itemCount: Int, interactions: [(user: Int, item: Int)], seed: UInt64
    ) -> ImplicitFeedback {
        var byUser = [[Int32]](repeating: [], count: userCount)
        for (user, item) in interactions { byUser[user].append(Int32(item)) }
        var train = [[Int32]](), test = [[Int32]]()
        for (user, items) in byUser.enumerated() {
            var unique = Array(Set(items)).sorted()
            // One generator per user, so a user's split does not depend on the others.
            var rng = SeededGenerator(seed: seed ^ (UInt64(user) &* 0x9E37_79B9_7F4A_7C15))
            unique.shuffle(using: &rng)
            let trainCount = unique.isEmpty ? 0 : max(1, Int((0.8 * Double(unique.count)).rounded()))
            train.append(unique[..<trainCount].sorted())
            test.append(unique[trainCount...].sorted())
        }
        return ImplicitFeedback(name: name, userCount: userCount, itemCount: itemCount, train: train, test: test)
    }
}

/// Parses MovieLens rating rows: `user<TAB>item<TAB>rating<TAB>timestamp`.
public enum RatingsParser {
    /// Returns the (user, item) pairs; `idOffset` is subtracted from both ids
    /// (1 for the 1-based u.data). `firstLine` numbers the rows in errors.
    public static func parse(
        _ bytes: [UInt8], file: String, idOffset: Int, firstLine: Int = 1
    ) throws(DataError) -> [(user: Int, item: Int)] {
        var pairs: [(user: Int, item: Int)] = []
        let text = String(decoding: bytes, as: UTF8.self)
        var lineNumber = firstLine - 1
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw .malformedRow(file: file, line: lineNumber, field: "row",
                                    reason: "expected 4 tab-separated fields, found \(fields.count)")
            }
            let user = try id(fields[0], file: file, line: lineNumber, field: "user", offset: idOffset)
            let item = try id(fields[1], file: file, line: lineNumber, field: "item", offset: idOffset)
            guard let rating = Double(fields[2]), rating.isFinite else {
                throw .malformedRow(file: file, line: lineNumber, field: "rating", reason: "\"\(fields[2])\" is not a number")
            }
            guard Int(fields[3]) != nil else {
                throw .malformedRow(file: file, line: lineNumber, field: "timestamp", reason: "\"\(fields[3])\" is not an integer")
            }
            pairs.append((user, item))
        }
        return pairs
    }

    private static func id(_ text: Substring, file: String, line: Int, field: String, offset: Int) throws(DataError) -> Int {
        guard let value = Int(text), value - offset >= 0, value - offset < Int(Int32.max) else {
            throw .malformedRow(file: file, line: line, field: field,
                                reason: "\"\(text)\" is not an id ≥ \(offset)")
        }
        return value - offset
    }
}

extension MovieLens {
    /// Loads the cached data set with this project's protocol: ML-100K split
    /// 80/20 per user with `seed`; ML-1M with its shipped leave-latest-out split.
    public func load(from cache: URL, seed: UInt64 = 2026) throws(DataError) -> ImplicitFeedback {
        for file in files {
            switch source.state(of: file, in: cache) {
            case .verified: continue
            case .missing: throw .notCached(dataset: rawValue, directory: cache.path)
            case let .corrupt(actual):
                throw .corruptCache(dataset: rawValue, path: source.path(of: file, in: cache).path,
                                    expected: file.sha256, actual: actual, reason: nil)
            }
        }
        let folder = directory(in: cache)
        func read(_ name: String) throws(DataError) -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw .io(path: folder.appendingPathComponent(name).path, detail: "cannot read")
            }
            return [UInt8](data)
        }
        switch self {
        case .ml100k:
            let pairs = try RatingsParser.parse(read("u.data"), file: "u.data", idOffset: 1)
            let users = (pairs.map(\.user).max() ?? -1) + 1, items = (pairs.map(\.item).max() ?? -1) + 1
            return .randomSplit(name: rawValue, userCount: users, itemCount: items, interactions: pairs, seed: seed)
        case .ml1m:
            let train = try RatingsParser.parse(read("train.rating"), file: "train.rating", idOffset: 0)
            let test = try RatingsParser.parse(read("test.rating"), file: "test.rating", idOffset: 0)
            let users = max(train.map(\.user).max() ?? -1, test.map(\.user).max() ?? -1) + 1
            let items = max(train.map(\.item).max() ?? -1, test.map(\.item).max() ?? -1) + 1
            var trainLists = [Set<Int32>](repeating: [], count: users), testLists = [Set<Int32>](repeating: [], count: users)
            for (u, i) in train { trainLists[u].insert(Int32(i)) }
            for (u, i) in test where !trainLists[u].contains(Int32(i)) { testLists[u].insert(Int32(i)) }
            return ImplicitFeedback(name: rawValue, userCount: users, itemCount: items,
                                    train: trainLists.map { $0.sorted() }, test: testLists.map { $0.sorted() })
        }
    }
}
