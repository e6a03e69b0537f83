import Foundation

/// The `adar` executable built with this test bundle, run as a user would run it.
/// Every end-to-end test of the command line goes through `ADARExecutable.run`.
enum ADARExecutable {
    /// The repository's root (the folder of Package.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `adar` built with this test bundle: in the bundle's directory
    /// (`.build/<configuration>/`), or beside it on platforms that nest the bundle.
    static func url() throws -> URL {
        var folders = Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent() }
        folders.append(Bundle.main.bundleURL)
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for folder in folders {
            let candidate = folder.appendingPathComponent("adar")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ProcessRunError("no built adar next to the test bundle (looked in \(folders.map(\.path))); run `swift build` first")
    }

    /// Runs `adar arguments…` to completion in `directory` (a fresh temporary folder by default).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil
    ) throws -> ProcessResult {
        try ProcessResult.run(try url(), arguments, environment: environment, in: directory)
    }
}

/// What a finished subprocess printed, and how it ended.
struct ProcessResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
    /// Whether it ended by a signal (a trap or an abort), rather than by exit().
    var endedBySignal: Bool

    /// Runs a program to completion; `environment` is added to this process's.
    /// Output goes to files, not pipes: a full pipe buffer could block the child.
    static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
        standardInput: Data? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment
            .filter { $0.key != "ADAR_PORT_BUG" && $0.key != "ADAR_PORT_PRECISION" }
            .merging(environment) { $1 }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        if let directory { process.currentDirectoryURL = directory }
        let out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
        let input = folder.appendingPathComponent("stdin")
        for file in [out, err] {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw ProcessRunError("could not create \(file.path)")
            }
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let standardInput {
            try standardInput.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus,
            standardOutput: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
            endedBySignal: process.terminationReason == .uncaughtSignal)
    }
}

struct ProcessRunError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
