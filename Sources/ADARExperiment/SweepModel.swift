import Foundation
import ADARCore
import ADARData
import ADARTraining
import ADAREvaluation

/// What a `ProtocolSweep` trains: one loop of tuning, selection and final runs for every model, the
/// model deciding only how a run configuration is checked and how one early-stopped run goes.
/// `CollaborativeSweepModel` trains MF or LightGCN through `ProtocolRun` on a split per split seed;
/// `SequentialSweepModel` trains SASRec through `SASRecProtocolRun` on its one leave-one-out split.
public protocol SweepModel: AnyObject {
    /// The store's backbone (`mf`, `lightgcn`, `sasrec`).
    var backbone: String { get }
    /// The protocols it runs under: their fixed settings and keys are its own.
    var models: ProtocolModels { get }
    /// Settings the data set fixes, recorded in every run's configuration (SASRec's `maxLength`); empty for CF.
    var datasetSettings: [String: ConfigurationValue] { get }
    /// True when the data set has one fixed split: every run uses split seed 0, only model seeds vary.
    var hasFixedSplit: Bool { get }
    /// Refuses a configuration the trainer would refuse, naming its key; loads no data.
    func check(_ configuration: RunConfiguration, sampler: SamplerKind, maxEpochs: Int) throws(ConfigurationError)
    /// One early-stopped run; `testing` (a final run): the best validation epoch's model tested once on
    /// the sealed test split of `splitSeed`. Throws `TrainingError.diverged` for a diverged run.
    func run(
        _ configuration: RunConfiguration, sampler: SamplerKind, splitSeed: UInt64, modelSeed: UInt64,
        stopping: EarlyStoppingSettings, threads: Int, testing: Bool, label: String,
        onEvaluation: (SweepEvaluation) throws -> Void
    ) throws -> SweepOutcome
    /// The sealed test split of `splitSeed`, once its data is loaded (tests check its `accessCount`).
    func testSplit(splitSeed: UInt64) -> SealedTestSplit?
}

/// One validation evaluation, as the store records it.
public struct SweepEvaluation: Sendable {
    public let epoch: Int
    public let metrics: [String: Double]
    public let extra: [String: Double]
    public let progressLine: String
}

/// What one run produced, as the store records it.
public struct SweepOutcome: Sendable {
    public let chosen: ChosenModel
    /// Empty for a tuning run.
    public let testMetrics: [String: Double]
    public let summary: [String: Double]
}

/// The data of each split seed and its sealed test split, loaded once.
final class SplitCache<Data> {
    private let load: (UInt64) throws -> Data
    private let sealedTest: (Data) -> SealedTestSplit
    private var loaded: [UInt64: (data: Data, test: SealedTestSplit)] = [:]

    init(load: @escaping (UInt64) throws -> Data, sealedTest: @escaping (Data) -> SealedTestSplit) {
        self.load = load
        self.sealedTest = sealedTest
    }

    func split(_ splitSeed: UInt64) throws -> (data: Data, test: SealedTestSplit) {
        if let split = loaded[splitSeed] { return split }
        let data = try load(splitSeed)
        let split = (data, sealedTest(data))
        loaded[splitSeed] = split
        return split
    }

    func testSplit(_ splitSeed: UInt64) -> SealedTestSplit? { loaded[splitSeed]?.test }
}

/// MF or LightGCN (docs/PROTOCOL.md): `ProtocolRun`, early-stopped on validation NDCG@20.
public final class CollaborativeSweepModel: SweepModel {
    public let backboneKind: Backbone
    public let hasFixedSplit: Bool
    private let splits: SplitCache<ImplicitFeedback>

    /// `loadData(splitSeed)` loads the data set split with that seed (ignored for a fixed split).
    public init(backbone: Backbone, hasFixedSplit: Bool, loadData: @escaping (UInt64) throws -> ImplicitFeedback) {
        backboneKind = backbone
        self.hasFixedSplit = hasFixedSplit
        splits = SplitCache(load: loadData) { SealedTestSplit(targets: $0.test) }
    }

    public var backbone: String { backboneKind.rawValue }
    public var models: ProtocolModels { .collaborative }
    public var datasetSettings: [String: ConfigurationValue] { [:] }

    public func check(_ configuration: RunConfiguration, sampler: SamplerKind, maxEpochs: Int) throws(ConfigurationError) {
        _ = try trainingConfiguration(configuration, sampler: sampler, maxEpochs: maxEpochs)
    }

    private func trainingConfiguration(_ configuration: RunConfiguration, sampler: SamplerKind, maxEpochs: Int)
        throws(ConfigurationError) -> TrainingConfiguration
    {
        try ConfigurationMapping.trainingConfiguration(configuration, backbone: backboneKind, sampler: sampler, maxEpochs: maxEpochs)
    }

    public func run(
        _ configuration: RunConfiguration, sampler: SamplerKind, splitSeed: UInt64, modelSeed: UInt64,
        stopping: EarlyStoppingSettings, threads: Int, testing: Bool, label: String,
        onEvaluation: (SweepEvaluation) throws -> Void
    ) throws -> SweepOutcome {
        let (data, test) = try splits.split(splitSeed)
        let run = ProtocolRun(data: data, configuration: try trainingConfiguration(configuration, sampler: sampler, maxEpochs: stopping.maxEpochs),
                              seed: modelSeed, stopping: stopping, threads: threads)
        let outcome = try run.run(test: testing ? test : nil) { report in
            try onEvaluation(SweepEvaluation(epoch: report.epoch, metrics: report.storeMetrics, extra: report.storeExtra,
                                             progressLine: report.progressLine(label: label)))
        }
        return SweepOutcome(chosen: outcome.chosen, testMetrics: outcome.testMetrics.map(RunStatistics.storeMetrics) ?? [:],
                            summary: outcome.summary)
    }

    public func testSplit(splitSeed: UInt64) -> SealedTestSplit? { splits.testSplit(splitSeed) }
}

/// SASRec (docs/TRAINING.md "Sequential protocol"): `SASRecProtocolRun`, early-stopped on validation
/// NDCG@10 with the history excluded, on the leave-one-out split (fixed: split seed 0).
public final class SequentialSweepModel: SweepModel {
    /// L, the data set's maximum sequence length.
    public let maxLength: Int
    private let splits: SplitCache<SequenceData>

    /// `loadData()` loads the leave-one-out sequences.
    public init(maxLength: Int, loadData: @escaping () throws -> SequenceData) {
        self.maxLength = maxLength
        splits = SplitCache(load: { _ in try loadData() }) { SealedTestSplit(targets: $0.test.map { $0 == 0 ? [] : [$0] }) }
    }

    public var backbone: String { "sasrec" }
    public var models: ProtocolModels { .sequential }
    public var hasFixedSplit: Bool { true }
    public var datasetSettings: [String: ConfigurationValue] { ["maxLength": .number(Double(maxLength))] }

    public func check(_ configuration: RunConfiguration, sampler: SamplerKind, maxEpochs: Int) throws(ConfigurationError) {
        // The items only size the model: one is enough to check every setting.
        _ = try ConfigurationMapping.sasrecConfiguration(configuration, sampler: sampler, items: 1)
    }

    public func run(
        _ configuration: RunConfiguration, sampler: SamplerKind, splitSeed: UInt64, modelSeed: UInt64,
        stopping: EarlyStoppingSettings, threads: Int, testing: Bool, label: String,
        onEvaluation: (SweepEvaluation) throws -> Void
    ) throws -> SweepOutcome {
        let (data, test) = try splits.split(splitSeed)
        let settings = try ConfigurationMapping.sasrecConfiguration(configuration, sampler: sampler, items: data.itemCount)
        let run = SASRecProtocolRun(data: data, configuration: settings, seed: modelSeed, stopping: stopping, threads: threads)
        let outcome = try run.run(test: testing ? test : nil) { evaluation in
            var extra = RunStatistics.evaluationExtra(evaluation.epochs, evaluationSeconds: evaluation.validation.seconds)
            extra.merge(RunStatistics.sequentialMetrics(evaluation.validation.includingHistory, prefix: "historyIncluded.")) { $1 }
            try onEvaluation(SweepEvaluation(
                epoch: evaluation.epoch, metrics: RunStatistics.sequentialMetrics(evaluation.validation.excludingHistory),
                extra: extra, progressLine: "\(label): " + evaluation.progressLine(maxEpochs: stopping.maxEpochs)))
        }
        var summary = RunStatistics.summary(outcome.chosen, epochs: outcome.epochs,
                                            evaluationSeconds: outcome.evaluations.reduce(0) { $0 + $1.validation.seconds },
                                            bestValidationKey: "bestValidationNDCG@10")
        if let test = outcome.test {
            summary.merge(RunStatistics.sequentialMetrics(test.includingHistory, prefix: "testHistoryIncluded.")) { $1 }
        }
        return SweepOutcome(chosen: outcome.chosen,
                            testMetrics: outcome.test.map { RunStatistics.sequentialMetrics($0.excludingHistory) } ?? [:],
                            summary: summary)
    }

    public func testSplit(splitSeed: UInt64) -> SealedTestSplit? { splits.testSplit(splitSeed) }
}
