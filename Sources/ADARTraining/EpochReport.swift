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
