/// Early stopping on a validation metric where higher is better (NDCG@20 in
/// the protocol, docs/PROTOCOL.md "Early stopping").
///
/// Epochs count from 1 (epoch `e` has just finished). The model is evaluated on
/// the validation split at every multiple of `evaluateEvery` and at `maxEpochs`
/// (so the last epoch trained is always evaluated). An evaluation *improves*
/// when its value is strictly greater than the best so far; a tie does not, so
/// the earliest of equal values stays the best. Training stops at the
/// evaluation that makes `patience` consecutive evaluations without
/// improvement, or at `maxEpochs`, whichever comes first.
///
/// `ChosenModel` — the proof a `SealedTestSplit` asks for — exists only once
/// the run has stopped.
public struct EarlyStopping: Sendable {
    public let settings: EarlyStoppingSettings
    public private(set) var bestEpoch: Int?
    public private(set) var bestValue: Double?
    /// The epoch of the latest recorded evaluation (0 before the first).
    public private(set) var lastEvaluatedEpoch = 0
    /// Consecutive evaluations since the best one, none of them strictly better.
    public private(set) var evaluationsWithoutImprovement = 0
    /// Why the run stopped; nil while it continues.
    public private(set) var stopReason: StopReason?

    public init(_ settings: EarlyStoppingSettings) { self.settings = settings }

    public var hasStopped: Bool { stopReason != nil }

    /// The epoch after which the next evaluation is due (nil once stopped).
    public var nextEvaluationEpoch: Int? {
        guard !hasStopped else { return nil }
        return settings.evaluationEpoch(after: lastEvaluatedEpoch)
    }

    /// Records the validation value measured after `epoch`, which must be
    /// `nextEvaluationEpoch`. On an error nothing is recorded.
    public mutating func record(epoch: Int, validation: Double) throws(EarlyStoppingError) -> Decision {
        if let stopReason { throw .alreadyStopped(epoch: epoch, reason: stopReason) }
        let expected = settings.evaluationEpoch(after: lastEvaluatedEpoch)
        guard epoch == expected else { throw .unexpectedEpoch(epoch: epoch, expected: expected) }
        guard validation.isFinite else { throw .nonFiniteValidation(epoch: epoch, value: validation) }

        lastEvaluatedEpoch = epoch
        let improved = bestValue.map { validation > $0 } ?? true
        if improved {
            bestEpoch = epoch
            bestValue = validation
            evaluationsWithoutImprovement = 0
        } else {
            evaluationsWithoutImprovement += 1
        }
        // Patience is reported first when both apply at the same evaluation.
        if evaluationsWithoutImprovement >= settings.patience {
            stopReason = .patienceExhausted
        } else if epoch == settings.maxEpochs {
            stopReason = .maxEpochsReached
        }
        return Decision(isNewBest: improved, stopReason: stopReason)
    }

    /// The proof that this run has stopped and which epoch it chose.
    public func chosenModel() throws(EarlyStoppingError) -> ChosenModel {
        guard let stopReason, let bestEpoch, let bestValue else {
            throw .notStopped(lastEvaluatedEpoch: lastEvaluatedEpoch)
        }
        return ChosenModel(
            bestEpoch: bestEpoch, bestValidation: bestValue, stoppedAfterEpoch: lastEvaluatedEpoch, stopReason: stopReason)
    }
}

/// `evaluateEvery` (k), `patience` (P) and `maxEpochs`, validated on construction.
public struct EarlyStoppingSettings: Equatable, Hashable, Sendable {
    public let evaluateEvery: Int
    public let patience: Int
    public let maxEpochs: Int

    public init(evaluateEvery: Int, patience: Int, maxEpochs: Int) throws(EarlyStoppingError) {
        for (field, value) in [("evaluateEvery", evaluateEvery), ("patience", patience), ("maxEpochs", maxEpochs)]
        where value < 1 {
            throw .invalidSettings(field: field, reason: "\(value) must be at least 1")
        }
        self.evaluateEvery = evaluateEvery
        self.patience = patience
        self.maxEpochs = maxEpochs
    }

    /// The first evaluation epoch after `epoch`: the next multiple of k, or
    /// `maxEpochs` if that comes first.
    func evaluationEpoch(after epoch: Int) -> Int {
        min((epoch / evaluateEvery + 1) * evaluateEvery, maxEpochs)
    }
}

/// Why a run stopped.
public enum StopReason: String, Equatable, Sendable {
    /// `patience` consecutive evaluations without strict improvement.
    case patienceExhausted
    /// The evaluation at `maxEpochs`.
    case maxEpochsReached
}

/// What the trainer does after an evaluation.
public struct Decision: Equatable, Sendable {
    /// The value just recorded is the new best: keep (snapshot) this model.
    public let isNewBest: Bool
    /// Nil: train on. Otherwise stop and report the best epoch's model.
    public let stopReason: StopReason?

    public var shouldStop: Bool { stopReason != nil }
}

/// The epoch a stopped run chose on validation. Only `EarlyStopping.chosenModel()`
/// makes one (its initialiser is private to EarlyStopping.swift), after the run
/// has stopped; `SealedTestSplit` asks for one before it hands out the test items.
public struct ChosenModel: Equatable, Sendable {
    public let bestEpoch: Int
    public let bestValidation: Double
    public let stoppedAfterEpoch: Int
    public let stopReason: StopReason

    fileprivate init(bestEpoch: Int, bestValidation: Double, stoppedAfterEpoch: Int, stopReason: StopReason) {
        self.bestEpoch = bestEpoch
        self.bestValidation = bestValidation
        self.stoppedAfterEpoch = stoppedAfterEpoch
        self.stopReason = stopReason
    }
}

public enum EarlyStoppingError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidSettings(field: String, reason: String)
    case nonFiniteValidation(epoch: Int, value: Double)
    case unexpectedEpoch(epoch: Int, expected: Int)
    case alreadyStopped(epoch: Int, reason: StopReason)
    case notStopped(lastEvaluatedEpoch: Int)

    public var description: String {
        switch self {
        case let .invalidSettings(field, reason):
            "invalid early-stopping setting \(field): \(reason)"
        case let .nonFiniteValidation(epoch, value):
            "validation metric after epoch \(epoch) is \(value), not a finite number: the run diverged; "
                + "record it as a failed run instead of choosing an epoch"
        case let .unexpectedEpoch(epoch, expected):
            "evaluation recorded after epoch \(epoch), but the next evaluation is due after epoch \(expected)"
        case let .alreadyStopped(epoch, reason):
            "evaluation after epoch \(epoch) recorded after the run stopped (\(reason.rawValue))"
        case let .notStopped(lastEvaluatedEpoch):
            "no model is chosen yet: the run has not stopped (last evaluation after epoch \(lastEvaluatedEpoch))"
        }
    }
}
