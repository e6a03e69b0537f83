import Foundation
import ADARCore
import ADARData
import ADARTraining
import ADAREvaluation

/// One run under the evaluation protocol (docs/PROTOCOL.md "Early stopping"):
/// train, evaluate the **validation** split every k epochs, stop on
/// `EarlyStopping`, keep a copy of the parameters at each new best, and — for a
/// final run only — put the best copy back and evaluate the test split once,
/// unsealed with the run's own `ChosenModel`.
///
/// The training data's `test` lists are never read here: the test targets come
/// only from the `SealedTestSplit` passed to `run(test:)`.
public struct ProtocolRun {
    public let data: ImplicitFeedback
    public let configuration: TrainingConfiguration
    public let seed: UInt64
    public let stopping: EarlyStoppingSettings
    public let threads: Int

    /// The cutoffs of every evaluation; the store's metric names are `recall@K`, `ndcg@K`.
    public static let cutoffs = [10, 20]
    /// What early stopping and selection maximise.
    public static let selectionMetric = "ndcg@20"

    public init(data: ImplicitFeedback, configuration: TrainingConfiguration, seed: UInt64,
                stopping: EarlyStoppingSettings, threads: Int) {
        self.data = data
        self.configuration = configuration
        self.seed = seed
        self.stopping = stopping
        self.threads = threads
    }

    /// Trains until early stopping says stop. `test` nil (tuning): the test split
    /// is not evaluated. `test` given (final run): it is unsealed once, after the
    /// stop, for the best validation epoch's parameters.
    ///
    /// Throws `TrainingError.diverged` for a NaN or ±∞ loss, embedding, score or
    /// validation value; errors of `onEvaluation` (e.g. the store's) pass through.
    public func run(
        test: SealedTestSplit?, onEvaluation: (ValidationReport) throws -> Void = { _ in }
    ) throws -> ProtocolRunOutcome {
        let trainer = try Trainer(data: data, configuration: configuration, seed: seed)
        let validation = data.rankingTask(.validation)
        var bestParameters = trainer.parameters
        var evaluations: [ValidationReport] = []
        let (chosen, epochs) = try EarlyStoppedTraining.run(
            stopping, trainEpoch: { epoch in try trainer.trainEpoch(epoch, threads: threads) },
            validate: { epoch in
                let (metrics, seconds) = try trainer.checkedEvaluation(validation, epoch: epoch, cutoffs: Self.cutoffs, threads: threads)
                return ((metrics, seconds), metrics.ndcg(at: 20))
            },
            keepBest: { bestParameters = trainer.parameters }
        ) { step in
            let report = ValidationReport(
                epoch: step.epoch, maxEpochs: stopping.maxEpochs, metrics: step.metrics.0, epochs: step.epochs,
                evaluationSeconds: step.metrics.1, decision: step.decision, bestEpoch: step.bestEpoch, bestValue: step.bestValue)
            evaluations.append(report)
            try onEvaluation(report)
        }
        var testMetrics: RankingMetrics?
        if let test {
            trainer.parameters = bestParameters
            let task = data.testTask(targets: test.unseal(for: chosen))
            testMetrics = try trainer.checkedEvaluation(task, epoch: chosen.bestEpoch, cutoffs: Self.cutoffs, threads: threads).metrics
        }
        return ProtocolRunOutcome(chosen: chosen, evaluations: evaluations, epochs: epochs,
                                  bestParameters: bestParameters, testMetrics: testMetrics)
    }
}

/// One validation evaluation of a protocol run, with the epochs trained since the previous one.
public struct ValidationReport: Sendable {
    public let epoch: Int
    public let maxEpochs: Int
    public let metrics: RankingMetrics
    /// The epochs trained since the previous evaluation.
    public let epochs: [EpochStatistics]
    public let evaluationSeconds: Double
    public let decision: Decision
    /// The best validation epoch and NDCG@20 so far (this one included).
    public let bestEpoch: Int
    public let bestValue: Double

    /// The mean loss of those epochs, weighted by their rows.
    public var meanLoss: Double { RunStatistics.meanLoss(epochs) }
    public var trainingSeconds: Double { epochs.reduce(0) { $0 + $1.seconds } }

    /// What the store records: the metrics, and the extras (mean loss, seconds, ADAR's status shares,
    /// and ADAR's S9 statistics: `ADARStatistics.storeExtra`).
    public var storeMetrics: [String: Double] { RunStatistics.storeMetrics(metrics) }
    public var storeExtra: [String: Double] { RunStatistics.evaluationExtra(epochs, evaluationSeconds: evaluationSeconds) }

    /// One line for the progress output: the epoch, the loss and time since the previous evaluation,
    /// validation Recall@20 and NDCG@20, the best epoch so far (`*` when this one), ADAR's status mix, the stop.
    public func progressLine(label: String) -> String {
        let report = self
        let width = String(report.maxEpochs).count
        var line = "\(label): epoch " + String(repeating: " ", count: max(0, width - String(report.epoch).count))
            + "\(report.epoch)/\(report.maxEpochs)"
        line += String(format: "  loss %.4f  %.1f s  val R@20 %.4f  N@20 %.4f  best %d",
                       report.meanLoss, report.trainingSeconds + report.evaluationSeconds,
                       report.metrics.recall(at: 20), report.metrics.ndcg(at: 20), report.bestEpoch)
        if report.decision.isNewBest { line += " *" }
        let shares = RunStatistics.statusShares(report.epochs)
        if !shares.isEmpty {
            line += "  " + shares.filter { $0.1 > 0 }.map { String(format: "%@ %.1f%%", $0.0.rawValue, 100 * $0.1) }
                .joined(separator: " ")
        }
        if let adar = ADARStatistics(report.epochs) { line += adar.progressText }
        if let reason = report.decision.stopReason { line += "  (stop: \(reason.rawValue))" }
        return line
    }
}

/// What a protocol run produced.
public struct ProtocolRunOutcome: Sendable {
    public let chosen: ChosenModel
    public let evaluations: [ValidationReport]
    public let epochs: [EpochStatistics]
    /// The parameters of the best validation epoch (the model that was tested).
    public let bestParameters: [Float]
    /// The test metrics of the best epoch's model; nil for a tuning run.
    public let testMetrics: RankingMetrics?

    /// One report per epoch trained, with the validation metrics of the evaluated ones.
    public var history: [EpochReport] {
        let evaluated = Dictionary(uniqueKeysWithValues: evaluations.map { ($0.epoch, $0) })
        return epochs.map { statistics in
            EpochReport(epoch: statistics.epoch, statistics: statistics, metrics: evaluated[statistics.epoch]?.metrics,
                        evaluationSeconds: evaluated[statistics.epoch]?.evaluationSeconds ?? 0)
        }
    }

    /// The run's summary for the store: epochs trained, best validation NDCG@20,
    /// the stop reason, training and evaluation seconds, and ADAR's status mix over every row.
    public var summary: [String: Double] {
        RunStatistics.summary(chosen, epochs: epochs, evaluationSeconds: evaluations.reduce(0) { $0 + $1.evaluationSeconds },
                              bestValidationKey: "bestValidationNDCG@20")
    }
}

enum RunStatistics {
    static func storeMetrics(_ metrics: RankingMetrics) -> [String: Double] {
        var values: [String: Double] = [:]
        for k in metrics.cutoffs {
            values["recall@\(k)"] = metrics.recall(at: k)
            values["ndcg@\(k)"] = metrics.ndcg(at: k)
        }
        return values
    }

    /// A sequential evaluation's store names (`hr@K`, `ndcg@K`; HR@K is Recall@K with one held-out item), after `prefix`.
    static func sequentialMetrics(_ metrics: RankingMetrics, prefix: String = "") -> [String: Double] {
        var values: [String: Double] = [:]
        for k in metrics.cutoffs {
            values["\(prefix)hr@\(k)"] = metrics.recall(at: k)
            values["\(prefix)ndcg@\(k)"] = metrics.ndcg(at: k)
        }
        return values
    }

    /// An evaluation's extras in the store: the mean loss and seconds since the previous one, ADAR's status
    /// shares and S9 statistics.
    static func evaluationExtra(_ epochs: [EpochStatistics], evaluationSeconds: Double) -> [String: Double] {
        var extra = ["meanLoss": meanLoss(epochs), "trainingSeconds": epochs.reduce(0) { $0 + $1.seconds },
                     "evaluationSeconds": evaluationSeconds]
        for (status, share) in statusShares(epochs) { extra["share.\(status.rawValue)"] = share }
        if let adar = ADARStatistics(epochs) { extra.merge(adar.storeExtra) { $1 } }
        return extra
    }

    /// A run's summary in the store: epochs trained, the best validation value (under `bestValidationKey`),
    /// the stop reason, the mean loss, training and evaluation seconds, and ADAR's status mix over every row.
    static func summary(_ chosen: ChosenModel, epochs: [EpochStatistics], evaluationSeconds: Double,
                        bestValidationKey: String) -> [String: Double] {
        var summary: [String: Double] = [
            "epochs": Double(chosen.stoppedAfterEpoch),
            bestValidationKey: chosen.bestValidation,
            "stoppedByPatience": chosen.stopReason == .patienceExhausted ? 1 : 0,
            "meanLoss": meanLoss(epochs),
            "trainingSeconds": epochs.reduce(0) { $0 + $1.seconds },
            "evaluationSeconds": evaluationSeconds,
        ]
        for (status, share) in statusShares(epochs) { summary["share.\(status.rawValue)"] = share }
        return summary
    }

    static func meanLoss(_ epochs: [EpochStatistics]) -> Double {
        let rows = epochs.reduce(0) { $0 + $1.rows }
        return epochs.reduce(0) { $0 + $1.meanLoss * Double($1.rows) } / Double(max(rows, 1))
    }

    /// ADAR's S5 statuses as shares of the rows; empty for the other samplers.
    static func statusShares(_ epochs: [EpochStatistics]) -> [(RowStatus, Double)] {
        let counted = epochs.filter { !$0.statusCounts.isEmpty }
        guard !counted.isEmpty else { return [] }
        let rows = Double(counted.reduce(0) { $0 + $1.rows })
        return RowStatus.allCases.map { status in
            (status, Double(counted.reduce(0) { $0 + ($1.statusCounts[status] ?? 0) }) / rows)
        }
    }
}

/// ADAR's S9 statistics pooled over the epochs since the previous evaluation, as
/// `meanLoss` is: sums over every row of those epochs. `Z` is formed from the
/// pooled sums (`Σ(Y − π)/√Σπ(1 − π)`, still ≈ N(0, 1) under calibration), `χ²`
/// and its degrees of freedom are the sums of the epochs' (independent π-decile
/// statistics given the scores). Nil when no epoch has ADAR statistics.
public struct ADARStatistics: Sendable {
    public let calibrationRows: Int
    public let calibrationZ: Double, chiSquare: Double, degreesOfFreedom: Int
    /// The share of `Y = 1` and the mean forward `π` over the calibration rows.
    public let share: Double, meanRetention: Double
    /// The mean S5 timestep of the `transition` and `saturated` rows.
    public let meanTimestep: Double
    /// Under `denoised` only: τ's mean `L_τ` per row, denoised rows, rows the `r_max` guard sent
    /// to `forward`, and the mean `‖x̂_0 − x_0‖` over the denoised rows (NaN without any).
    public let tauLoss: Double?, denoisedRows: Int?, rMaxForwardRows: Int?, meanDenoisedDistance: Double?

    public init?(_ epochs: [EpochStatistics]) {
        let adar = epochs.compactMap { epoch in epoch.adar.map { (epoch.rows, $0) } }
        guard !adar.isEmpty else { return nil }
        let calibrations = adar.map(\.1.calibration)
        calibrationRows = calibrations.reduce(0) { $0 + $1.rows }
        let successes = Double(calibrations.reduce(0) { $0 + $1.successes })
        let expected = calibrations.reduce(0) { $0 + $1.expectedSuccesses }
        let variance = calibrations.reduce(0) { $0 + $1.variance }
        calibrationZ = variance > 0 ? (successes - expected) / variance.squareRoot() : .nan
        chiSquare = calibrations.reduce(0) { $0 + $1.chiSquare }
        degreesOfFreedom = calibrations.reduce(0) { $0 + $1.degreesOfFreedom }
        share = calibrationRows > 0 ? successes / Double(calibrationRows) : .nan
        meanRetention = calibrationRows > 0 ? expected / Double(calibrationRows) : .nan
        let timestepSum = adar.reduce(0.0) { $0 + ($1.1.meanTimestep.isNaN ? 0 : $1.1.meanTimestep * Double($1.1.calibration.rows)) }
        meanTimestep = calibrationRows > 0 ? timestepSum / Double(calibrationRows) : .nan
        let tau = adar.compactMap { rows, statistics in statistics.tau.map { (rows, $0) } }
        if tau.isEmpty {
            tauLoss = nil; denoisedRows = nil; rMaxForwardRows = nil; meanDenoisedDistance = nil
        } else {
            let rows = tau.reduce(0) { $0 + $1.0 }
            tauLoss = tau.reduce(0) { $0 + $1.1.meanLoss * Double($1.0) } / Double(max(rows, 1))
            let denoised = tau.reduce(0) { $0 + $1.1.denoisedRows }
            denoisedRows = denoised
            rMaxForwardRows = tau.reduce(0) { $0 + $1.1.rMaxForwardRows }
            let distanceSum = tau.reduce(0.0) { $0 + ($1.1.denoisedRows > 0 ? $1.1.meanDenoisedDistance * Double($1.1.denoisedRows) : 0) }
            meanDenoisedDistance = denoised > 0 ? distanceSum / Double(denoised) : .nan
        }
    }

    /// The progress lines' part (CF and SASRec): τ's loss under `denoised`, the calibration `Z`, the share of `Y = 1` and the mean `π`.
    public var progressText: String {
        (tauLoss.map { String(format: "  τ loss %.4f", $0) } ?? "")
            + String(format: "  Z %.2f  Y=1 %.3f (π̄ %.3f)", calibrationZ, share, meanRetention)
    }

    /// The store's extras: `calibration.rows`, `calibration.z`, `calibration.chiSquare`,
    /// `calibration.degreesOfFreedom`, `calibration.share`, `calibration.meanRetention`,
    /// `adar.meanTimestep`, and under `denoised` `tau.loss`, `denoised.rows`,
    /// `denoised.rMaxForwardRows`, `denoised.meanDistance`. A value with no rows
    /// behind it (NaN) is left out: the store holds finite numbers only.
    public var storeExtra: [String: Double] {
        var values: [String: Double?] = [
            "calibration.rows": Double(calibrationRows), "calibration.z": calibrationZ, "calibration.chiSquare": chiSquare,
            "calibration.degreesOfFreedom": Double(degreesOfFreedom), "calibration.share": share,
            "calibration.meanRetention": meanRetention, "adar.meanTimestep": meanTimestep,
            "tau.loss": tauLoss, "denoised.rows": denoisedRows.map(Double.init),
            "denoised.rMaxForwardRows": rMaxForwardRows.map(Double.init), "denoised.meanDistance": meanDenoisedDistance,
        ]
        values = values.filter { $0.value?.isFinite == true }
        return values.compactMapValues { $0 }
    }
}
