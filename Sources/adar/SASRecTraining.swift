import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARLayers
import ADARTraining
import ADARProtocol
import ADAREvaluation
import ADARExperiment

/// The options only SASRec reads (`adar train --model sasrec`; docs/TRAINING.md "SASRec").
struct SASRecOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "sasrec: maximum sequence length L (default 50 for ml-100k, 200 for ml-1m, 20 for synthetic).")
    var maxLength: Int?

    @Option(parsing: .unconditional, help: "sasrec: self-attention blocks (default 2).")
    var blocks: Int?

    @Option(parsing: .unconditional, help: "sasrec: attention heads, dividing --dim (default 1).")
    var heads: Int?

    @Option(parsing: .unconditional, help: "sasrec: dropout rate in [0, 1) (default 0.2).")
    var dropout: Double?

    @Option(help: ArgumentHelp(
        "sasrec: start from these weights instead of Swift's seeded init (the order, negatives and dropout masks stay the seed's).",
        discussion: "A JSON object whose \"parameters\" array is the flat parameter vector in SASRecLayout's order (= PyTorch's "
            + "model.parameters(); `Bench/pytorch/sasrec.py --save-initial-weights` and `adar sasrec-gradient` write it), "
            + "rounded to binary32; row 0 of the item table (padding) must be zero, as both inits make it."))
    var initialWeights: String?

    /// Items per synthetic user: the walk `SequenceData.synthetic` draws.
    static let syntheticSequenceLength = 30

    func refuseWithoutSASRec() throws(ValidationError) {
        let given = [("--max-length", maxLength != nil), ("--blocks", blocks != nil), ("--heads", heads != nil), ("--dropout", dropout != nil),
                     ("--initial-weights", initialWeights != nil)]
        if let option = given.first(where: \.1)?.0 { throw ValidationError("\(option) applies only with --model sasrec") }
    }

    /// The options `train` accepts that SASRec never reads are refused under `--model sasrec` rather than
    /// silently ignored (the mirror of `refuseWithoutSASRec`).
    static func refuseCFOnly(_ training: TrainingOptions) throws(ValidationError) {
        let given = [("--layers", training.layers != nil), ("--init-scale", training.initScale != nil),
                     ("--ahns-p", training.ahnsP != nil), ("--ahns-alpha", training.ahnsAlpha != nil),
                     ("--ahns-beta", training.ahnsBeta != nil)]
        if let option = given.first(where: \.1)?.0 {
            throw ValidationError("\(option) does not apply with --model sasrec (SASRec never reads it); leave it out")
        }
    }

    func length(for dataset: DatasetName) -> Int {
        maxLength ?? dataset.sequenceLength
    }

    func validate(_ training: TrainingOptions, sampler: SamplerKind, dataset: DatasetName, data: DataOptions) throws(ValidationError) {
        try Self.refuseCFOnly(training)
        if dataset == .synthetic {
            guard data.syntheticUsers >= 1 else { throw ValidationError("--synthetic-users: \(data.syntheticUsers) must be at least 1") }
            guard data.syntheticItems >= 3 * Self.syntheticSequenceLength else {
                throw ValidationError("--synthetic-items: \(data.syntheticItems) must be at least \(3 * Self.syntheticSequenceLength) for SASRec's synthetic walks of \(Self.syntheticSequenceLength) items")
            }
        }
        _ = try configuration(training, sampler: sampler, items: 1, dataset: dataset)
    }

    /// The run's configuration for `items` items, or a usage error naming the option at fault.
    func configuration(_ training: TrainingOptions, sampler: SamplerKind, items: Int, dataset: DatasetName)
        throws(ValidationError) -> SASRecTrainingConfiguration
    {
        guard SASRecTrainingConfiguration.samplers.contains(sampler) else {
            throw ValidationError("--sampler \(sampler.rawValue): SASRec trains with uniform, dns or adar")
        }
        let generator = try training.generatorSettings()
        let options = TrainingOptions.options.merging(["length": "--max-length", "blocks": "--blocks", "heads": "--heads",
                                                       "dropout": "--dropout"]) { $1 }
        do {
            let model = try SASRecConfiguration(items: items, dimension: training.dim ?? 50, length: length(for: dataset),
                                                blocks: blocks ?? 2, heads: heads ?? 1, dropout: dropout ?? 0.2)
            return try SASRecTrainingConfiguration(
                model: model, sampler: sampler, poolSize: training.poolSize,
                adar: ADARConfiguration(rho: training.rho, policy: training.policy, sigma: training.sigma, fallback: training.fallback,
                                        augmentationWeight: training.augmentationWeight, gradientFlow: training.gradientFlow),
                generator: generator, schedule: training.scheduleParameters.schedule(training.schedule),
                batchSize: training.batch ?? 128, learningRate: training.lr, l2: training.l2 ?? 0)
        } catch let error as ValidationError {
            throw error
        } catch TrainingError.invalidConfiguration(let field, let reason), ADARError.invalidConfiguration(let field, let reason) {
            throw ValidationError("\(options[field] ?? field): \(reason)")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

extension TrainCommand {
    func loadSequences() throws -> SequenceData {
        try DataOptions.loadSequences(dataset, cache: data.cache, seed: data.splitSeed,
                                      syntheticUsers: data.syntheticUsers, syntheticItems: data.syntheticItems)
    }

    /// `adar train --model sasrec`: SASRecProtocolRun with the options, a progress line per evaluation, a JSON record.
    func runSASRec() throws {
        let defaultPath = "results/runs/\(dataset.rawValue)-sasrec-\(sampler.rawValue)-seed\(seed).json"
        let file = try (output ?? (json ? nil : defaultPath)).map { path throws(CLIError) in
            try OutputFile(checking: path, option: "--output")
        }
        let say: (String) -> Void = json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0); fflush(nil) }
        // Read (not yet checked against the shape) before the data is loaded, so a bad file costs nothing.
        let initialWeights = try sequential.initialWeights.map { path in (path, try SASRecInitialWeights.read(path)) }
        let sequences = try loadSequences()
        let configuration = try sequential.configuration(training, sampler: sampler, items: sequences.itemCount, dataset: dataset)
        let initialEncoder = try initialWeights.map { path, values in
            try SASRecInitialWeights.encoder(values, path: path, configuration: configuration.model)
        }
        let stopping = try stopping()
        let evaluated = sequences.test.count { $0 != 0 }
        let model = configuration.model
        say("\(sequences.name) sequences: \(sequences.userCount) users, \(sequences.itemCount) items, "
            + "\(sequences.train.reduce(0) { $0 + $1.count }) training items, \(evaluated) users with a validation and a test item")
        say("sasrec + \(sampler.rawValue), d = \(model.dimension), L = \(model.length), \(model.blocks) block(s), \(model.heads) head(s), "
            + "dropout \(model.dropout), batch \(configuration.batchSize) sequences, Adam lr \(configuration.learningRate) β = (0.9, 0.98), "
            + "l2 \(configuration.l2), M = \(configuration.poolSize), "
            + "\(generatorText(configuration.generator, tauLearningRate: configuration.tauLearningRate)), seed \(seed), \(threads) thread(s), \(buildConfiguration) build; "
            + "validation NDCG@10 every \(stopping.evaluateEvery) epochs, patience \(stopping.patience), at most \(stopping.maxEpochs) epochs"
            + (initialWeights.map { "; initial weights from \($0.0)" } ?? ""))
        let test = SealedTestSplit(targets: sequences.test.map { $0 == 0 ? [] : [$0] })
        let clock = ContinuousClock(), start = clock.now
        let outcome = try SASRecProtocolRun(data: sequences, configuration: configuration, seed: seed, stopping: stopping, threads: threads,
                                            initialEncoder: initialEncoder)
            .run(test: test) { say($0.progressLine(maxEpochs: stopping.maxEpochs)) }
        let total = (clock.now - start) / .seconds(1)
        let chosen = outcome.chosen, testMetrics = outcome.test!
        let t = testMetrics.excludingHistory
        say("stopped after epoch \(chosen.stoppedAfterEpoch) (\(chosen.stopReason.rawValue)); best validation epoch \(chosen.bestEpoch), "
            + String(format: "NDCG@10 %.4f; test of that epoch: HR@10 %.4f  NDCG@10 %.4f  HR@20 %.4f  NDCG@20 %.4f (history included: NDCG@10 %.4f)",
                     chosen.bestValidation, t.recall(at: 10), t.ndcg(at: 10), t.recall(at: 20), t.ndcg(at: 20),
                     testMetrics.includingHistory.ndcg(at: 10)))
        let document = JSONValue.object([
            ("command", .string("train")),
            ("run", SASRecRecord.run(sequences, configuration: configuration, seed: seed, threads: threads, initialWeights: initialWeights?.0,
                                     outcome: outcome, totalSeconds: total)),
            ("earlyStopping", .object([
                ("metric", .string("validation " + SASRecProtocolRun.selectionMetric + ", history excluded")),
                ("evaluateEvery", .integer(stopping.evaluateEvery)), ("patience", .integer(stopping.patience)),
                ("maxEpochs", .integer(stopping.maxEpochs)), ("stoppedAfterEpoch", .integer(chosen.stoppedAfterEpoch)),
                ("stopReason", .string(chosen.stopReason.rawValue)), ("bestEpoch", .integer(chosen.bestEpoch)),
                ("bestValidationNDCG@10", .number(chosen.bestValidation)), ("test", SASRecRecord.metrics(testMetrics)),
            ])),
            ("machine", RunRecord.machine()),
        ])
        if let file { try OutputFile.write([(file, RunRecord.contents(document))]) }
        if json { print(document.rendered) }
        let trainSeconds = outcome.epochs.reduce(0) { $0 + $1.seconds }
        say(String(format: "done in %.1f s (training %.1f s, %.2f s per epoch); record: %@",
                   total, trainSeconds, trainSeconds / Double(max(outcome.epochs.count, 1)), file?.path ?? "standard output"))
    }
}

/// `--initial-weights`: the file's flat parameter vector, refused with the file's path and the reason
/// (missing or unreadable 66; not JSON, no "parameters" array, a non-number, the wrong count, a value not finite
/// in binary32, a non-zero padding row 65).
enum SASRecInitialWeights {
    private struct File: Decodable {
        let parameters: [Double]
    }

    static func read(_ path: String) throws(CLIError) -> [Double] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw CLIError(.noInput, "--initial-weights \(path): no such file")
        }
        guard !isFolder.boolValue else { throw CLIError(.noInput, "--initial-weights \(path): a folder, not a weights file") }
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError {
            let failure = CLIError.fileError(error)
            throw CLIError(failure.status, "--initial-weights \(failure.message)")
        } catch {
            throw CLIError(.noInput, "--initial-weights \(path): not readable (\(error))")
        }
        let decoder = JSONDecoder()
        // JSON5 reads the bare NaN and Infinity Python's json.dump writes, so they are refused by index below.
        decoder.allowsJSON5 = true
        let expected = #"expected a JSON object whose "parameters" array holds the flat parameter vector (SASRecLayout's order)"#
        do {
            return try decoder.decode(File.self, from: contents).parameters
        } catch DecodingError.keyNotFound {
            throw CLIError(.dataError, #"--initial-weights \#(path): no "parameters"; \#(expected)"#)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.isEmpty ? "the top level" : context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined()
            throw CLIError(.dataError, "--initial-weights \(path): \(field): \(context.debugDescription); \(expected)")
        } catch {
            throw CLIError(.dataError, "--initial-weights \(path): not JSON; \(expected)")
        }
    }

    /// The encoder of `configuration` with `values` rounded to binary32, or the reason it cannot be.
    static func encoder(_ values: [Double], path: String, configuration: SASRecConfiguration) throws(CLIError) -> SASRecEncoder<Float> {
        let c = configuration
        do {
            return try SASRecEncoder(configuration: c, parameters: values.map { Float($0) })
        } catch let .shapeMismatch(_, expected, actual) {
            throw CLIError(.dataError, "--initial-weights \(path): \(actual) parameters, expected \(expected) for this run's SASRec "
                           + "(\(c.items) items, d = \(c.dimension), L = \(c.length), \(c.blocks) block(s)); write the file for the same data and options")
        } catch let .nonFinite(_, _, index) {
            throw CLIError(.dataError, "--initial-weights \(path): parameters[\(index)] = \(values[index]) is not finite in binary32")
        } catch let .invalidConfiguration(_, reason) {
            throw CLIError(.dataError, "--initial-weights \(path): \(reason) (parameters[0..<\(c.dimension)]): Swift's and PyTorch's "
                           + "inits both zero it and it never trains, so the file is not an init in SASRecLayout's order")
        } catch {
            throw CLIError(.dataError, "--initial-weights \(path): \(error)")
        }
    }
}

/// The JSON record of a SASRec run (the CF runs' `RunRecord`, with sequences and HR@K).
enum SASRecRecord {
    static func metrics(_ evaluation: SequenceEvaluation) -> JSONValue {
        func fields(_ m: RankingMetrics) -> JSONValue {
            .object(m.cutoffs.flatMap { k in [("hr@\(k)", JSONValue.number(m.recall(at: k))), ("ndcg@\(k)", .number(m.ndcg(at: k)))] }
                + [("users", .integer(m.evaluatedUsers))])
        }
        return .object([("historyExcluded", fields(evaluation.excludingHistory)), ("historyIncluded", fields(evaluation.includingHistory)),
                        ("seconds", .number(evaluation.seconds))])
    }

    static func run(
        _ data: SequenceData, configuration c: SASRecTrainingConfiguration, seed: UInt64, threads: Int, initialWeights: String?,
        outcome: SASRecProtocolRun.Outcome, totalSeconds: Double
    ) -> JSONValue {
        let validations = Dictionary(uniqueKeysWithValues: outcome.evaluations.map { ($0.epoch, $0.validation) })
        let epochs: [JSONValue] = outcome.epochs.map { s in
            var fields: [(String, JSONValue)] = [("epoch", .integer(s.epoch)), ("loss", .number(s.meanLoss)), ("seconds", .number(s.seconds)),
                                                 ("rows", .integer(s.rows))]
            if !s.statusCounts.isEmpty {
                fields.append(("statusShares", .object(RowStatus.allCases.map {
                    ($0.rawValue, .number(Double(s.statusCounts[$0] ?? 0) / Double(s.rows)))
                })))
            }
            if let adar = s.adar { fields.append(("adar", RunRecord.adarStatistics(adar))) }
            if let validation = validations[s.epoch] { fields.append(("validation", metrics(validation))) }
            return .object(fields)
        }
        let m = c.model
        return .object([
            ("dataset", .object([("name", .string(data.name)), ("users", .integer(data.userCount)), ("items", .integer(data.itemCount)),
                                 ("trainItems", .integer(data.train.reduce(0) { $0 + $1.count })),
                                 ("split", .string("leave-one-out by timestamp, ties in file row order"))])),
            ("config", .object([
                ("model", .string("sasrec")), ("dimension", .integer(m.dimension)), ("maxLength", .integer(m.length)),
                ("blocks", .integer(m.blocks)), ("heads", .integer(m.heads)), ("dropout", .number(m.dropout)),
                ("sampler", .string(c.sampler.rawValue)), ("poolSize", .integer(c.poolSize)), ("batchSize", .integer(c.batchSize)),
                ("l2", .number(c.l2)), ("l2Scope", .string("l2·‖E‖² over the item table (SASRec.pytorch's l2_emb)")),
                ("optimizer", .object([("name", .string("adam")), ("learningRate", .number(c.learningRate)),
                                       ("beta1", .number(SASRecTrainingConfiguration.adamBeta1)),
                                       ("beta2", .number(SASRecTrainingConfiguration.adamBeta2)), ("epsilon", .number(1e-8))])),
                ("adar", .object([
                    ("rho", .number(c.adar.rho)), ("policy", .string(c.adar.policy.rawValue)), ("sigma", .number(c.adar.sigma)),
                    ("weight", .number(c.adar.augmentationWeight)), ("fallback", .string(c.adar.fallback.rawValue)),
                    ("gradientFlow", .string(c.adar.gradientFlow.rawValue)), ("schedule", .string(c.schedule.kind.name)),
                    ("steps", .integer(c.schedule.steps)),
                    ("generator", RunRecord.generator(c.generator, tauLearningRate: c.tauLearningRate)),
                ])),
            ])),
            ("seed", .string(String(seed))),
            // As sasrec.py's "initialWeights": the file the weights came from, null for the seed's own init.
            ("initialWeights", initialWeights.map { .string($0) } ?? .null),
            ("threads", .integer(threads)), ("epochs", .array(epochs)),
            ("timing", .object([("totalSeconds", .number(totalSeconds)),
                                ("trainingSeconds", .number(outcome.epochs.reduce(0) { $0 + $1.seconds }))])),
        ])
    }
}
