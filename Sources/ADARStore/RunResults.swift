import Foundation

/// What `RunStore.begin` found for a spec, and so what the caller does next.
public enum RunStart: Equatable, Sendable {
    /// No run had this spec: train it under this id.
    case started(RunID)
    /// A run with this spec was left unfinished (its process stopped) or had failed and
    /// `redoFailed` was asked: it and its evaluations were deleted; train afresh under this id.
    case restarted(RunID, replacing: AbandonedRun)
    /// The spec was run to the end before: its result, not redone.
    case alreadyFinished(FinishedRun)
    /// The spec failed before (e.g. diverged): a result too, not redone unless asked.
    case alreadyFailed(FailedRun)
}

/// The run that `begin` deleted to start its spec afresh.
public struct AbandonedRun: Equatable, Sendable {
    public let id: RunID
    /// `running` (left by a stopped process) or `failed` (redone on request).
    public let status: RunStatus
    public let codeVersion: String
    public let startedAt: Date
    /// How many evaluations were deleted with it.
    public let evaluationCount: Int
}

/// A run that reached `finish`: the result the report reads.
public struct FinishedRun: Equatable, Sendable {
    public let id: RunID
    public let spec: RunSpec
    public let codeVersion: String
    public let startedAt: Date
    public let finishedAt: Date
    /// The epoch chosen on validation; `testMetrics` are this epoch's.
    public let bestEpoch: Int
    public let testMetrics: [String: Double]
    /// The metrics of the validation evaluation at `bestEpoch` (empty if the run had no validation split).
    public let bestValidationMetrics: [String: Double]
    /// Wall-clock seconds of the run, as the caller measured them.
    public let seconds: Double
    /// Whatever else the caller summarised (epochs trained, mean loss, …).
    public let summary: [String: Double]
}

/// A run that reached `fail`: a diverged run is a result too.
public struct FailedRun: Equatable, Sendable {
    public let id: RunID
    public let spec: RunSpec
    public let codeVersion: String
    public let startedAt: Date
    public let failedAt: Date
    public let reason: String
}

/// One point of a run's curve.
public struct Evaluation: Equatable, Sendable {
    public let epoch: Int
    public let split: EvaluationSplit
    public let metrics: [String: Double]
    /// Other per-evaluation numbers: ADAR status shares, mean loss, seconds, …
    public let extra: [String: Double]
    public let recordedAt: Date
}
