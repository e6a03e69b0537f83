import Foundation
import GRDB

/// The SQLite store of tuning, final and demo runs (docs/STORE.md).
///
/// Every write is one transaction, so a process killed at any instant leaves
/// each run either absent, `running` with whole evaluations, `finished` or
/// `failed`; `begin` redoes a `running` run it finds. One writer at a time
/// (`StoreLock`); any number of read-only readers.
public final class RunStore: Sendable {
    public enum Access: Sendable {
        /// Creates the file (and its folders) if missing, upgrades its schema, takes the writer's lock.
        case readWrite
        /// Reads an existing, up-to-date store; takes no lock, so it can read while a sweep writes.
        case readOnly
    }

    /// The database file, or `:memory:`.
    public let path: String
    private let database: any DatabaseWriter
    /// Held, never read: the writer's lock lives exactly as long as the store.
    private let lock: StoreLock?
    /// Marks the runs this instance began; nil when read-only.
    private let writerSession: String?

    private init(path: String, database: any DatabaseWriter, lock: StoreLock?, writerSession: String?) {
        self.path = path
        self.database = database
        self.lock = lock
        self.writerSession = writerSession
    }

    /// Opens or creates the store at `path` (e.g. `results/runs.sqlite`) in WAL mode.
    public convenience init(path: String, access: Access = .readWrite) throws(RunStoreError) {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue {
            throw .cannotOpen(path: path, reason: "it is a directory; give the path of a file")
        }
        switch access {
        case .readWrite:
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .cannotOpen(path: path, reason: "cannot create its folder \(folder.path): \(error.localizedDescription)")
            }
            let lock = try StoreLock(storePath: path)
            var configuration = Configuration()
            // Readers may hold the WAL briefly; wait for them rather than fail.
            configuration.busyMode = .timeout(10)
            let database: DatabasePool
            do {
                database = try DatabasePool(path: path, configuration: configuration)
                try Self.migrate(database, path: path)
            } catch let error as RunStoreError {
                throw error
            } catch {
                throw .cannotOpen(path: path, reason: Self.explain(error))
            }
            self.init(path: path, database: database, lock: lock, writerSession: UUID().uuidString)
        case .readOnly:
            guard exists else {
                throw .cannotOpen(path: path, reason: "no such file")
            }
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            let database: DatabaseQueue
            do {
                database = try DatabaseQueue(path: path, configuration: configuration)
                let (completed, superseded) = try database.read { db in
                    (try StoreSchema.migrator.hasCompletedMigrations(db), try StoreSchema.migrator.hasBeenSuperseded(db))
                }
                if superseded {
                    throw RunStoreError.schemaMismatch(path: path, reason: Self.newerSchema)
                }
                if !completed {
                    throw RunStoreError.schemaMismatch(
                        path: path,
                        reason: "not an up-to-date run store (made by an older version, or not a run store); "
                            + "open it read-write once to upgrade it"
                    )
                }
            } catch let error as RunStoreError {
                throw error
            } catch {
                throw .cannotOpen(path: path, reason: Self.explain(error))
            }
            self.init(path: path, database: database, lock: nil, writerSession: nil)
        }
    }

    /// A store in memory, gone when the instance is: for tests.
    public static func inMemory() throws(RunStoreError) -> RunStore {
        do {
            let database = try DatabaseQueue()
            try migrate(database, path: ":memory:")
            return RunStore(path: ":memory:", database: database, lock: nil, writerSession: UUID().uuidString)
        } catch let error as RunStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: ":memory:", reason: explain(error))
        }
    }

    private static let newerSchema = "written by a newer version of the run store (its schema has migrations this build "
        + "does not know); use that version or a newer one"

    private static func migrate(_ database: some DatabaseWriter, path: String) throws {
        let (superseded, foreign) = try database.read { db in
            let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            let isRunStore = try db.tableExists("grdb_migrations")
            return (try StoreSchema.migrator.hasBeenSuperseded(db), tables > 0 && !isRunStore)
        }
        if superseded {
            throw RunStoreError.schemaMismatch(path: path, reason: newerSchema)
        }
        if foreign {
            throw RunStoreError.cannotOpen(
                path: path, reason: "it is an SQLite database but not a run store; choose another path"
            )
        }
        try StoreSchema.migrator.migrate(database)
    }

    private static func explain(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.message ?? "\(error.resultCode)") (SQLite error \(error.extendedResultCode.rawValue))"
        }
        return "\(error)"
    }

    // MARK: Transactions

    private func write<T>(_ operation: String, _ updates: (Database) throws -> T) throws(RunStoreError) -> T {
        guard writerSession != nil else {
            throw .readOnly(path: path)
        }
        do {
            return try database.write(updates)
        } catch let error as RunStoreError {
            throw error
        } catch {
            throw .database(path: path, operation: operation, detail: Self.explain(error))
        }
    }

    private func read<T>(_ operation: String, _ value: (Database) throws -> T) throws(RunStoreError) -> T {
        do {
            return try database.read(value)
        } catch let error as RunStoreError {
            throw error
        } catch {
            throw .database(path: path, operation: operation, detail: Self.explain(error))
        }
    }

    // MARK: Writing runs

    /// Looks the spec up and says what to do: train it (`started`, or `restarted` after
    /// deleting a half-finished run and its evaluations, or a failed one when
    /// `redoFailed`), or not (`alreadyFinished`, `alreadyFailed`). One transaction.
    public func begin(_ spec: RunSpec, codeVersion: String, redoFailed: Bool = false) throws(RunStoreError) -> RunStart {
        let operation = "begin(\(spec))"
        guard !codeVersion.isEmpty else {
            throw .invalidArgument(operation: operation, field: "codeVersion", reason: "is empty")
        }
        let session = writerSession
        return try write(operation) { db in
            func insertRun() throws -> RunID {
                var row = RunRow(starting: spec, codeVersion: codeVersion, writerSession: session!, at: Date())
                try row.insert(db)
                return row.runID
            }
            guard let existing = try RunRow.matching(spec).fetchOne(db) else {
                return .started(try insertRun())
            }
            switch existing.status {
            case .finished:
                return .alreadyFinished(try Self.finishedRun(existing, db))
            case .failed where !redoFailed:
                return .alreadyFailed(try Self.failedRun(existing))
            case .running where existing.writerSession == session:
                throw RunStoreError.alreadyRunning(run: existing.runID, spec: spec.description)
            case .running, .failed:
                let evaluationCount = try EvaluationRow.filter(EvaluationRow.Columns.runId == existing.id).fetchCount(db)
                let abandoned = AbandonedRun(
                    id: existing.runID, status: existing.status, codeVersion: existing.codeVersion,
                    startedAt: existing.startedAt, evaluationCount: evaluationCount
                )
                try existing.delete(db)  // its evaluations go with it (ON DELETE CASCADE)
                return .restarted(try insertRun(), replacing: abandoned)
            }
        }
    }

    /// Records one evaluation of a running run. Refuses NaN and ±∞ among the
    /// metrics and extras (nothing is written), a second evaluation of the same
    /// split and epoch, and the test split in a tuning run. One transaction.
    public func recordEvaluation(
        _ run: RunID, epoch: Int, split: EvaluationSplit, metrics: [String: Double], extra: [String: Double] = [:]
    ) throws(RunStoreError) {
        let operation = "recordEvaluation(\(run), epoch \(epoch), \(split.rawValue))"
        guard epoch >= 0 else {
            throw .invalidArgument(operation: operation, field: "epoch", reason: "is \(epoch); epochs are 0 or more")
        }
        guard !metrics.isEmpty else {
            throw .invalidArgument(operation: operation, field: "metrics", reason: "are empty")
        }
        try Self.check(metrics, field: "metric", operation: operation)
        try Self.check(extra, field: "extra value", operation: operation)
        try write(operation) { db in
            let row = try self.runningRow(run, db)
            if row.phase == .tune && split == .test {
                throw RunStoreError.testSplitInTuning(run: run, operation: operation)
            }
            let recorded = try EvaluationRow.filter(
                EvaluationRow.Columns.runId == run.rawValue && EvaluationRow.Columns.epoch == epoch
                    && EvaluationRow.Columns.split == split.rawValue
            ).fetchCount(db)
            if recorded > 0 {
                throw RunStoreError.duplicateEvaluation(run: run, epoch: epoch, split: split)
            }
            var evaluation = EvaluationRow(
                runId: run.rawValue, epoch: epoch, split: split, metrics: metrics, extra: extra, recordedAt: Date()
            )
            try evaluation.insert(db)
        }
    }

    /// Ends a running run with its result. `bestEpoch` must be an epoch with a
    /// validation evaluation when the run has any; a tuning run reports no test
    /// metrics, any other run some. Non-finite values are refused: a diverged
    /// run is `fail`ed. One transaction.
    public func finish(
        _ run: RunID, bestEpoch: Int, testMetrics: [String: Double], seconds: Double, summary: [String: Double] = [:]
    ) throws(RunStoreError) {
        let operation = "finish(\(run))"
        guard bestEpoch >= 0 else {
            throw .invalidArgument(operation: operation, field: "bestEpoch", reason: "is \(bestEpoch); epochs are 0 or more")
        }
        guard seconds.isFinite else {
            throw .nonFinite(operation: operation, field: "argument", name: "seconds", value: seconds)
        }
        guard seconds >= 0 else {
            throw .invalidArgument(operation: operation, field: "seconds", reason: "is \(seconds); durations are 0 or more")
        }
        try Self.check(testMetrics, field: "test metric", operation: operation)
        try Self.check(summary, field: "summary value", operation: operation)
        try write(operation) { db in
            var row = try self.runningRow(run, db)
            if row.phase == .tune && !testMetrics.isEmpty {
                throw RunStoreError.testSplitInTuning(run: run, operation: operation)
            }
            if row.phase != .tune && testMetrics.isEmpty {
                throw RunStoreError.invalidArgument(
                    operation: operation, field: "testMetrics",
                    reason: "are empty; a \(row.phase.rawValue) run reports the test metrics of its best epoch"
                )
            }
            let validationEpochs = try Int.fetchAll(
                db,
                EvaluationRow.select(EvaluationRow.Columns.epoch)
                    .filter(EvaluationRow.Columns.runId == run.rawValue && EvaluationRow.Columns.split == EvaluationSplit.validation.rawValue)
                    .order(EvaluationRow.Columns.epoch)
            )
            if !validationEpochs.isEmpty && !validationEpochs.contains(bestEpoch) {
                throw RunStoreError.bestEpochNotEvaluated(run: run, bestEpoch: bestEpoch, validationEpochs: validationEpochs)
            }
            row.status = .finished
            row.endedAt = Date()
            row.bestEpoch = bestEpoch
            row.testMetrics = testMetrics
            row.seconds = seconds
            row.summary = summary
            try row.update(db)
        }
    }

    /// Ends a running run as failed (diverged, refused by a check, …); it keeps its
    /// evaluations and is not redone by `begin` unless asked. One transaction.
    public func fail(_ run: RunID, reason: String) throws(RunStoreError) {
        let operation = "fail(\(run))"
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .invalidArgument(operation: operation, field: "reason", reason: "is empty; say why the run failed")
        }
        try write(operation) { db in
            var row = try self.runningRow(run, db)
            row.status = .failed
            row.endedAt = Date()
            row.failureReason = reason
            try row.update(db)
        }
    }

    private func runningRow(_ run: RunID, _ db: Database) throws -> RunRow {
        guard let row = try RunRow.fetchOne(db, key: run.rawValue) else {
            throw RunStoreError.unknownRun(path: path, run: run)
        }
        guard row.status == .running else {
            throw RunStoreError.notRunning(run: run, status: row.status)
        }
        return row
    }

    private static func check(_ values: [String: Double], field: String, operation: String) throws(RunStoreError) {
        for name in values.keys.sorted() {
            if name.isEmpty {
                throw .invalidArgument(operation: operation, field: field + " name", reason: "is empty")
            }
            if !values[name]!.isFinite {
                throw .nonFinite(operation: operation, field: field, name: name, value: values[name]!)
            }
        }
    }

    // MARK: Reading runs

    /// The finished runs matching every given field, in spec order (phase, dataset,
    /// backbone, sampler, protocol, configuration, split seed, model seed).
    public func finishedRuns(
        phase: RunPhase? = nil, dataset: String? = nil, backbone: String? = nil, sampler: String? = nil,
        protocol: String? = nil
    ) throws(RunStoreError) -> [FinishedRun] {
        let filter = RunFilter(phase: phase, dataset: dataset, backbone: backbone, sampler: sampler, protocol: `protocol`)
        return try read("finishedRuns") { db in
            try filter.apply(to: RunRow.filter(RunRow.Columns.status == RunStatus.finished.rawValue)).fetchAll(db)
                .map { try Self.finishedRun($0, db) }
                .sorted { RunFilter.precedes($0.spec, $1.spec) }
        }
    }

    /// The failed runs matching every given field, in spec order.
    public func failedRuns(
        phase: RunPhase? = nil, dataset: String? = nil, backbone: String? = nil, sampler: String? = nil,
        protocol: String? = nil
    ) throws(RunStoreError) -> [FailedRun] {
        let filter = RunFilter(phase: phase, dataset: dataset, backbone: backbone, sampler: sampler, protocol: `protocol`)
        return try read("failedRuns") { db in
            try filter.apply(to: RunRow.filter(RunRow.Columns.status == RunStatus.failed.rawValue)).fetchAll(db)
                .map { try Self.failedRun($0) }
                .sorted { RunFilter.precedes($0.spec, $1.spec) }
        }
    }

    /// The samplers of the runs matching every given field, in any status, sorted by name.
    public func samplers(
        phase: RunPhase? = nil, dataset: String? = nil, backbone: String? = nil, protocol: String? = nil
    ) throws(RunStoreError) -> [String] {
        let filter = RunFilter(phase: phase, dataset: dataset, backbone: backbone, sampler: nil, protocol: `protocol`)
        return try read("samplers") { db in
            try Set(String.fetchAll(db, filter.apply(to: RunRow.all()).select(RunRow.Columns.sampler))).sorted()
        }
    }

    /// How many runs matching every given field are in each status (every status present, 0 if none).
    public func statusCounts(
        phase: RunPhase? = nil, dataset: String? = nil, backbone: String? = nil, sampler: String? = nil,
        protocol: String? = nil
    ) throws(RunStoreError) -> [RunStatus: Int] {
        let filter = RunFilter(phase: phase, dataset: dataset, backbone: backbone, sampler: sampler, protocol: `protocol`)
        let statuses = try read("statusCounts") { db in
            try String.fetchAll(db, filter.apply(to: RunRow.all()).select(RunRow.Columns.status))
        }
        var counts = Dictionary(uniqueKeysWithValues: RunStatus.allCases.map { ($0, 0) })
        for status in statuses.compactMap(RunStatus.init(rawValue:)) {
            counts[status, default: 0] += 1
        }
        return counts
    }

    /// A run's evaluations by epoch, validation before test at the same epoch.
    public func evaluations(_ run: RunID) throws(RunStoreError) -> [Evaluation] {
        try read("evaluations(\(run))") { db in
            guard try RunRow.exists(db, key: run.rawValue) else {
                throw RunStoreError.unknownRun(path: path, run: run)
            }
            return try EvaluationRow.filter(EvaluationRow.Columns.runId == run.rawValue).fetchAll(db)
                .map { Evaluation(epoch: $0.epoch, split: $0.split, metrics: $0.metrics, extra: $0.extra, recordedAt: $0.recordedAt) }
                .sorted {
                    ($0.epoch, EvaluationSplit.allCases.firstIndex(of: $0.split)!)
                        < ($1.epoch, EvaluationSplit.allCases.firstIndex(of: $1.split)!)
                }
        }
    }

    private static func finishedRun(_ row: RunRow, _ db: Database) throws -> FinishedRun {
        let bestValidation = try EvaluationRow.filter(
            EvaluationRow.Columns.runId == row.id && EvaluationRow.Columns.epoch == row.bestEpoch
                && EvaluationRow.Columns.split == EvaluationSplit.validation.rawValue
        ).fetchOne(db)
        return FinishedRun(
            id: row.runID, spec: try row.spec(), codeVersion: row.codeVersion, startedAt: row.startedAt,
            finishedAt: row.endedAt!, bestEpoch: row.bestEpoch!, testMetrics: row.testMetrics!,
            bestValidationMetrics: bestValidation?.metrics ?? [:], seconds: row.seconds!, summary: row.summary!
        )
    }

    private static func failedRun(_ row: RunRow) throws -> FailedRun {
        FailedRun(
            id: row.runID, spec: try row.spec(), codeVersion: row.codeVersion, startedAt: row.startedAt,
            failedAt: row.endedAt!, reason: row.failureReason!
        )
    }
}

/// The optional fields the queries filter on, and the order they return runs in.
private struct RunFilter {
    let phase: RunPhase?
    let dataset: String?
    let backbone: String?
    let sampler: String?
    let `protocol`: String?

    func apply(to request: QueryInterfaceRequest<RunRow>) -> QueryInterfaceRequest<RunRow> {
        var request = request
        if let phase { request = request.filter(RunRow.Columns.phase == phase.rawValue) }
        if let dataset { request = request.filter(RunRow.Columns.dataset == dataset) }
        if let backbone { request = request.filter(RunRow.Columns.backbone == backbone) }
        if let sampler { request = request.filter(RunRow.Columns.sampler == sampler) }
        if let `protocol` { request = request.filter(RunRow.Columns.protocol == `protocol`) }
        return request
    }

    /// Spec order, so listings and exports do not depend on the order runs were made in.
    static func precedes(_ a: RunSpec, _ b: RunSpec) -> Bool {
        let phaseIndex = { (spec: RunSpec) in RunPhase.allCases.firstIndex(of: spec.phase)! }
        if phaseIndex(a) != phaseIndex(b) { return phaseIndex(a) < phaseIndex(b) }
        if a.dataset != b.dataset { return a.dataset < b.dataset }
        if a.backbone != b.backbone { return a.backbone < b.backbone }
        if a.sampler != b.sampler { return a.sampler < b.sampler }
        if a.protocol != b.protocol { return a.protocol < b.protocol }
        if a.configuration != b.configuration { return a.configuration.canonicalText < b.configuration.canonicalText }
        if a.splitSeed != b.splitSeed { return a.splitSeed < b.splitSeed }
        return a.modelSeed < b.modelSeed
    }
}
