import Foundation
import ArgumentParser
import ADARReport
import ADARStore
import ADARProtocol

/// `adar report`: the final tables, verdicts and plots of docs/PROTOCOL.md rendered from the run
/// store alone (docs/REPORT.md), so that no result table is ever typed by hand.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the final tables, verdicts and plots from the run store (read-only).",
        discussion: """
            Per cell (dataset × model × protocol): a Markdown table with a row per row of the grid file (mean ± std, \
            paired t-tests against uniform and, for ADAR rows, against the best baseline chosen on validation, \
            Holm-adjusted over the table), a verdict line in words per ADAR row, the settings and budgets, the failed \
            runs, and SVG plots (validation curves, test metrics and, for ADAR rows, S9's calibration of the \
            transition point); report.md links them; summary.csv and \
            summary.json list every finished run. Every file is replaced atomically. \
            Exit 66 when the store does not exist, 65 when it holds no final-phase runs to report.
            """
    )

    @Option(help: "The run store (SQLite), opened read-only.")
    var store = "results/runs.sqlite"

    @Option(help: "Report only this dataset (e.g. ml-100k).")
    var dataset: String?

    @Option(help: "Report only this backbone (e.g. mf, lightgcn).")
    var model: String?

    @Option(name: .customLong("protocol"), help: "Report only this protocol of protocol/grids.json (e.g. full, reduced).")
    var evaluationProtocol: String?

    @Option(help: "The folder to write the report into (created if missing).")
    var output: String

    @Flag(help: "Write only the Markdown files: no SVG plots, no summary.csv/summary.json.")
    var markdownOnly = false

    @Flag(help: "Print what was written as JSON on standard output instead of lines of text.")
    var json = false

    @Flag(name: .customLong("print"), help: "Also print each cell's table, verdicts and settings (Markdown) on standard output.")
    var printTables = false

    @Option(help: "Also regenerate this Markdown file's section between `<!-- adar report: begin -->` and `<!-- adar report: end -->`.")
    var readme: String?

    func validate() throws {
        for (option, value) in [("--store", store), ("--output", output), ("--dataset", dataset ?? "-"),
                                ("--model", model ?? "-"), ("--protocol", evaluationProtocol ?? "-"), ("--readme", readme ?? "-")]
            where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("\(option) is empty; give a value or leave the option out")
        }
    }

    /// The command line that regenerates these files, as printed at the top of each.
    var regeneratingCommand: String {
        var words = ["adar", "report", "--store", store]
        if let dataset { words += ["--dataset", dataset] }
        if let model { words += ["--model", model] }
        if let evaluationProtocol { words += ["--protocol", evaluationProtocol] }
        words += ["--output", output]
        if markdownOnly { words.append("--markdown-only") }
        if let readme { words += ["--readme", readme] }
        return words.map(Self.quoted).joined(separator: " ")
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: store) else {
            throw CLIError(.noInput, "\(store): no such run store; run `adar tune` first, or give its path with --store")
        }
        let runStore: RunStore
        do {
            runStore = try RunStore(path: store, access: .readOnly)
        } catch {
            throw Self.classify(.store(error))
        }
        let report: Report
        do {
            report = try Report(
                store: runStore, filter: .init(dataset: dataset, backbone: model, protocol: evaluationProtocol),
                commandLine: regeneratingCommand)
        } catch {
            throw Self.classify(error)
        }

        // Everything is computed before anything is written; marker errors leave every file as it was.
        let folder = URL(fileURLWithPath: output)
        var readmeText: String?
        if let readme {
            let text: String
            do {
                text = try String(contentsOfFile: readme, encoding: .utf8)
            } catch let error as CocoaError {
                throw CLIError.fileError(error)
            }
            let prefix = Self.relativePath(from: URL(fileURLWithPath: readme).deletingLastPathComponent(), to: folder)
            let replaced: String
            do {
                replaced = try MarkedSection.replace(in: text, with: report.readmeSection(linkPrefix: prefix), path: readme)
            } catch {
                throw Self.classify(error)
            }
            readmeText = replaced
        }
        var outputs: [(file: OutputFile, contents: Data)] = []
        for file in report.files(markdownOnly: markdownOnly) {
            let path = folder.appendingPathComponent(file.name).path
            outputs.append((try OutputFile(checking: path, option: "--output"), Data(file.contents.utf8)))
        }
        if !markdownOnly {
            for (name, format) in [(Report.summaryNames.csv, SummaryFormat.csv), (Report.summaryNames.json, .json)] {
                let path = folder.appendingPathComponent(name).path
                outputs.append((try OutputFile(checking: path, option: "--output"), try Self.summary(of: runStore, format: format)))
            }
        }
        if let readme, let readmeText {
            outputs.append((try OutputFile(checking: readme, option: "--readme"), Data(readmeText.utf8)))
        }
        try OutputFile.write(outputs)
        let written = outputs.map(\.file.path)
        if json {
            let cells: [JSONValue] = report.cells.map { cell in
                .object([
                    ("dataset", .string(cell.cell.dataset)), ("model", .string(cell.cell.backbone)),
                    ("protocol", .string(cell.cell.protocol)),
                    ("bestBaseline", cell.bestBaseline.map { .string($0.sampler) } ?? .null),
                    ("comparisons", .integer(cell.comparisons.count)), ("failedRuns", .integer(cell.failedRuns.count)),
                ])
            }
            print(JSONValue.object([("cells", .array(cells)), ("files", .array(written.map(JSONValue.string)))]).rendered)
        } else {
            if printTables {
                for cell in report.cells { print(CellMarkdown.render(cell, plots: nil, headingLevel: 2)) }
            }
            for cell in report.cells {
                print("\(cell.cell): \(cell.rows.count) samplers, m = \(cell.comparisons.count) comparisons, "
                    + "best baseline \(cell.bestBaseline?.sampler ?? "none"), "
                    + "\(cell.failedRuns.count) failed run\(cell.failedRuns.count == 1 ? "" : "s")")
            }
            print("wrote \(written.count) files: \(written.joined(separator: ", "))")
        }
    }

    /// `RunStore.exportSummary`'s bytes, exported to a scratch folder, so that they join the set of
    /// files written together (either every file is replaced or none).
    static func summary(of store: RunStore, format: SummaryFormat) throws(CLIError) -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("adar-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let url = scratch.appendingPathComponent("summary.\(format.rawValue)")
        do {
            try store.exportSummary(to: url, format: format)
            return try Data(contentsOf: url)
        } catch let error as RunStoreError {
            throw CLIError(.cannotCreate, error.description)
        } catch {
            throw CLIError(.ioError, "\(url.path): cannot read the exported summary back: \(error.localizedDescription)")
        }
    }

    /// Exit statuses: a missing store 66; a file that is not a usable store, or a store without final runs, 65.
    static func classify(_ error: ReportError) -> CLIError {
        switch error {
        case let .store(storeError):
            switch storeError {
            case .cannotOpen, .schemaMismatch: return CLIError(.dataError, storeError.description)
            default: return CLIError(.ioError, storeError.description)
            }
        default:
            return CLIError(.dataError, error.description)
        }
    }

    /// The path of `target` as seen from `base` (both folders), ending in "/" unless empty.
    static func relativePath(from base: URL, to target: URL) -> String {
        let from = base.standardizedFileURL.pathComponents, to = target.standardizedFileURL.pathComponents
        var common = 0
        while common < from.count, common < to.count, from[common] == to[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...]
        return parts.isEmpty ? "" : parts.joined(separator: "/") + "/"
    }

    static func quoted(_ word: String) -> String {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=@:+,")
        return !word.isEmpty && word.allSatisfy(plain.contains) ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
