import Foundation
import ADARCore

/// The formats of `RunStore.exportSummary` (docs/STORE.md, "Export").
public enum SummaryFormat: String, Sendable, CaseIterable {
    /// One header line, then one line per finished run; metric columns are
    /// `validation.<name>`, `test.<name>` and `summary.<name>` over every run's names.
    case csv
    /// An array with one object per finished run, one run per line.
    case json
}

extension RunStore {
    /// Writes one row per finished run (spec, best epoch, metrics, timing), in spec
    /// order, to `url`, replaced atomically (`AtomicFile`).
    public func exportSummary(to url: URL, format: SummaryFormat) throws(RunStoreError) {
        let runs = try finishedRuns()
        let text = switch format {
        case .csv: SummaryExport.csv(runs)
        case .json: SummaryExport.json(runs)
        }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw .exportFailed(path: url.path, reason: error.localizedDescription)
        }
        do {
            try AtomicFile.replace(url, with: Data(text.utf8))
        } catch {
            throw .exportFailed(path: url.path, reason: error.reason)
        }
    }
}

enum SummaryExport {
    static let specColumns = [
        "phase", "dataset", "backbone", "sampler", "protocol", "configuration", "splitSeed", "modelSeed",
        "bestEpoch", "seconds", "codeVersion", "startedAt", "finishedAt",
    ]

    static func csv(_ runs: [FinishedRun]) -> String {
        let names = { (values: (FinishedRun) -> [String: Double]) in Set(runs.flatMap { values($0).keys }).sorted() }
        let groups: [(prefix: String, names: [String], values: (FinishedRun) -> [String: Double])] = [
            ("validation.", names(\.bestValidationMetrics), \.bestValidationMetrics),
            ("test.", names(\.testMetrics), \.testMetrics),
            ("summary.", names(\.summary), \.summary),
        ]
        let header = specColumns + groups.flatMap { group in group.names.map { group.prefix + $0 } }
        var lines = [header.map(field).joined(separator: ",")]
        for run in runs {
            let spec = [
                run.spec.phase.rawValue, run.spec.dataset, run.spec.backbone, run.spec.sampler, run.spec.protocol,
                run.spec.configuration.canonicalText, String(run.spec.splitSeed), String(run.spec.modelSeed),
                String(run.bestEpoch), CanonicalJSON.number(run.seconds), run.codeVersion,
                timestamp(run.startedAt), timestamp(run.finishedAt),
            ]
            // A metric a run does not have is an empty field.
            let metrics = groups.flatMap { group in
                group.names.map { name in group.values(run)[name].map(CanonicalJSON.number) ?? "" }
            }
            lines.append((spec + metrics).map(field).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ runs: [FinishedRun]) -> String {
        let objects = runs.map { run in
            object([
                ("phase", CanonicalJSON.string(run.spec.phase.rawValue)),
                ("dataset", CanonicalJSON.string(run.spec.dataset)),
                ("backbone", CanonicalJSON.string(run.spec.backbone)),
                ("sampler", CanonicalJSON.string(run.spec.sampler)),
                ("protocol", CanonicalJSON.string(run.spec.protocol)),
                ("configuration", run.spec.configuration.canonicalText),
                // Strings: a UInt64 seed may exceed what a JSON reader's doubles hold exactly.
                ("splitSeed", CanonicalJSON.string(String(run.spec.splitSeed))),
                ("modelSeed", CanonicalJSON.string(String(run.spec.modelSeed))),
                ("bestEpoch", String(run.bestEpoch)),
                ("seconds", CanonicalJSON.number(run.seconds)),
                ("codeVersion", CanonicalJSON.string(run.codeVersion)),
                ("startedAt", CanonicalJSON.string(timestamp(run.startedAt))),
                ("finishedAt", CanonicalJSON.string(timestamp(run.finishedAt))),
                ("validationMetrics", numbers(run.bestValidationMetrics)),
                ("testMetrics", numbers(run.testMetrics)),
                ("summary", numbers(run.summary)),
            ])
        }
        return runs.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { CanonicalJSON.string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    private static func numbers(_ values: [String: Double]) -> String {
        object(CanonicalJSON.sortedKeys(values).map { ($0, CanonicalJSON.number(values[$0]!)) })
    }

    /// UTC, milliseconds (what the store keeps).
    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
