import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARTraining
import ADARProtocol

/// Where the training data comes from.
enum DatasetName: String, CaseIterable, ExpressibleByArgument {
    case ml100k = "ml-100k", ml1m = "ml-1m", synthetic

    var displayName: String {
        switch self {
        case .ml100k: "ML-100K"
        case .ml1m: "ML-1M"
        case .synthetic: "synthetic"
        }
    }

    /// The evaluation protocol, for reports (docs/TRAINING.md).
    func protocolText(splitSeed: UInt64) -> String {
        let split = switch self {
        case .ml100k: "every rating a positive, per-user 80/20 split (seed \(splitSeed))"
        case .ml1m: "every rating a positive, the shipped leave-latest-out split (one test item per user)"
        case .synthetic: "seeded synthetic interactions, per-user 80/20 split (seed \(splitSeed))"
        }
        return "\(displayName), \(split); full ranking over items not in the user's training set; metrics after the last epoch"
    }
}

extension Backbone: ExpressibleByArgument {}
extension SamplerKind: ExpressibleByArgument {}
extension ReferencePolicy: ExpressibleByArgument {}
extension FallbackMode: ExpressibleByArgument {}
extension GradientFlow: ExpressibleByArgument {}

/// The options of one training run, shared by `train` and `demo`.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Backbone: mf, lightgcn.")
    var model: Backbone = .mf

    @Option(parsing: .unconditional, help: "LightGCN propagation layers.")
    var layers = 3

    @Option(parsing: .unconditional, help: "Embedding dimension d.")
    var dim = 64

    @Option(parsing: .unconditional, help: "Adam learning rate (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).")
    var lr = 1e-3

    @Option(parsing: .unconditional, help: "L2 coefficient λ on the batch's ego embeddings, λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²) per row.")
    var l2 = 1e-4

    @Option(parsing: .unconditional, help: "Rows (training pairs) per batch.")
    var batch = 2048

    @Option(name: .customLong("pool"), parsing: .unconditional, help: "Candidates per row M for dns, ahns and ADAR's pool.")
    var poolSize = 16

    @Option(parsing: .unconditional, help: "Standard deviation of the N(0, s²) initial embeddings.")
    var initScale = 0.1

    @Option(parsing: .unconditional, help: "AHNS p.")
    var ahnsP = -2.0

    @Option(parsing: .unconditional, help: "AHNS α.")
    var ahnsAlpha = 1.0

    @Option(parsing: .unconditional, help: "AHNS β.")
    var ahnsBeta = 0.1

    @Option(parsing: .unconditional, help: "ADAR retention level ρ ∈ (0, 1) (S4.c).")
    var rho = 0.5

    @Option(help: "ADAR reference negative policy: max, mean, first (S3).")
    var policy: ReferencePolicy = .max

    @Option(parsing: .unconditional, help: "ADAR noise scale σ (S2).")
    var sigma = 0.1

    @Option(name: .customLong("weight"), parsing: .unconditional, help: "ADAR augmentation weight w (S7).")
    var augmentationWeight = 1.0

    @Option(help: "ADAR fallback rows: skip, hardest (S7).")
    var fallback: FallbackMode = .skip

    @Option(help: "ADAR gradient through x⁻: detach, through (S7).")
    var gradientFlow: GradientFlow = .detach

    @Option(help: "ADAR noise schedule (S1); its parameters as in `adar schedule`.")
    var schedule: ScheduleName = .cosine

    @OptionGroup var scheduleParameters: ScheduleParameters

    /// The run's configuration, or a usage error naming the option at fault.
    /// `validate()` calls it, so every out-of-range value (TrainingConfiguration's
    /// ranges, ADAR's, the schedule's) is refused before any data is loaded.
    func configuration(sampler: SamplerKind, epochs: Int) throws(ValidationError) -> TrainingConfiguration {
        do {
            return try TrainingConfiguration(
                backbone: model, layers: layers, sampler: sampler, poolSize: poolSize,
                ahns: AHNSParameters(p: ahnsP, alpha: ahnsAlpha, beta: ahnsBeta),
                adar: ADARConfiguration(rho: rho, policy: policy, sigma: sigma, fallback: fallback,
                                        augmentationWeight: augmentationWeight, gradientFlow: gradientFlow),
                schedule: scheduleParameters.schedule(schedule),
                dimension: dim, batchSize: batch, epochs: epochs, l2: l2,
                adam: AdamParameters(learningRate: lr), initialScale: initScale)
        } catch let error as ValidationError {
            throw error
        } catch TrainingError.invalidConfiguration(let field, let reason), ADARError.invalidConfiguration(let field, let reason) {
            throw ValidationError("\(Self.options[field] ?? field): \(reason)")
        } catch {
            throw ValidationError("--schedule \(schedule.rawValue): \(error)")
        }
    }

    /// The option of each field a configuration error can name.
    static let options = [
        "layers": "--layers", "poolSize": "--pool", "dimension": "--dim", "batchSize": "--batch", "epochs": "--epochs",
        "l2": "--l2", "initialScale": "--init-scale", "learningRate": "--lr",
        "ahns.p": "--ahns-p", "ahns.alpha": "--ahns-alpha", "ahns.beta": "--ahns-beta",
        "rho": "--rho", "sigma": "--sigma", "augmentationWeight": "--weight",
    ]
}

/// The checks of the options `train` and `demo` share outside `TrainingOptions`.
enum RunOptions {
    /// Threads only split fixed chunks, so more than the machine has only waits.
    static let threadRange = 1...256

    static func check(threads: Int, evalEvery: Int) throws(ValidationError) {
        guard threadRange.contains(threads) else {
            throw ValidationError("--threads: \(threads) must be between \(threadRange.lowerBound) and \(threadRange.upperBound)")
        }
        guard evalEvery >= 0 else {
            throw ValidationError("--eval-every: \(evalEvery) must be ≥ 0 (0: evaluate only after the last epoch)")
        }
    }
}

/// Where the data is and how it is split.
struct DataOptions: ParsableArguments {
    @Option(help: "Cache folder of the MovieLens data (fetched there when missing).")
    var cache: String = DataFetcher.defaultCache.path

    @Option(help: "Seed of ML-100K's per-user 80/20 split (the protocol fixes 2026).")
    var splitSeed: UInt64 = 2026

    @Option(parsing: .unconditional, help: "synthetic: users.")
    var syntheticUsers = 500

    @Option(parsing: .unconditional, help: "synthetic: items (more than 60: a user gets up to 1.5 × 40 interactions).")
    var syntheticItems = 1000

    static let syntheticInteractionsPerUser = 40

    /// Refuses a synthetic shape the generator cannot build, naming the option.
    func checkShape(of dataset: DatasetName) throws(ValidationError) {
        guard dataset == .synthetic else { return }
        do {
            try ImplicitFeedback.checkSyntheticShape(users: syntheticUsers, items: syntheticItems,
                                                     interactionsPerUser: Self.syntheticInteractionsPerUser)
        } catch {
            throw ValidationError("--synthetic-\(error.parameter): \(error.reason)")
        }
    }

    func load(_ dataset: DatasetName) throws -> ImplicitFeedback {
        let movieLens: MovieLens
        switch dataset {
        case .synthetic:
            try checkShape(of: dataset)
            return try .synthetic(users: syntheticUsers, items: syntheticItems,
                                  interactionsPerUser: Self.syntheticInteractionsPerUser, seed: splitSeed)
        case .ml100k: movieLens = .ml100k
        case .ml1m: movieLens = .ml1m
        }
        let folder = URL(fileURLWithPath: cache)
        if !movieLens.isCached(in: folder) {
            try DataFetcher(cache: folder) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }.fetch(movieLens)
        }
        return try movieLens.load(from: folder, seed: splitSeed)
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train MF or LightGCN with BPR and a uniform, DNS, AHNS or ADAR sampler; print progress; write a JSON record.",
        discussion: """
            Protocol: ML-100K — every rating a positive, per-user 80/20 split (seed 2026); ML-1M — the shipped
            leave-latest-out split. Full-ranking Recall@K / NDCG@K (K = 10, 20) over all items not in the user's
            training set. Build in release (`swift run -c release adar train …`); debug is ~20× slower.
            """
    )

    @Option(help: "Data: ml-100k, ml-1m, synthetic.")
    var dataset: DatasetName = .ml100k

    @OptionGroup var data: DataOptions

    @Option(help: "Sampler: uniform, dns, ahns, adar.")
    var sampler: SamplerKind = .uniform

    @OptionGroup var training: TrainingOptions

    @Option(parsing: .unconditional, help: "Training epochs (at least 1).")
    var epochs = 100

    @Option(help: "Seed of the initial embeddings, the shuffles, the candidates and ADAR's noise.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Threads, 1…256 (results do not depend on it; 1 = serial).")
    var threads = min(ProcessInfo.processInfo.activeProcessorCount, RunOptions.threadRange.upperBound)

    @Option(parsing: .unconditional, help: "Evaluate the untrained model and every N epochs (and after the last); 0 = only after the last.")
    var evalEvery = 10

    @Option(help: "JSON record of the run (default results/runs/<dataset>-<model>-<sampler>-seed<seed>.json; with --json, none unless given).")
    var output: String?

    @Flag(help: "Print the JSON record on standard output and the progress on standard error.")
    var json = false

    func validate() throws {
        try RunOptions.check(threads: threads, evalEvery: evalEvery)
        try data.checkShape(of: dataset)
        _ = try training.configuration(sampler: sampler, epochs: epochs)
    }

    func run() throws {
        // The output is checked before anything is loaded or trained, so a bad path costs nothing.
        let defaultPath = "results/runs/\(dataset.rawValue)-\(training.model.rawValue)-\(sampler.rawValue)-seed\(seed).json"
        let file = try (output ?? (json ? nil : defaultPath)).map { path throws(CLIError) in
            try OutputFile(checking: path, option: "--output")
        }
        let say: (String) -> Void = json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0); fflush(nil) }
        let configuration = try training.configuration(sampler: sampler, epochs: epochs)
        let feedback = try data.load(dataset)
        say("\(feedback.name): \(feedback.userCount) users, \(feedback.itemCount) items, "
            + "\(feedback.trainInteractions) training / \(feedback.testInteractions) test interactions")
        say("\(configuration.backbone.rawValue) + \(sampler.rawValue), d = \(configuration.dimension), "
            + "batch \(configuration.batchSize), Adam lr \(configuration.adam.learningRate), λ = \(configuration.l2), "
            + "M = \(configuration.poolSize), seed \(seed), \(threads) thread(s), \(buildConfiguration) build")
        let trainer = try Trainer(data: feedback, configuration: configuration, seed: seed)
        let clock = ContinuousClock(), start = clock.now
        let history = try trainer.run(evaluateEvery: evalEvery, threads: threads) { report in
            say(ProgressLine.text(report, epochs: epochs))
        }
        let total = (clock.now - start) / .seconds(1)
        let record = RunRecord.json(data: feedback, splitSeed: data.splitSeed, dataset: dataset.rawValue,
                                    configuration: configuration, seed: seed, threads: threads,
                                    history: history, totalSeconds: total)
        let document = JSONValue.object([("command", .string("train")), ("run", record), ("machine", RunRecord.machine())])
        if let file { try OutputFile.write([(file, RunRecord.contents(document))]) }
        if json { print(document.rendered) }
        let trainSeconds = history.compactMap(\.statistics).reduce(0) { $0 + $1.seconds }
        say(String(format: "done in %.1f s (training %.1f s, %.0f rows/s); record: %@",
                   total, trainSeconds, Double(feedback.trainInteractions * epochs) / trainSeconds,
                   file?.path ?? "standard output"))
    }
}

var buildConfiguration: String {
    #if DEBUG
    "debug"
    #else
    "release"
    #endif
}

/// One progress line per epoch.
enum ProgressLine {
    static func text(_ report: EpochReport, epochs: Int) -> String {
        let width = String(epochs).count
        var line = "epoch " + String(report.epoch).leftPadded(to: width) + "/\(epochs)"
        if let statistics = report.statistics {
            line += String(format: "  loss %.4f  %8.0f rows/s  %6.2f s", statistics.meanLoss, statistics.rowsPerSecond, statistics.seconds)
        } else {
            line += "  (untrained)"
        }
        if let metrics = report.metrics {
            line += String(format: "  R@20 %.4f  N@20 %.4f", metrics.recall(at: 20), metrics.ndcg(at: 20))
        }
        if let statistics = report.statistics, !statistics.statusCounts.isEmpty {
            line += "  " + RowStatus.allCases.compactMap { status in
                statistics.statusCounts[status].map {
                    String(format: "%@ %.1f%%", status.rawValue, 100 * Double($0) / Double(statistics.rows))
                }
            }.joined(separator: " ")
        }
        return line
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: Swift.max(0, width - count)) + self }
}
