/// Every way the run store refuses a call. A refused call writes nothing: each
/// write is one transaction, and every check runs before or inside it.
public enum RunStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database file could not be created or opened.
    case cannotOpen(path: String, reason: String)
    /// Another process (or another `RunStore` in this one) writes to the store.
    case inUse(path: String, lockPath: String, holder: String)
    /// The store was opened read-only and a call tried to write.
    case readOnly(path: String)
    /// The file was written by a newer version of the store, or (read-only) by an older one.
    case schemaMismatch(path: String, reason: String)
    /// A database error while reading or writing (disk full, I/O error, …).
    case database(path: String, operation: String, detail: String)
    /// A run spec field is empty or padded with white space.
    case invalidSpec(field: String, reason: String)
    /// A configuration value JSON cannot spell, or a configuration text that does not parse.
    case invalidConfiguration(key: String, reason: String)
    /// A NaN or ±∞ among the values of a write: a diverged run must be `fail`ed.
    case nonFinite(operation: String, field: String, name: String, value: Double)
    /// Some other argument outside its domain (negative epoch, empty reason, …).
    case invalidArgument(operation: String, field: String, reason: String)
    /// No run with this id in the store (it may have been redone under a new id).
    case unknownRun(path: String, run: RunID)
    /// The run is not `running`, so it takes no more evaluations and cannot end again.
    case notRunning(run: RunID, status: RunStatus)
    /// `begin` on a spec this very store has running: the caller began it twice.
    case alreadyRunning(run: RunID, spec: String)
    /// This run already has an evaluation of this split at this epoch.
    case duplicateEvaluation(run: RunID, epoch: Int, split: EvaluationSplit)
    /// `finish`'s best epoch is not an epoch with a validation evaluation.
    case bestEpochNotEvaluated(run: RunID, bestEpoch: Int, validationEpochs: [Int])
    /// A tuning run asked to read the test split (issue 9: chosen on validation only).
    case testSplitInTuning(run: RunID, operation: String)
    /// The summary could not be written.
    case exportFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "\(path): cannot open the run store: \(reason)"
        case let .inUse(path, lockPath, holder):
            return "\(path): the run store is in use by \(holder) (it holds \(lockPath)); "
                + "wait for it to finish, open the store read-only, or use another store"
        case let .readOnly(path):
            return "\(path): the run store was opened read-only; open it read-write to record runs"
        case let .schemaMismatch(path, reason):
            return "\(path): \(reason)"
        case let .database(path, operation, detail):
            return "\(path): \(operation) failed: \(detail); nothing of it was written"
        case let .invalidSpec(field, reason):
            return "run spec field \(field): \(reason)"
        case let .invalidConfiguration(key, reason):
            return key.isEmpty ? "configuration: \(reason)" : "configuration key \"\(key)\": \(reason)"
        case let .nonFinite(operation, field, name, value):
            return "\(operation): \(field) \"\(name)\" is \(value), not finite; nothing was recorded "
                + "(a diverged run must be recorded with fail(_:reason:))"
        case let .invalidArgument(operation, field, reason):
            return "\(operation): \(field) \(reason); nothing was recorded"
        case let .unknownRun(path, run):
            return "\(path): there is no \(run) (a half-finished run is redone under a new id)"
        case let .notRunning(run, status):
            return "\(run) is \(status.rawValue), not running: it takes no more evaluations and cannot end again"
        case let .alreadyRunning(run, spec):
            return "\(run) (\(spec)) was begun by this store and is still running; finish or fail it first"
        case let .duplicateEvaluation(run, epoch, split):
            return "\(run) already has a \(split.rawValue) evaluation at epoch \(epoch); nothing was recorded"
        case let .bestEpochNotEvaluated(run, bestEpoch, validationEpochs):
            return "\(run): best epoch \(bestEpoch) has no validation evaluation (validation epochs: "
                + "\(validationEpochs.map(String.init).joined(separator: ", "))); the run was not finished"
        case let .testSplitInTuning(run, operation):
            return "\(operation): \(run) is a tuning run, and tuning never reads the test split "
                + "(configurations are chosen on validation only); nothing was recorded"
        case let .exportFailed(path, reason):
            return "\(path): cannot write the summary: \(reason); the previous file, if any, is unchanged"
        }
    }
}
