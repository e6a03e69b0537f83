import Foundation
import ADARData

/// One row of a run's history: epoch 0 is the untrained model (metrics only).
public struct EpochReport: Sendable {
    public let epoch: Int
    /// Nil for epoch 0.
    public let statistics: EpochStatistics?
    /// Nil for epochs that were not evaluated.
    public let metrics: RankingMetrics?
    /// Wall time of the evaluation (0 when not evaluated).
    public let evaluationSeconds: Double
}

extension Trainer {
    /// Trains for `configuration.epochs` epochs, evaluating the untrained
    /// model, every `evaluateEvery` epochs and the last epoch, and reports
    /// each epoch to `progress` as soon as it is done.
    public func run(
        evaluateEvery: Int, cutoffs: [Int] = [10, 20], threads: Int, progress: (EpochReport) -> Void = { _ in }
    ) throws(TrainingError) -> [EpochReport] {
        let clock = ContinuousClock()
        func timedEvaluation() -> (RankingMetrics, Double) {
            let start = clock.now
            let metrics = evaluate(cutoffs: cutoffs, threads: threads)
            return (metrics, (clock.now - start) / .seconds(1))
        }
        let (initial, initialSeconds) = timedEvaluation()
        var history = [EpochReport(epoch: 0, statistics: nil, metrics: initial, evaluationSeconds: initialSeconds)]
        progress(history[0])
        let epochs = configuration.epochs
        for epoch in stride(from: 1, through: epochs, by: 1) {
            let statistics = try trainEpoch(epoch, threads: threads)
            let evaluated = epoch == epochs || (evaluateEvery > 0 && epoch % evaluateEvery == 0)
            let evaluation = evaluated ? timedEvaluation() : nil
            let report = EpochReport(epoch: epoch, statistics: statistics, metrics: evaluation?.0,
                                     evaluationSeconds: evaluation?.1 ?? 0)
            history.append(report)
            progress(report)
        }
        return history
    }
}
