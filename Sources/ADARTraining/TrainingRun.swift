import Foundation
import ADARData

/// One row of a run's history: epoch 0 is the untrained model (metrics only; present when evaluated).
public struct EpochReport: Sendable {
    public let epoch: Int
    /// Nil for epoch 0.
    public let statistics: EpochStatistics?
    /// Validation metrics; nil for epochs that were not evaluated.
    public let metrics: RankingMetrics?
    /// Wall time of the evaluation (0 when not evaluated).
    public let evaluationSeconds: Double

    public init(epoch: Int, statistics: EpochStatistics?, metrics: RankingMetrics?, evaluationSeconds: Double) {
        self.epoch = epoch
        self.statistics = statistics
        self.metrics = metrics
        self.evaluationSeconds = evaluationSeconds
    }
}

extension Trainer {
    /// Trains for `configuration.epochs` epochs, evaluating the untrained
    /// model and every `evaluateEvery` epochs when `evaluateEvery > 0`, and
    /// always the last epoch, on the **validation** split only (the test split
    /// is read once, for a chosen model: ADARExperiment's `ProtocolRun`); reports
    /// each epoch to `progress` as soon as it is done. Throws `.diverged` as soon as a loss, an embedding or an
    /// evaluated score is NaN or ±∞, so a finished run holds finite numbers only.
    public func run(
        evaluateEvery: Int, cutoffs: [Int] = [10, 20], threads: Int, progress: (EpochReport) -> Void = { _ in }
    ) throws(TrainingError) -> [EpochReport] {
        guard evaluateEvery >= 0 else {
            throw .invalidConfiguration(field: "evaluateEvery", reason: "\(evaluateEvery) must be ≥ 0 (0: only after the last epoch)")
        }
        let validation = data.rankingTask(.validation)
        func timedEvaluation(epoch: Int) throws(TrainingError) -> (RankingMetrics, Double) {
            try checkedEvaluation(validation, epoch: epoch, cutoffs: cutoffs, threads: threads)
        }
        var history: [EpochReport] = []
        if evaluateEvery > 0 {
            let (initial, initialSeconds) = try timedEvaluation(epoch: 0)
            history.append(EpochReport(epoch: 0, statistics: nil, metrics: initial, evaluationSeconds: initialSeconds))
            progress(history[0])
        }
        let epochs = configuration.epochs
        for epoch in 1...epochs {
            let statistics = try trainEpoch(epoch, threads: threads)
            let evaluated = epoch == epochs || (evaluateEvery > 0 && epoch % evaluateEvery == 0)
            let evaluation = try evaluated ? timedEvaluation(epoch: epoch) : nil
            let report = EpochReport(epoch: epoch, statistics: statistics, metrics: evaluation?.0,
                                     evaluationSeconds: evaluation?.1 ?? 0)
            history.append(report)
            progress(report)
        }
        return history
    }
}
