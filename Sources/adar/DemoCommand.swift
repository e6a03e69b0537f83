import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARTraining

/// The main job: the evaluation protocol's reduced form on one cell, end to end — exactly
/// `adar tune --protocol reduced …` followed by `adar report … --print`.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job: the REDUCED evaluation protocol on ML-100K with MF (tune every sampler with the same small budget on validation, retrain the chosen configurations over every model seed × split seed, test once at the best validation epoch), then the table.",
        discussion: """
            Runs `adar tune --protocol reduced` and then `adar report --print` on one cell (ML-100K × MF by default): \
            uniform, DNS, AHNS, ADAR and MixGCF each get the reduced protocol's budget of configurations from \
            protocol/grids.json, chosen on validation NDCG@20 with early stopping; the chosen ones are retrained for \
            every model seed × split seed, and each is tested once, at its best validation epoch. The table reports \
            mean ± std, paired t-tests against uniform and against the best baseline (chosen on validation), \
            Holm-adjusted across the table. REDUCED means a small budget and short runs: a smoke test of the \
            protocol, not evidence for or against any sampler — `adar tune --protocol full` is.

            The runs go to the store (--store); running the demo again skips finished runs and redoes a \
            half-finished one (delete the store for a fresh start). The report (Markdown tables, SVG plots, \
            summary.csv/json) goes to --output. Build in release (`make demo` does).
            """
    )

    @Option(help: "Data: ml-100k, ml-1m, synthetic.")
    var dataset: DatasetName = .ml100k

    @Option(help: "Backbone: mf, lightgcn.")
    var model: Backbone = .mf

    @Option(name: .customLong("protocol"), help: "The protocol's name in the grid file.")
    var protocolName = "reduced"

    @Option(help: "The grid file declaring the protocols (default: the checkout's protocol/grids.json).")
    var grids: String?

    @Option(help: "Comma-separated samplers, each once.")
    var samplers = SamplerKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "The run store (SQLite; created with its folders when missing).")
    var store = "results/demo.sqlite"

    @Option(help: "The folder of the report (Markdown, SVG, summaries).")
    var output = "results/demo"

    @Option(parsing: .unconditional, help: "Threads, 1…256 (results do not depend on it).")
    var threads = min(ProcessInfo.processInfo.activeProcessorCount, RunOptions.threadRange.upperBound)

    @Option(help: "Cache folder of the MovieLens data (fetched there when missing).")
    var cache: String = DataFetcher.defaultCache.path

    @Option(parsing: .unconditional, help: "synthetic: users.")
    var syntheticUsers = 500

    @Option(parsing: .unconditional, help: "synthetic: items (more than 60).")
    var syntheticItems = 1000

    var tuneArguments: [String] {
        ["--dataset", dataset.rawValue, "--model", model.rawValue, "--protocol", protocolName]
            + (grids.map { ["--grids", $0] } ?? []) + ["--samplers", samplers, "--store", store, "--threads", String(threads), "--cache", cache,
         "--synthetic-users", String(syntheticUsers), "--synthetic-items", String(syntheticItems)]
    }

    var reportArguments: [String] {
        ["--store", store, "--dataset", dataset.rawValue, "--model", model.rawValue, "--protocol", protocolName,
         "--output", output, "--print"]
    }

    func validate() throws {
        // The parts' own checks, before anything runs.
        _ = try Self.parse(TuneCommand.self, tuneArguments)
        _ = try Self.parse(ReportCommand.self, reportArguments)
    }

    func run() throws {
        // The report's output is checked before the sweep, so a long run never ends on an unwritable folder.
        _ = try OutputFile(checking: URL(fileURLWithPath: output).appendingPathComponent("report.md").path, option: "--output")
        try Self.parse(TuneCommand.self, tuneArguments).run()
        print("")
        try Self.parse(ReportCommand.self, reportArguments).run()
    }

    /// One part's command line, parsed; its refusals are the demo's own (in the demo's words).
    private static func parse<Part: ParsableCommand>(_ part: Part.Type, _ arguments: [String]) throws -> Part {
        do {
            return try Part.parse(arguments)
        } catch {
            throw ValidationError(Part.message(for: error))
        }
    }
}
