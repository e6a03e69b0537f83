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
            the reduced protocol's rows (uniform, DNS, AHNS, ADAR and MixGCF) each get its budget of configurations from \
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

    @OptionGroup var cell: CellOptions

    @Option(name: .customLong("protocol"), help: "The protocol's name in the grid file.")
    var protocolName = "reduced"

    @Option(help: "The run store (SQLite; created with its folders when missing).")
    var store = "results/demo.sqlite"

    @Option(help: "The folder of the report (Markdown, SVG, summaries).")
    var output = "results/demo"

    var tuneArguments: [String] {
        cell.arguments + ["--protocol", protocolName, "--store", store]
    }

    var reportArguments: [String] {
        ["--store", store, "--dataset", cell.dataset.rawValue, "--model", cell.model.rawValue, "--protocol", protocolName,
         "--output", output, "--print"]
    }

    func validate() throws {
        // The parts' own checks, before anything runs.
        _ = try Self.parse(TuneCommand.self, tuneArguments)
        _ = try Self.parse(ReportCommand.self, reportArguments)
    }

    func run() throws {
        let tune = try Self.parse(TuneCommand.self, tuneArguments)
        // The rows and the report's output are checked before the sweep, so a bad row writes nothing
        // and a long run never ends on an unwritable folder.
        _ = try tune.plan()
        _ = try OutputFile(checking: URL(fileURLWithPath: output).appendingPathComponent("report.md").path, option: "--output")
        try tune.run()
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
