import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARTraining
import ADARProtocol
import ADAREvaluation
import ADARExperiment

/// Where the training data comes from.
enum DatasetName: String, CaseIterable, ExpressibleByArgument {
    case ml100k = "ml-100k", ml1m = "ml-1m", synthetic
}

extension Backbone: ExpressibleByArgument {}

/// `--model`: a CF backbone (`Backbone`) or SASRec, which `adar train` trains with its own options (SASRecTraining.swift)
/// and `adar tune` under a sequential protocol of the grid file.
enum ModelName: String, CaseIterable, ExpressibleByArgument {
    case mf, lightgcn, sasrec

    var backbone: Backbone? { Backbone(rawValue: rawValue) }
}
extension SamplerKind: ExpressibleByArgument {}
extension ReferencePolicy: ExpressibleByArgument {}
extension FallbackMode: ExpressibleByArgument {}
extension GradientFlow: ExpressibleByArgument {}
extension GeneratorKind: ExpressibleByArgument {}

/// The options of one training run, shared by `train` and `demo`.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Backbone: mf, lightgcn, or (train only) sasrec.")
    var model: ModelName = .mf

    @Option(parsing: .unconditional, help: "LightGCN propagation layers (default 3).")
    var layers: Int?

    @Option(parsing: .unconditional, help: "Embedding dimension d (default 64; sasrec 50).")
    var dim: Int?

    @Option(parsing: .unconditional, help: "Adam learning rate (β₁ = 0.9, β₂ = 0.999, ε = 1e-8; sasrec β₂ = 0.98).")
    var lr = 1e-3

    @Option(parsing: .unconditional, help: "L2 coefficient λ on the batch's ego embeddings, λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²) per row (default 1e-4); sasrec: l2·‖E‖² over the item table (default 0).")
    var l2: Double?

    @Option(parsing: .unconditional, help: "Rows (training pairs) per batch (default 2048); sasrec: sequences per batch (default 128).")
    var batch: Int?

    @Option(name: .customLong("pool"), parsing: .unconditional, help: "Candidates per row M for dns, ahns and ADAR's pool.")
    var poolSize = 16

    @Option(parsing: .unconditional, help: "Standard deviation of the N(0, s²) initial embeddings (default 0.1; MF and LightGCN).")
    var initScale: Double?

    @Option(parsing: .unconditional, help: "AHNS p (default -2).")
    var ahnsP: Double?

    @Option(parsing: .unconditional, help: "AHNS α (default 1).")
    var ahnsAlpha: Double?

    @Option(parsing: .unconditional, help: "AHNS β (default 0.1).")
    var ahnsBeta: Double?

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

    @Option(help: "ADAR generator (spec S9): forward (x⁻ = x_t, the corrupted positive) or denoised (x⁻ = τ's reconstruction x̂_0 = x_0 + σ·r_t·(ε − ε̂); τ takes one Adam step per batch before the batch's negatives are synthesised).")
    var generator: GeneratorKind = .forward

    @Option(parsing: .unconditional, help: "denoised: τ's Adam learning rate lr_τ (S9; default: --lr).")
    var tauLr: Double?

    @Option(parsing: .unconditional, help: "denoised: warm-up epochs (S9; default 1): epochs 1…N synthesise with forward while τ trains; 0 = denoised from the first batch.")
    var tauWarmup: Int?

    @Option(parsing: .unconditional, help: "denoised: r_max ≥ 0 (S9; default 10): rows with r_t = √((1 − ᾱ_t)/ᾱ_t) > r_max use forward and are counted.")
    var rMax: Double?

    @Option(help: "ADAR noise schedule (S1); its parameters as in `adar schedule`.")
    var schedule: ScheduleName = .cosine

    @OptionGroup var scheduleParameters: ScheduleParameters

    /// The run's configuration, or a usage error naming the option at fault.
    /// `validate()` calls it, so every out-of-range value (TrainingConfiguration's
    /// ranges, ADAR's, the schedule's) is refused before any data is loaded.
    func configuration(sampler: SamplerKind, epochs: Int) throws(ValidationError) -> TrainingConfiguration {
        guard let backbone = model.backbone else {
            throw ValidationError("--model sasrec: SASRec has its own options (SASRecOptions), not these")
        }
        let generator = try generatorSettings()
        let ahnsDefaults = AHNSParameters()
        do {
            return try TrainingConfiguration(
                backbone: backbone, layers: layers ?? 3, sampler: sampler, poolSize: poolSize,
                ahns: AHNSParameters(p: ahnsP ?? ahnsDefaults.p, alpha: ahnsAlpha ?? ahnsDefaults.alpha, beta: ahnsBeta ?? ahnsDefaults.beta),
                adar: ADARConfiguration(rho: rho, policy: policy, sigma: sigma, fallback: fallback,
                                        augmentationWeight: augmentationWeight, gradientFlow: gradientFlow),
                generator: generator, schedule: scheduleParameters.schedule(schedule),
                dimension: dim ?? 64, batchSize: batch ?? 2048, epochs: epochs, l2: l2 ?? 1e-4,
                adam: AdamParameters(learningRate: lr), initialScale: initScale ?? 0.1)
        } catch let error as ValidationError {
            throw error
        } catch TrainingError.invalidConfiguration(let field, let reason), ADARError.invalidConfiguration(let field, let reason) {
            throw ValidationError("\(Self.options[field] ?? field): \(reason)")
        } catch {
            throw ValidationError("--schedule \(schedule.rawValue): \(error)")
        }
    }

    /// `--generator` with τ's options (S9), which apply only under `denoised` (MF, LightGCN and SASRec alike).
    func generatorSettings() throws(ValidationError) -> ADARGenerator {
        switch generator {
        case .forward:
            let given = [("--tau-lr", tauLr != nil), ("--tau-warmup", tauWarmup != nil), ("--r-max", rMax != nil)].filter(\.1).map(\.0)
            if let option = given.first {
                throw ValidationError("\(option) applies only with --generator denoised (τ exists only there, S9)")
            }
            return .forward
        case .denoised:
            let defaults = DenoisedGenerator()
            return .denoised(DenoisedGenerator(tauLearningRate: tauLr, tauWarmup: tauWarmup ?? defaults.tauWarmup, rMax: rMax ?? defaults.rMax))
        }
    }

    /// The option of each field a configuration error can name.
    static let options = [
        "layers": "--layers", "poolSize": "--pool", "dimension": "--dim", "batchSize": "--batch", "epochs": "--epochs",
        "l2": "--l2", "initialScale": "--init-scale", "learningRate": "--lr",
        "ahns.p": "--ahns-p", "ahns.alpha": "--ahns-alpha", "ahns.beta": "--ahns-beta",
        "rho": "--rho", "sigma": "--sigma", "augmentationWeight": "--weight",
        "generator": "--generator", "tauLearningRate": "--tau-lr", "tauWarmup": "--tau-warmup", "rMax": "--r-max",
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

    @Option(help: "Seed of ML-100K's per-user 80/10/10 split (the protocol's split seeds are in protocol/grids.json; 2026 is the first).")
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
        try checkShape(of: dataset)
        return try Self.load(dataset, cache: cache, splitSeed: splitSeed, syntheticUsers: syntheticUsers, syntheticItems: syntheticItems)
    }

    /// The data set split with `splitSeed` (ignored by ML-1M's fixed split), fetched into `cache` when missing.
    static func load(
        _ dataset: DatasetName, cache: String, splitSeed: UInt64, syntheticUsers: Int, syntheticItems: Int
    ) throws -> ImplicitFeedback {
        let movieLens: MovieLens
        switch dataset {
        case .synthetic:
            return try .synthetic(users: syntheticUsers, items: syntheticItems,
                                  interactionsPerUser: syntheticInteractionsPerUser, seed: splitSeed)
        case .ml100k: movieLens = .ml100k
        case .ml1m: movieLens = .ml1m
        }
        return try movieLens.load(from: cached(movieLens, cache: cache), seed: splitSeed)
    }

    /// The cache folder, with `movieLens` fetched into it when missing.
    static func cached(_ movieLens: MovieLens, cache: String) throws -> URL {
        let folder = URL(fileURLWithPath: cache)
        if !movieLens.isCached(in: folder) {
            try DataFetcher(cache: folder) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }.fetch(movieLens)
        }
        return folder
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train MF or LightGCN with BPR and a uniform, DNS, AHNS, ADAR or MixGCF sampler, early-stopped on validation NDCG@20 — or SASRec (--model sasrec) with BCE and a uniform, DNS or ADAR negative, early-stopped on validation NDCG@10; print progress; write a JSON record.",
        discussion: """
            Protocol (docs/PROTOCOL.md): ML-100K — every rating a positive, per-user 80/10/10 train/validation/test split
            (--split-seed, default 2026); ML-1M — the shipped leave-latest-out test item, the latest remaining interaction
            as validation. The validation split is evaluated every --eval-every epochs (full ranking over items not in the
            user's training set; Recall@K / NDCG@K, K = 10, 20); training stops after --patience evaluations without a
            strictly better validation NDCG@20, or after --epochs. The parameters of the best validation epoch are then
            evaluated once on the test split (training and validation items excluded). To tune and compare samplers
            under equal budgets, use `adar tune`. Build in release (`swift run -c release adar train …`); debug is ~20× slower.
            """
    )

    @Option(help: "Data: ml-100k, ml-1m, synthetic.")
    var dataset: DatasetName = .ml100k

    @OptionGroup var data: DataOptions

    @Option(help: "Sampler: uniform, dns, ahns, adar, mixgcf.")
    var sampler: SamplerKind = .uniform

    @OptionGroup var training: TrainingOptions

    @OptionGroup(title: "SASRec (--model sasrec)") var sequential: SASRecOptions

    @Option(parsing: .unconditional, help: "Maximum training epochs (at least 1); early stopping may stop sooner.")
    var epochs = 100

    @Option(help: "Seed of the initial embeddings, the shuffles, the candidates and ADAR's noise.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Threads, 1…256 (results do not depend on it; 1 = serial).")
    var threads = min(ProcessInfo.processInfo.activeProcessorCount, RunOptions.threadRange.upperBound)

    @Option(parsing: .unconditional, help: "Evaluate the validation split every N epochs and after the last; 0 = only after the last.")
    var evalEvery = 5

    @Option(parsing: .unconditional, help: "Stop after this many evaluations in a row without a strictly better validation NDCG@20 (at least 1).")
    var patience = 5

    @Option(help: "JSON record of the run (default results/runs/<dataset>-<model>-<sampler>-seed<seed>.json; with --json, none unless given).")
    var output: String?

    @Flag(help: "Print the JSON record on standard output and the progress on standard error.")
    var json = false

    func validate() throws {
        try RunOptions.check(threads: threads, evalEvery: evalEvery)
        guard patience >= 1 else { throw ValidationError("--patience: \(patience) must be at least 1") }
        if training.model == .sasrec {
            try sequential.validate(training, sampler: sampler, dataset: dataset, data: data)
            return
        }
        try sequential.refuseWithoutSASRec()
        try data.checkShape(of: dataset)
        _ = try training.configuration(sampler: sampler, epochs: epochs)
    }

    /// Early stopping from the options: `--eval-every 0` (or one beyond `--epochs`) evaluates only the last epoch.
    func stopping() throws(ValidationError) -> EarlyStoppingSettings {
        do {
            return try EarlyStoppingSettings(evaluateEvery: evalEvery == 0 ? epochs : min(evalEvery, epochs),
                                             patience: patience, maxEpochs: epochs)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        if training.model == .sasrec { return try runSASRec() }
        // The output is checked before anything is loaded or trained, so a bad path costs nothing.
        let defaultPath = "results/runs/\(dataset.rawValue)-\(training.model.rawValue)-\(sampler.rawValue)-seed\(seed).json"
        let file = try (output ?? (json ? nil : defaultPath)).map { path throws(CLIError) in
            try OutputFile(checking: path, option: "--output")
        }
        let say: (String) -> Void = json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0); fflush(nil) }
        let configuration = try training.configuration(sampler: sampler, epochs: epochs)
        let stopping = try stopping()
        let feedback = try data.load(dataset)
        say("\(feedback.name): \(feedback.userCount) users, \(feedback.itemCount) items, \(feedback.trainInteractions) training / "
            + "\(feedback.validationInteractions) validation / \(feedback.testInteractions) test interactions")
        say("\(configuration.backbone.rawValue) + \(sampler.rawValue), d = \(configuration.dimension), "
            + "batch \(configuration.batchSize), Adam lr \(configuration.adam.learningRate), λ = \(configuration.l2), "
            + "M = \(configuration.poolSize), \(generatorText(configuration.generator, tauLearningRate: configuration.tauLearningRate)), seed \(seed), \(threads) thread(s), \(buildConfiguration) build; "
            + "validation every \(stopping.evaluateEvery) epochs, patience \(stopping.patience), at most \(stopping.maxEpochs) epochs")
        // The test items go only into the sealed split: read once, for the best validation epoch.
        let test = SealedTestSplit(targets: feedback.test)
        let clock = ContinuousClock(), start = clock.now
        let outcome = try ProtocolRun(data: feedback, configuration: configuration, seed: seed, stopping: stopping, threads: threads)
            .run(test: test) { report in say(report.progressLine(label: "train")) }
        let total = (clock.now - start) / .seconds(1)
        let chosen = outcome.chosen, testMetrics = outcome.testMetrics!
        say("stopped after epoch \(chosen.stoppedAfterEpoch) (\(chosen.stopReason.rawValue)); best validation epoch \(chosen.bestEpoch), "
            + String(format: "NDCG@20 %.4f; test of that epoch: R@10 %.4f  R@20 %.4f  N@10 %.4f  N@20 %.4f",
                     chosen.bestValidation, testMetrics.recall(at: 10), testMetrics.recall(at: 20),
                     testMetrics.ndcg(at: 10), testMetrics.ndcg(at: 20)))
        let history = outcome.history
        let record = RunRecord.json(data: feedback, splitSeed: data.splitSeed, dataset: dataset.rawValue,
                                    configuration: configuration, seed: seed, threads: threads,
                                    history: history, totalSeconds: total)
        let selection = JSONValue.object([
            ("evaluateEvery", .integer(stopping.evaluateEvery)), ("patience", .integer(stopping.patience)),
            ("maxEpochs", .integer(stopping.maxEpochs)), ("stoppedAfterEpoch", .integer(chosen.stoppedAfterEpoch)),
            ("stopReason", .string(chosen.stopReason.rawValue)), ("bestEpoch", .integer(chosen.bestEpoch)),
            ("bestValidationNDCG@20", .number(chosen.bestValidation)),
            ("test", .object(testMetrics.cutoffs.flatMap { k in
                [("recall@\(k)", JSONValue.number(testMetrics.recall(at: k))), ("ndcg@\(k)", .number(testMetrics.ndcg(at: k)))]
            })),
        ])
        let document = JSONValue.object([("command", .string("train")), ("run", record), ("earlyStopping", selection),
                                         ("machine", RunRecord.machine())])
        if let file { try OutputFile.write([(file, RunRecord.contents(document))]) }
        if json { print(document.rendered) }
        let trainSeconds = history.compactMap(\.statistics).reduce(0) { $0 + $1.seconds }
        say(String(format: "done in %.1f s (training %.1f s, %.0f rows/s); record: %@",
                   total, trainSeconds, Double(feedback.trainInteractions * history.count) / trainSeconds,
                   file?.path ?? "standard output"))
    }
}

/// The generator for the progress header: `generator forward`, or τ's settings under `denoised`.
func generatorText(_ generator: ADARGenerator, tauLearningRate: Double?) -> String {
    guard case let .denoised(settings) = generator, let tauLearningRate else { return "generator \(generator.kind.rawValue)" }
    return "generator denoised (τ lr \(tauLearningRate), warm-up \(settings.tauWarmup) epoch(s), r_max \(settings.rMax))"
}

var buildConfiguration: String {
    #if DEBUG
    "debug"
    #else
    "release"
    #endif
}
