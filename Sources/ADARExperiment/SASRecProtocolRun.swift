import Foundation
import ADARCore
import ADARData
import ADARLayers
import ADARTraining
import ADAREvaluation

/// One SASRec run under the protocol (docs/TRAINING.md "SASRec"): train,
/// evaluate the validation item every k epochs, stop on `EarlyStopping` over
/// validation **NDCG@10** (history excluded), keep the parameters of each new
/// best, then put the best back and evaluate the test item once, unsealed
/// with the run's own `ChosenModel`. `data.test` is never read here.
public struct SASRecProtocolRun {
    public let data: SequenceData
    public let configuration: SASRecTrainingConfiguration
    public let seed: UInt64
    public let stopping: EarlyStoppingSettings
    public let threads: Int
    /// The weights training starts from; nil: Swift's seeded init (`SASRecEncoder(configuration:seed:)`).
    /// Only the init changes: the order, negatives and dropout masks are the seed's either way.
    public let initialEncoder: SASRecEncoder<Float>?

    public static let cutoffs = [10, 20]
    public static let selectionMetric = "ndcg@10"

    public init(data: SequenceData, configuration: SASRecTrainingConfiguration, seed: UInt64, stopping: EarlyStoppingSettings, threads: Int,
                initialEncoder: SASRecEncoder<Float>? = nil) {
        self.data = data
        self.initialEncoder = initialEncoder
        self.configuration = configuration
        self.seed = seed
        self.stopping = stopping
        self.threads = threads
    }

    /// One validation evaluation with the epochs trained since the previous one.
    public struct Evaluation: Sendable {
        public let epoch: Int
        public let validation: SequenceEvaluation
        public let epochs: [EpochStatistics]
        public let decision: Decision
        public let bestEpoch: Int

        public var trainingSeconds: Double { epochs.reduce(0) { $0 + $1.seconds } }

        /// The progress line: epoch, loss, times, validation HR/NDCG@10 (history excluded), the best epoch, ADAR's status mix
        /// and S9's statistics (τ's loss under `denoised`, calibration `Z`, the share of `Y = 1`), as the CF runs' line.
        public func progressLine(maxEpochs: Int) -> String {
            let m = validation.excludingHistory
            var line = String(format: "sasrec: epoch %d/%d  loss %.4f  train %.1f s  eval %.1f s  val HR@10 %.4f  N@10 %.4f  (history included: N@10 %.4f)  best %d",
                              epoch, maxEpochs, RunStatistics.meanLoss(epochs), trainingSeconds, validation.seconds,
                              m.recall(at: 10), m.ndcg(at: 10), validation.includingHistory.ndcg(at: 10), bestEpoch)
            if decision.isNewBest { line += " *" }
            let shares = RunStatistics.statusShares(epochs).filter { $0.1 > 0 }
            if !shares.isEmpty {
                line += "  " + shares.map { String(format: "%@ %.1f%%", $0.0.rawValue, 100 * $0.1) }.joined(separator: " ")
            }
            if let adar = ADARStatistics(epochs) { line += adar.progressText }
            if let reason = decision.stopReason { line += "  (stop: \(reason.rawValue))" }
            return line
        }
    }

    public struct Outcome: Sendable {
        public let chosen: ChosenModel
        public let evaluations: [Evaluation]
        public let epochs: [EpochStatistics]
        /// The best validation epoch's model on the test item; nil without a sealed split.
        public let test: SequenceEvaluation?
    }

    public func run(test: SealedTestSplit?, onEvaluation: (Evaluation) throws -> Void = { _ in }) throws -> Outcome {
        let trainer = try SASRecTrainer(data: data, configuration: configuration, seed: seed)
        if let initialEncoder {
            guard initialEncoder.configuration == configuration.model else {
                throw TrainingError.invalidConfiguration(field: "initialEncoder", reason: "its shape \(initialEncoder.configuration) differs from the run's \(configuration.model)")
            }
            trainer.encoder = initialEncoder
        }
        var bestParameters = trainer.encoder.parameters
        var evaluations: [Evaluation] = []
        let (chosen, epochs) = try EarlyStoppedTraining.run(
            stopping, trainEpoch: { epoch in try trainer.trainEpoch(epoch, threads: threads) },
            validate: { epoch in
                let validation = try trainer.evaluate(.validation, cutoffs: Self.cutoffs, epoch: epoch, threads: threads)
                return (validation, validation.excludingHistory.ndcg(at: 10))
            },
            keepBest: { bestParameters = trainer.encoder.parameters }
        ) { step in
            let evaluation = Evaluation(epoch: step.epoch, validation: step.metrics, epochs: step.epochs, decision: step.decision,
                                        bestEpoch: step.bestEpoch)
            evaluations.append(evaluation)
            try onEvaluation(evaluation)
        }
        var testEvaluation: SequenceEvaluation?
        if let test {
            trainer.encoder.parameters = bestParameters
            // One target per user: the sealed lists hold the test item or nothing.
            let targets = test.unseal(for: chosen).map { $0.first ?? 0 }
            testEvaluation = try trainer.evaluate(.test, targets: targets, cutoffs: Self.cutoffs, epoch: chosen.bestEpoch, threads: threads)
        }
        return Outcome(chosen: chosen, evaluations: evaluations, epochs: epochs, test: testEvaluation)
    }
}
