import Foundation
import ADARData

/// A peer measured in this invocation by a Python script under Bench/ (numpy, pytorch) that prints one JSON
/// line: `{"seconds": …}` when it measured, `{"skipped": "<why>"}` when it cannot run here (no torch).
enum PeerOutcome {
    case measured([String: Any])
    case skipped(String)
    case failed(String)

    /// The line the bench prints instead of a peer's numbers; nil when it measured.
    func notice(_ peer: String) -> String? {
        switch self {
        case .measured: nil
        case let .skipped(reason): "\(peer): skipped — \(reason)"
        case let .failed(reason): "\(peer): failed — \(reason)"
        }
    }

    /// The medians the PyTorch peers report per thread count (`{"seconds": {"1": […], "2": […]}}`).
    var timingsByThreads: [Int: Timing] {
        guard case let .measured(json) = self, let seconds = json["seconds"] as? [String: [Double]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: seconds.compactMap { key, values in
            Int(key).flatMap { values.isEmpty ? nil : ($0, Timing(seconds: values)) }
        })
    }
}

/// Runs `python3 Bench/<script> <arguments>` and reads its JSON line.
///
/// OMP_WAIT_POLICY is PASSIVE unless the caller set it: PyTorch's OpenMP threads otherwise spin while
/// they wait, and on a shared machine that made a 2-thread epoch about 10× slower than a 1-thread one
/// (18 s against 1.7 s), which would flatter the Swift side.
func runPeer(_ script: String, _ arguments: [String]) -> PeerOutcome {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(script).path
    var environment = ProcessInfo.processInfo.environment
    environment["OMP_WAIT_POLICY"] = environment["OMP_WAIT_POLICY"] ?? "PASSIVE"
    let run: ProcessOutput
    do {
        run = try runToCompletion("/usr/bin/env", ["python3", path] + arguments, environment: environment)
    } catch {
        return .failed("cannot run python3 \(path): \(error.localizedDescription)")
    }
    guard run.status == 0 else {
        let lastError = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
        return .failed("python3 \(script) exited with status \(run.status): \(lastError)")
    }
    guard let json = try? JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any] else {
        return .failed("python3 \(script) printed no JSON line")
    }
    if let reason = json["skipped"] as? String { return .skipped(reason) }
    return .measured(json)
}

/// A fresh temporary folder for the files a peer reads; removed by the caller.
func peerFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Writes `values` in native byte order (the peers read them with torch.frombuffer / numpy.fromfile).
func writeRaw<T>(_ values: [T], to url: URL) throws {
    try values.withUnsafeBytes { try Data($0).write(to: url) }
}
