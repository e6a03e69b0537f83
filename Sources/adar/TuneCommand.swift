import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARTraining
import ADAREvaluation
import ADARStore
import ADARExperiment

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Run the evaluation protocol for one cell (data set × backbone): tune every row of the table with the same budget, choose on validation, then the final runs; every run is recorded in the run store.",
        discussion: """
            The protocol (docs/PROTOCOL.md) is declared in the grid file (--grids, kept
            under version control) and chosen with --protocol (full; reduced is a quick
            smoke test, not evidence). A protocol's rows are the rows of the final
            table: a name, a base sampler (uniform, dns, ahns, adar, mixgcf), fixed
            settings and a grid (e.g. adar-forward: adar with fallback skip, detach);
            --samplers picks rows by name (default: every row of the protocol).
            tune:   each row is trained with min(N, grid size) configurations of
                    its grid (N = the protocol's budget, the same for every row),
                    on the first split seed with the first model seed, each
                    early-stopped on validation NDCG@20. The test split is never read.
            select: each row keeps the configuration with the best validation
                    NDCG@20 (ties: grid order).
            final:  each chosen configuration is trained for every model seed × split
                    seed, early-stopped on validation; the parameters of its best
                    validation epoch are evaluated once on the test split. ML-1M has a
                    fixed time split: it varies the model seed only (split seed 0).
            Settings no grid tunes (d, batch, initial scale, LightGCN layers, the
            default pool, ADAR's policy and schedule) are the protocol's `fixed` block.
            --model sasrec runs a sequential protocol ("model": "sasrec" in the grid
            file, e.g. full-sequential): SASRec on the leave-one-out sequences (a fixed
            split: model seeds only; L = 50 for ml-100k, 200 for ml-1m), rows of
            uniform, dns or adar, early-stopped and chosen on validation NDCG@10.
            Every evaluation and result goes to the SQLite store (--store). Stopped at
            any moment, the same command resumes: finished runs are skipped, a
            half-finished run is redone from nothing. A diverged run is recorded as
            failed and the sweep goes on. Progress goes to standard error, the chosen
            configurations to standard output; `adar report` tabulates the store.
            Build in release (`swift run -c release adar tune …`): debug is ~20× slower.

            """
    )

    enum Phase: String, CaseIterable, ExpressibleByArgument {
        case tune, final, all
    }

    @OptionGroup var cell: CellOptions

    @Option(name: .customLong("protocol"), help: "The protocol's name in the grid file: full, full-fixed-split (ML-1M), limited-fixed-split (ML-1M, for cost), reduced; with --model sasrec full-sequential, limited-sequential (ML-1M, for cost; smoke-sequential: tests).")
    var protocolName = "full"

    @Option(help: "The run store (SQLite; created with its folders when missing).")
    var store = "results/runs.sqlite"

    @Option(help: "tune: tuning runs only; final: final runs of the configurations the store's tuning runs chose; all: both.")
    var phase: Phase = .all

    func validate() throws {
        for (option, value) in [("--store", store), ("--protocol", protocolName)] where value.isEmpty {
            throw ValidationError("\(option) is empty")
        }
    }

    /// The grid file, its protocol and the rows to run: every refusal of the options that needs the
    /// grid file, before anything is opened or written.
    func plan() throws -> (grids: String, evaluationProtocol: EvaluationProtocol, rows: [TuningRow]) {
        let grids = try cell.gridFile()
        let file = try GridFile.load(contentsOf: URL(fileURLWithPath: grids))
        guard let evaluationProtocol = file.protocols.first(where: { $0.name == protocolName }) else {
            throw CLIError(.usage, "--protocol: \(grids) has no protocol \"\(protocolName)\" (it has: \(file.protocols.map(\.name).joined(separator: ", ")))")
        }
        let backbones = evaluationProtocol.models.backbones
        guard backbones.contains(cell.model.rawValue) else {
            let others = file.protocols.filter { $0.models.backbones.contains(cell.model.rawValue) }.map(\.name)
            throw CLIError(.usage, "--protocol \(protocolName) trains \(backbones.joined(separator: ", ")), not --model \(cell.model.rawValue); "
                + "the protocols of \(grids) for \(cell.model.rawValue): \(others.isEmpty ? "none" : others.joined(separator: ", "))")
        }
        return (grids, evaluationProtocol, try RowList.resolve(cell.samplers, in: evaluationProtocol, grids: grids))
    }

    func run() throws {
        let (grids, evaluationProtocol, rows) = try plan()
        let runStore = try RunStore(path: store)
        let log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let sweep = ProtocolSweep(
            store: runStore, evaluationProtocol: evaluationProtocol, dataset: cell.dataset.rawValue, model: cell.sweepModel(), rows: rows,
            threads: cell.threads, codeVersion: "adar \(ADARVersion.number) (\(buildConfiguration))", log: log)
        let (dataset, model) = (cell.dataset, cell.model)
        try sweep.checkPlans()
        if buildConfiguration == "debug" {
            log("note: this is a debug build; `swift run -c release adar tune …` is about 20× faster")
        }
        log("protocol \(evaluationProtocol.name) of \(grids): \(evaluationProtocol.description)")
        log("cell \(dataset.rawValue) × \(model.rawValue); store \(store); phase \(phase.rawValue)")
        if phase != .final { try sweep.tune() }
        let chosen = try sweep.select()
        print("chosen on validation \(sweep.selectionMetric.uppercased()) (protocol \(evaluationProtocol.name), \(dataset.rawValue) × \(model.rawValue), "
            + "split seed \(sweep.tuningSplitSeed), model seed \(sweep.tuningModelSeed)):")
        let width = max(8, rows.map(\.name.count).max() ?? 0)
        for (row, selected) in chosen {
            let plan = evaluationProtocol.tuningPlan(for: row)
            print(String(format: "  %@ %.4f  %@  (%d of a %d-point grid)", row.name.padding(toLength: width, withPad: " ", startingAt: 0), selected.bestValidation,
                         selected.configuration.canonicalText, plan.budgetUsed, plan.gridSize))
        }
        print("fixed settings: \(evaluationProtocol.fixed.canonicalText)")
        if phase != .tune {
            try sweep.runFinal(chosen)
            let finished = try runStore.finishedRuns(phase: .final, dataset: dataset.rawValue, backbone: model.rawValue,
                                                     protocol: evaluationProtocol.name)
            let failed = try runStore.failedRuns(phase: .final, dataset: dataset.rawValue, backbone: model.rawValue,
                                                 protocol: evaluationProtocol.name)
            print("final runs in \(store): \(finished.count) finished, \(failed.count) failed; `adar report` tabulates them")
        }
        fflush(nil)
    }
}

/// The cell a sweep runs (`adar tune`, `adar demo`) and how.
struct CellOptions: ParsableArguments {
    @Option(help: "Data: ml-100k, ml-1m, synthetic.")
    var dataset: DatasetName = .ml100k

    @Option(help: "Backbone: mf, lightgcn, or sasrec (with a sequential protocol of the grid file).")
    var model: ModelName = .mf

    @Option(help: "The grid file declaring the protocols (default: the checkout's protocol/grids.json).")
    var grids: String?

    @Option(help: "Comma-separated rows of the protocol (e.g. uniform,dns,adar-forward), each once; default: every row.")
    var samplers: String?

    @Option(parsing: .unconditional, help: "Threads, 1…256 (results do not depend on it).")
    var threads = min(ProcessInfo.processInfo.activeProcessorCount, RunOptions.threadRange.upperBound)

    @Option(help: "Cache folder of the MovieLens data (fetched there when missing).")
    var cache: String = DataFetcher.defaultCache.path

    @Option(parsing: .unconditional, help: "synthetic: users.")
    var syntheticUsers = 500

    @Option(parsing: .unconditional, help: "synthetic: items (more than 60).")
    var syntheticItems = 1000

    func validate() throws {
        guard RunOptions.threadRange.contains(threads) else {
            throw ValidationError("--threads: \(threads) must be between \(RunOptions.threadRange.lowerBound) and \(RunOptions.threadRange.upperBound)")
        }
        if let samplers { _ = try RowList.parse(samplers, option: "--samplers") }
        if grids?.isEmpty == true { throw ValidationError("--grids is empty") }
        if dataset == .synthetic, model == .sasrec {
            let length = SASRecOptions.syntheticSequenceLength
            guard syntheticUsers >= 1 else { throw ValidationError("--synthetic-users: \(syntheticUsers) must be at least 1") }
            guard syntheticItems >= 3 * length else {
                throw ValidationError("--synthetic-items: \(syntheticItems) must be at least \(3 * length) for SASRec's synthetic walks of \(length) items")
            }
        } else if dataset == .synthetic {
            do {
                try ImplicitFeedback.checkSyntheticShape(users: syntheticUsers, items: syntheticItems,
                                                         interactionsPerUser: DataOptions.syntheticInteractionsPerUser)
            } catch {
                throw ValidationError("--synthetic-\(error.parameter): \(error.reason)")
            }
        }
    }

    /// The same options as command-line words, to hand on to `adar tune`.
    var arguments: [String] {
        ["--dataset", dataset.rawValue, "--model", model.rawValue] + (grids.map { ["--grids", $0] } ?? [])
            + (samplers.map { ["--samplers", $0] } ?? [])
            + ["--threads", String(threads), "--cache", cache,
               "--synthetic-users", String(syntheticUsers), "--synthetic-items", String(syntheticItems)]
    }

    /// What the sweep trains: SASRec on the data set's leave-one-out sequences (L by the data set, a fixed
    /// split: split seed 0, which also seeds the synthetic walks), or MF/LightGCN on the split of each split seed.
    func sweepModel() -> any SweepModel {
        let (dataset, cache, users, items) = (dataset, cache, syntheticUsers, syntheticItems)
        guard let backbone = model.backbone else {
            return SequentialSweepModel(maxLength: dataset.sequenceLength) {
                try DataOptions.loadSequences(dataset, cache: cache, seed: 0, syntheticUsers: users, syntheticItems: items)
            }
        }
        return CollaborativeSweepModel(backbone: backbone, hasFixedSplit: dataset == .ml1m) { splitSeed in
            try DataOptions.load(dataset, cache: cache, splitSeed: splitSeed, syntheticUsers: users, syntheticItems: items)
        }
    }

    /// `--grids`, or the checkout's protocol/grids.json.
    func gridFile() throws -> String {
        guard let grids else {
            let (found, searched) = Checkout.find("protocol/grids.json")
            guard let found else {
                throw CLIError(.noInput, "no grid file found: looked for a swift-adar checkout (a folder with Package.swift and "
                    + "protocol/grids.json) in \(searched.joined(separator: " and in ")) and their parents; give it with --grids FILE")
            }
            return found.path
        }
        guard FileManager.default.fileExists(atPath: grids) else {
            throw CLIError(.noInput, "\(grids): no such grid file; give it with --grids (the committed one is protocol/grids.json)")
        }
        return grids
    }
}

/// A comma-separated list of rows (`--samplers`): names, each once, at least one; resolved against the protocol's rows.
enum RowList {
    static func parse(_ text: String, option: String) throws(ValidationError) -> [String] {
        guard !text.allSatisfy(\.isWhitespace) else {
            throw ValidationError("\(option) is empty; give a comma-separated list of the protocol's rows (e.g. uniform,dns,adar)")
        }
        var names: [String] = []
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = field.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ValidationError("\(option): an empty name in \"\(text)\"; separate the rows with single commas") }
            guard !names.contains(name) else {
                throw ValidationError("\(option): \(name) is listed twice; list each row once")
            }
            names.append(name)
        }
        return names
    }

    /// The protocol's rows named in `text`, in that order; nil: every row, in the file's order.
    static func resolve(_ text: String?, in evaluationProtocol: EvaluationProtocol, grids: String) throws -> [TuningRow] {
        guard let text else { return evaluationProtocol.rows }
        return try parse(text, option: "--samplers").map { name in
            guard let row = evaluationProtocol.row(named: name) else {
                throw CLIError(.usage, "--samplers: \"\(name)\" is not a row of protocol \(evaluationProtocol.name) in \(grids) "
                    + "(its rows: \(evaluationProtocol.rows.map(\.name).joined(separator: ", ")))")
            }
            return row
        }
    }
}

extension DatasetName {
    /// SASRec's maximum sequence length L on this data set (the SASRec paper's: 200 for ML-1M; 50 for ML-100K,
    /// whose users have shorter histories; 20 for the synthetic walks of 30 items).
    var sequenceLength: Int {
        switch self {
        case .ml1m: 200
        case .ml100k: 50
        case .synthetic: 20
        }
    }
}

extension DataOptions {
    /// The data set's leave-one-out sequences (`seed` draws the synthetic walks), fetched into `cache` when missing.
    static func loadSequences(_ dataset: DatasetName, cache: String, seed: UInt64, syntheticUsers: Int, syntheticItems: Int) throws -> SequenceData {
        switch dataset {
        case .synthetic:
            return .synthetic(users: syntheticUsers, items: syntheticItems, length: SASRecOptions.syntheticSequenceLength, seed: seed)
        case .ml100k: return try MovieLens.ml100k.loadSequences(from: cached(.ml100k, cache: cache))
        case .ml1m: return try MovieLens.ml1m.loadSequences(from: cached(.ml1m, cache: cache))
        }
    }
}
