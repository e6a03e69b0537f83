import ADARTraining
import ADAREvaluation

/// The loop of a protocol run, whatever the model (`ProtocolRun`, `SASRecProtocolRun`):
/// train epoch after epoch up to the next evaluation `EarlyStopping` asks for,
/// evaluate the validation split, record its selection value, tell `keepBest`
/// at each new best, and stop when early stopping does.
enum EarlyStoppedTraining {
    /// One evaluation: the epochs trained since the previous one, the decision and the best so far.
    struct Evaluation<Metrics> {
        let epoch: Int
        let metrics: Metrics
        let epochs: [EpochStatistics]
        let decision: Decision
        let bestEpoch: Int
        let bestValue: Double
    }

    /// Throws `TrainingError.diverged` for a non-finite selection value; errors of the closures pass through.
    static func run<Metrics>(
        _ stopping: EarlyStoppingSettings, trainEpoch: (Int) throws -> EpochStatistics,
        validate: (Int) throws -> (metrics: Metrics, value: Double), keepBest: () -> Void,
        onEvaluation: (Evaluation<Metrics>) throws -> Void
    ) throws -> (chosen: ChosenModel, epochs: [EpochStatistics]) {
        var earlyStopping = EarlyStopping(stopping)
        var epochs: [EpochStatistics] = [], sinceEvaluation: [EpochStatistics] = []
        var epoch = 0
        while let due = earlyStopping.nextEvaluationEpoch {
            while epoch < due {
                epoch += 1
                let statistics = try trainEpoch(epoch)
                epochs.append(statistics)
                sinceEvaluation.append(statistics)
            }
            let (metrics, value) = try validate(epoch)
            let decision: Decision
            do {
                decision = try earlyStopping.record(epoch: epoch, validation: value)
            } catch {
                // Only a non-finite value can be refused here: the epoch is the one asked for.
                throw TrainingError.diverged(epoch: epoch, batch: nil, detail: "\(error)")
            }
            if decision.isNewBest { keepBest() }
            try onEvaluation(Evaluation(epoch: epoch, metrics: metrics, epochs: sinceEvaluation, decision: decision,
                                        bestEpoch: earlyStopping.bestEpoch!, bestValue: earlyStopping.bestValue!))
            sinceEvaluation = []
        }
        do {
            return (try earlyStopping.chosenModel(), epochs)
        } catch {
            preconditionFailure("the loop ends only when early stopping has stopped: \(error)")
        }
    }
}
