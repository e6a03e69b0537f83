import ADARData
import ADARTraining

/// Trains `epochs` epochs with the production steps (`Trainer.trainEpoch`,
/// `Trainer.checkedEvaluation` on the validation split), evaluating the
/// untrained model and every `evaluateEvery` epochs, and always the last
/// (`evaluateEvery` 0: the last only). The protocol's early stopping
/// (ADARExperiment's `ProtocolRun`) is left out so that a test sees every epoch.
func trainEpochs(_ trainer: Trainer, epochs: Int, evaluateEvery: Int, threads: Int) throws(TrainingError) -> [EpochReport] {
    let validation = trainer.data.rankingTask(.validation)
    func evaluation(_ epoch: Int) throws(TrainingError) -> (RankingMetrics, Double) {
        try trainer.checkedEvaluation(validation, epoch: epoch, cutoffs: [10, 20], threads: threads)
    }
    var history: [EpochReport] = []
    if evaluateEvery > 0 {
        let (metrics, seconds) = try evaluation(0)
        history.append(EpochReport(epoch: 0, statistics: nil, metrics: metrics, evaluationSeconds: seconds))
    }
    for epoch in 1...epochs {
        let statistics = try trainer.trainEpoch(epoch, threads: threads)
        let evaluated = epoch == epochs || (evaluateEvery > 0 && epoch % evaluateEvery == 0)
        let result = try evaluated ? evaluation(epoch) : nil
        history.append(EpochReport(epoch: epoch, statistics: statistics, metrics: result?.0, evaluationSeconds: result?.1 ?? 0))
    }
    return history
}
