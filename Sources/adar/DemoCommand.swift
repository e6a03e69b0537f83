import ADARCore
import Foundation
import ArgumentParser
import ADARData
import ADARTraining
import GSLOracle
import ADARProtocol

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "ML-100K (or --dataset), MF with uniform, DNS, AHNS and ADAR over several seeds: a table of Recall@20 / NDCG@20 with Welch t-tests, JSON and an SVG plot.",
        discussion: """
            Fetches the data set (ML-100K by default) into --cache when it is missing. Every sampler gets the same hyper-parameters and the
            same seeds; the table reports the validation metrics after the last epoch (the test split is read only for a model chosen
            on validation, by `adar train` and `adar tune`), mean ± sample
            standard deviation over seeds, and the two-sided Welch t-test p-value against uniform (Student-t tail from GSL).
            Writes <output>/demo.json and <output>/demo.svg. Build in release: `swift run -c release adar demo`.
            """
    )

    @Option(help: "Data: ml-100k (the demo's protocol), ml-1m, synthetic.")
    var dataset: DatasetName = .ml100k

    @OptionGroup var data: DataOptions

    @OptionGroup var training: TrainingOptions

    @Option(parsing: .unconditional, help: "Training epochs per run (at least 1).")
    var epochs = 100

    @Option(parsing: .unconditional, help: "Seeds per sampler (1 … n, at least 2).")
    var seeds = 3

    @Option(help: "Comma-separated samplers, each once; the first is the baseline of the t-tests.")
    var samplers = "uniform,dns,ahns,adar"

    @Option(parsing: .unconditional, help: "Evaluate the untrained model and every N epochs (the plot's points); 0 = only after the last.")
    var evalEvery = 5

    @Option(parsing: .unconditional, help: "Threads, 1…256 (results do not depend on it).")
    var threads = min(ProcessInfo.processInfo.activeProcessorCount, RunOptions.threadRange.upperBound)

    @Option(help: "Folder for demo.json and demo.svg (written together: a failure changes neither).")
    var output = "results"

    func validate() throws {
        guard seeds >= 2 else { throw ValidationError("--seeds: \(seeds) must be at least 2 for a t-test") }
        guard !output.isEmpty else { throw ValidationError("--output is empty; give a folder") }
        _ = try samplerKinds()
        try RunOptions.check(threads: threads, evalEvery: evalEvery)
        try data.checkShape(of: dataset)
        _ = try training.configuration(sampler: .uniform, epochs: epochs)
    }

    /// The samplers of `--samplers`: known names, each once, at least one.
    func samplerKinds() throws(ValidationError) -> [SamplerKind] {
        try SamplerList.parse(samplers, option: "--samplers")
    }

    func run() throws {
        let kinds = try samplerKinds()
        // Both outputs are checked before anything is loaded or trained.
        let folder = URL(fileURLWithPath: output)
        let jsonFile = try OutputFile(checking: folder.appendingPathComponent("demo.json").path, option: "--output")
        let plotFile = try OutputFile(checking: folder.appendingPathComponent("demo.svg").path, option: "--output")
        if buildConfiguration == "debug" {
            print("note: this is a debug build; `swift run -c release adar demo` is about 20× faster")
        }
        let feedback = try data.load(dataset)
        print("\(feedback.name): \(feedback.userCount) users, \(feedback.itemCount) items, "
            + "\(feedback.trainInteractions) training / \(feedback.testInteractions) test interactions")
        let sample = try training.configuration(sampler: .uniform, epochs: epochs)
        print("\(sample.backbone.rawValue), d = \(sample.dimension), batch \(sample.batchSize), Adam lr \(sample.adam.learningRate), "
            + "λ = \(sample.l2), M = \(sample.poolSize), \(epochs) epochs, seeds 1…\(seeds), \(threads) thread(s)")

        let clock = ContinuousClock(), start = clock.now
        let total = kinds.count * seeds
        var runs: [DemoRun] = []
        for kind in kinds {
            for seed in 1...UInt64(seeds) {
                let configuration = try training.configuration(sampler: kind, epochs: epochs)
                let trainer = try Trainer(data: feedback, configuration: configuration, seed: seed)
                let label = "[\(runs.count + 1)/\(total)] \(kind.rawValue) seed \(seed)"
                let runStart = clock.now
                let history = try trainer.run(evaluateEvery: evalEvery, threads: threads) { report in
                    guard report.metrics != nil, report.epoch > 0 else { return }
                    print("\(label): " + ProgressLine.text(report, epochs: epochs))
                    fflush(nil)
                }
                let seconds = (clock.now - runStart) / .seconds(1)
                runs.append(DemoRun(sampler: kind, seed: seed, configuration: configuration, history: history, seconds: seconds))
                let elapsed = (clock.now - start) / .seconds(1)
                let remaining = elapsed / Double(runs.count) * Double(total - runs.count)
                print(String(format: "%@: done in %.1f s; elapsed %.0f s, about %.0f s to go", label, seconds, elapsed, remaining))
            }
        }
        let elapsed = (clock.now - start) / .seconds(1)
        let rows = DemoTable.rows(runs, samplers: kinds)
        print("")
        print(DemoTable.text(rows, dataset: dataset, backbone: sample.backbone, epochs: epochs, seeds: seeds))
        print(String(format: "total %.0f s", elapsed))

        let json = DemoTable.json(rows, runs: runs, dataset: dataset, data: feedback, splitSeed: data.splitSeed, sample: sample,
                                  seeds: seeds, threads: threads, seconds: elapsed)
        try OutputFile.write([(jsonFile, RunRecord.contents(json)),
                              (plotFile, Data(DemoPlot.svg(runs, samplers: kinds, epochs: epochs).utf8))])
        print("wrote \(jsonFile.path) and \(plotFile.path)")
    }
}

struct DemoRun {
    let sampler: SamplerKind
    let seed: UInt64
    let configuration: TrainingConfiguration
    let history: [EpochReport]
    let seconds: Double

    var final: RankingMetrics { history.last!.metrics! }
}

/// The summary per sampler: final-epoch metrics over seeds and Welch's test against the baseline.
enum DemoTable {
    struct Row {
        let sampler: SamplerKind
        let recall: [Double], ndcg: [Double]
        let recallTest: WelchTest?, ndcgTest: WelchTest?
        let secondsPerRun: Double
    }

    static func rows(_ runs: [DemoRun], samplers: [SamplerKind]) -> [Row] {
        func values(_ kind: SamplerKind, _ metric: (RankingMetrics) -> Double) -> [Double] {
            runs.filter { $0.sampler == kind }.map { metric($0.final) }
        }
        let baseline = samplers[0]
        let baseRecall = values(baseline) { $0.recall(at: 20) }, baseNDCG = values(baseline) { $0.ndcg(at: 20) }
        return samplers.map { kind in
            let recall = values(kind) { $0.recall(at: 20) }, ndcg = values(kind) { $0.ndcg(at: 20) }
            let mine = runs.filter { $0.sampler == kind }
            return Row(
                sampler: kind, recall: recall, ndcg: ndcg,
                recallTest: kind == baseline ? nil : WelchTest(recall, baseRecall, studentTUpperTail: GSL.studentTUpperTail),
                ndcgTest: kind == baseline ? nil : WelchTest(ndcg, baseNDCG, studentTUpperTail: GSL.studentTUpperTail),
                secondsPerRun: mine.reduce(0) { $0 + $1.seconds } / Double(mine.count))
        }
    }

    static func text(_ rows: [Row], dataset: DatasetName, backbone: Backbone, epochs: Int, seeds: Int) -> String {
        let baseline = rows[0]
        let base = (SampleSummary(baseline.recall).mean, SampleSummary(baseline.ndcg).mean)
        var lines = ["\(dataset.displayName), \(backbone == .mf ? "MF" : "LightGCN"), validation metrics after \(epochs) epochs, mean ± std over \(seeds) seeds; p: Welch t-test vs \(baseline.sampler.rawValue) (two-sided)",
                     "| sampler | Recall@20 | Δ | p | NDCG@20 | Δ | p | s/run |",
                     "|---|---|---|---|---|---|---|---|"]
        for row in rows {
            let r = SampleSummary(row.recall), n = SampleSummary(row.ndcg)
            func delta(_ mean: Double, _ reference: Double) -> String {
                row.sampler == baseline.sampler ? "—" : String(format: "%+.1f%%", 100 * (mean / reference - 1))
            }
            func p(_ test: WelchTest?) -> String {
                guard let test else { return "—" }
                return test.pValue < 1e-4 ? String(format: "%.1e", test.pValue) : String(format: "%.4f", test.pValue)
            }
            lines.append("| \(row.sampler.rawValue) | " + String(format: "%.4f ± %.4f", r.mean, r.standardDeviation)
                + " | \(delta(r.mean, base.0)) | \(p(row.recallTest)) | "
                + String(format: "%.4f ± %.4f", n.mean, n.standardDeviation)
                + " | \(delta(n.mean, base.1)) | \(p(row.ndcgTest)) | " + String(format: "%.1f", row.secondsPerRun) + " |")
        }
        return lines.joined(separator: "\n")
    }

    static func json(
        _ rows: [Row], runs: [DemoRun], dataset: DatasetName, data: ImplicitFeedback, splitSeed: UInt64, sample: TrainingConfiguration,
        seeds: Int, threads: Int, seconds: Double
    ) -> JSONValue {
        func test(_ t: WelchTest?) -> JSONValue {
            guard let t else { return .string("baseline") }
            return .object([("t", .number(t.t)), ("degreesOfFreedom", .number(t.degreesOfFreedom)), ("pValue", .number(t.pValue))])
        }
        let summary: [JSONValue] = rows.map { row in
            let r = SampleSummary(row.recall), n = SampleSummary(row.ndcg)
            return .object([
                ("sampler", .string(row.sampler.rawValue)),
                ("recall@20", .object([("values", .array(row.recall.map(JSONValue.number))), ("mean", .number(r.mean)),
                                       ("std", .number(r.standardDeviation)), ("welchVsBaseline", test(row.recallTest))])),
                ("ndcg@20", .object([("values", .array(row.ndcg.map(JSONValue.number))), ("mean", .number(n.mean)),
                                     ("std", .number(n.standardDeviation)), ("welchVsBaseline", test(row.ndcgTest))])),
                ("secondsPerRun", .number(row.secondsPerRun)),
            ])
        }
        return .object([
            ("command", .string("demo")),
            ("protocol", .string(dataset.protocolText(splitSeed: splitSeed))),
            ("baseline", .string(rows[0].sampler.rawValue)),
            ("seeds", .array((1...seeds).map { .integer($0) })),
            ("threads", .integer(threads)),
            ("totalSeconds", .number(seconds)),
            ("summary", .array(summary)),
            ("runs", .array(runs.map { run in
                RunRecord.json(data: data, splitSeed: splitSeed, dataset: dataset.rawValue, configuration: run.configuration,
                               seed: run.seed, threads: threads, history: run.history, totalSeconds: run.seconds)
            })),
            ("machine", RunRecord.machine()),
        ])
    }
}
