import ADARCore
import Foundation
import GRDB
import Testing
import ADARStore

/// The run store of issue 9 (docs/STORE.md): schema, uniqueness, resume semantics,
/// refusals, transactions, crash images, export.
@Suite("RunStore")
struct RunStoreTests {
    // MARK: Helpers

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("adar-store-\(UUID().uuidString)", isDirectory: true)
    }

    static let configuration = try! RunConfiguration(["learningRate": 0.001, "dimension": 64, "rho": 0.5, "policy": "noise-fill"])

    static func spec(
        phase: RunPhase = .final, dataset: String = "ml-100k", backbone: String = "mf", sampler: String = "adar",
        configuration: RunConfiguration = RunStoreTests.configuration, splitSeed: UInt64 = 2026, modelSeed: UInt64 = 1,
        protocol: String = "full"
    ) -> RunSpec {
        try! RunSpec(
            phase: phase, dataset: dataset, backbone: backbone, sampler: sampler, configuration: configuration,
            splitSeed: splitSeed, modelSeed: modelSeed, protocol: `protocol`
        )
    }

    static func startedID(_ start: RunStart, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunID {
        guard case let .started(id) = start else {
            Issue.record("expected .started, got \(start)", sourceLocation: sourceLocation)
            throw RunStoreError.readOnly(path: "unexpected begin result")
        }
        return id
    }

    /// Begins `spec` and records validation evaluations at epochs 5, 10, 15 (NDCG@20 peaking at 10).
    static func runWithCurve(_ store: RunStore, _ spec: RunSpec = RunStoreTests.spec()) throws -> RunID {
        let id = try startedID(store.begin(spec, codeVersion: "abc123"))
        for (epoch, ndcg) in [(5, 0.30), (10, 0.35), (15, 0.33)] {
            try store.recordEvaluation(
                id, epoch: epoch, split: .validation, metrics: ["ndcg@20": ndcg, "recall@20": ndcg + 0.1],
                extra: ["meanLoss": 0.5, "seconds": 1.25]
            )
        }
        return id
    }

    // MARK: Canonical configurations

    @Test("numbers are written as RFC 8785 / ECMAScript writes them")
    func canonicalNumbers() throws {
        // Expected strings are ECMAScript's Number::toString of these values (RFC 8785 §3.2.2.3, appendix B).
        let cases: [(Double, String)] = [
            (64, "64"), (-0.0, "0"), (0.001, "0.001"), (0.000001, "0.000001"), (1e-7, "1e-7"),
            (1e21, "1e+21"), (1e20, "100000000000000000000"), (123e20, "1.23e+22"), (0.1 + 0.2, "0.30000000000000004"),
            (.leastNonzeroMagnitude, "5e-324"), (-1.5, "-1.5"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0x1p53, "9007199254740992"), (0x1p64, "18446744073709552000"), (4.5, "4.5"), (333333333.33333329, "333333333.3333333"),
        ]
        for (value, expected) in cases {
            #expect(try RunConfiguration(["x": .number(value)]).canonicalText == "{\"x\":\(expected)}", "value \(value)")
        }
    }

    @Test("the same values give the same text, keys sorted by UTF-16 code units, strings escaped as RFC 8785")
    func canonicalText() throws {
        let a = try RunConfiguration(["b": 1, "a": "x", "c": true, "aa": 2.5])
        let b = try RunConfiguration(["aa": 2.5, "c": true, "a": "x", "b": 1.0])
        #expect(a.canonicalText == #"{"a":"x","aa":2.5,"b":1,"c":true}"#)
        #expect(a == b)
        // By code point U+E000 would come first; by UTF-16 code units U+1F600 (0xD83D 0xDE00) does.
        #expect(try RunConfiguration(["\u{E000}": 2, "\u{1F600}": 1]).canonicalText == "{\"\u{1F600}\":1,\"\u{E000}\":2}")
        #expect(try RunConfiguration(["s": "q\"b\\n\nt\tc\u{1}é"]).canonicalText == #"{"s":"q\"b\\n\nt\tc\u0001é"}"#)
        // A number and a boolean are different configurations.
        #expect(try RunConfiguration(["flag": true]) != RunConfiguration(["flag": 1]))
    }

    @Test("a configuration reads back from its text unchanged")
    func configurationRoundTrip() throws {
        let values: [String: ConfigurationValue] = [
            "lr": 0.001, "tiny": .number(.leastNonzeroMagnitude), "sum": .number(0.1 + 0.2), "big": .number(1e300),
            "neg": -3, "name": "adar \"noise\"", "on": true, "off": false,
        ]
        let configuration = try RunConfiguration(values)
        let read = try RunConfiguration(json: configuration.canonicalText)
        #expect(read.values == values)
        #expect(read.canonicalText == configuration.canonicalText)
        // Non-canonical input is accepted and canonicalised.
        #expect(try RunConfiguration(json: #"{ "b" : 1.0, "a" : 1e-3 }"#).canonicalText == #"{"a":0.001,"b":1}"#)
    }

    @Test("NaN, ±∞, empty keys, nested values and non-objects are refused, naming the key")
    func configurationRefusals() {
        #expect(throws: ConfigurationError(key: "lr", reason: "nan is not finite; JSON has no NaN or infinity")) {
            try RunConfiguration(["lr": .number(.nan), "dimension": 64])
        }
        #expect(throws: ConfigurationError(key: "w", reason: "-inf is not finite; JSON has no NaN or infinity")) {
            try RunConfiguration(["w": .number(-.infinity)])
        }
        #expect(throws: ConfigurationError(key: "", reason: "keys must not be empty")) {
            try RunConfiguration(["": 1])
        }
        #expect(throws: ConfigurationError(key: "adar", reason: #"not a JSON object of numbers, strings and booleans: {"adar":{"rho":0.5}}"#)) {
            try RunConfiguration(json: #"{"adar":{"rho":0.5}}"#)
        }
        #expect(throws: ConfigurationError.self) { try RunConfiguration(json: "[1, 2]") }
        #expect(throws: ConfigurationError.self) { try RunConfiguration(json: #"{"x":null}"#) }
    }

    @Test("a spec with an empty or padded name is refused, naming the field")
    func specRefusals() {
        #expect(throws: RunStoreError.invalidSpec(field: "dataset", reason: "must not be empty")) {
            try RunSpec(phase: .tune, dataset: "", backbone: "mf", sampler: "adar", configuration: Self.configuration,
                        splitSeed: 1, modelSeed: 1, protocol: "full")
        }
        #expect(throws: RunStoreError.invalidSpec(field: "protocol", reason: #""full " has leading or trailing white space"#)) {
            try RunSpec(phase: .tune, dataset: "ml-100k", backbone: "mf", sampler: "adar", configuration: Self.configuration,
                        splitSeed: 1, modelSeed: 1, protocol: "full ")
        }
    }

    // MARK: Opening

    @Test("a new store creates its folders, is in WAL mode, and keeps its runs across reopening")
    func createAndReopen() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("results/deeper/runs.sqlite").path
        do {
            let store = try RunStore(path: path)
            let id = try Self.runWithCurve(store)
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.31], seconds: 12.5, summary: ["epochs": 15])
        }
        #expect(FileManager.default.fileExists(atPath: path))
        let reopened = try RunStore(path: path)
        let runs = try reopened.finishedRuns()
        #expect(runs.count == 1)
        #expect(runs.first?.spec == Self.spec())
        #expect(runs.first?.testMetrics == ["ndcg@20": 0.31])
        #expect(try reopened.evaluations(runs[0].id).count == 3)
        // Checked through a separate plain connection, not through the store under test.
        let raw = try DatabaseQueue(path: path)
        let (journalMode, migrations, tables) = try raw.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"),
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            )
        }
        #expect(journalMode == "wal")
        #expect(migrations == ["v1: runs and evaluations"])
        #expect(tables == ["evaluation", "grdb_migrations", "run"])
    }

    @Test("a directory, a non-database file, a foreign database or an uncreatable folder is refused, naming the path")
    func unopenable() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        #expect(throws: RunStoreError.cannotOpen(path: folder.path, reason: "it is a directory; give the path of a file")) {
            try RunStore(path: folder.path)
        }

        let garbage = folder.appendingPathComponent("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: garbage)
        let garbageError = #expect(throws: RunStoreError.self) { try RunStore(path: garbage.path) }
        #expect(garbageError?.description.hasPrefix("\(garbage.path): cannot open the run store: file is not a database") == true,
                "\(String(describing: garbageError))")
        #expect(try Data(contentsOf: garbage) == Data(repeating: 0x41, count: 4096), "the refused file is left as it was")

        let foreign = folder.appendingPathComponent("other.sqlite").path
        try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE notes (text TEXT)") }
        #expect(throws: RunStoreError.cannotOpen(path: foreign, reason: "it is an SQLite database but not a run store; choose another path")) {
            try RunStore(path: foreign)
        }

        let file = folder.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let below = file.appendingPathComponent("runs.sqlite").path
        let folderError = #expect(throws: RunStoreError.self) { try RunStore(path: below) }
        #expect(folderError?.description.hasPrefix("\(below): cannot open the run store: cannot create its folder \(file.path)") == true,
                "\(String(describing: folderError))")

        #expect(throws: RunStoreError.cannotOpen(path: folder.appendingPathComponent("missing.sqlite").path, reason: "no such file")) {
            try RunStore(path: folder.appendingPathComponent("missing.sqlite").path, access: .readOnly)
        }
    }

    @Test("a store written by a newer schema is refused, read-write and read-only")
    func newerSchemaRefused() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.sqlite").path
        _ = try RunStore(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: ["v99: from the future"])
        }
        for access in [RunStore.Access.readWrite, .readOnly] {
            let error = #expect(throws: RunStoreError.self) { try RunStore(path: path, access: access) }
            guard case let .schemaMismatch(errorPath, reason) = error else {
                Issue.record("expected schemaMismatch, got \(String(describing: error))")
                continue
            }
            #expect(errorPath == path)
            #expect(reason.hasPrefix("written by a newer version of the run store"))
        }
    }

    @Test("one writer at a time; read-only readers alongside it; the lock goes with the writer")
    func writerLock() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.sqlite").path
        var writer: RunStore? = try RunStore(path: path)
        let id = try Self.runWithCurve(writer!)

        let second = #expect(throws: RunStoreError.self) { try RunStore(path: path) }
        #expect(second == .inUse(path: path, lockPath: path + ".lock", holder: "process \(getpid())"))

        let reader = try RunStore(path: path, access: .readOnly)
        #expect(try reader.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
        #expect(try reader.evaluations(id).map(\.epoch) == [5, 10, 15])
        #expect(throws: RunStoreError.readOnly(path: path)) { try reader.begin(Self.spec(modelSeed: 9), codeVersion: "abc123") }
        #expect(throws: RunStoreError.readOnly(path: path)) { try reader.fail(id, reason: "no") }

        writer = nil
        _ = try RunStore(path: path)
    }

    @Test("a writer's lock held by another process refuses this one, and is released when that process is SIGKILLed",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock")))
    func lockReleasedByKill() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("runs.sqlite").path
        do {
            let store = try RunStore(path: path)
            _ = try Self.runWithCurve(store)
        }
        // A process that takes the store's lock the way a writer does (flock(2)) and then waits.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", #"exec 9>"$1" && /usr/bin/flock --exclusive 9 && echo locked && exec sleep 60"#, "sh", path + ".lock"]
        let output = Pipe()
        holder.standardOutput = output
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line == "locked\n")

        #expect(throws: RunStoreError.inUse(path: path, lockPath: path + ".lock", holder: "another process")) {
            try RunStore(path: path)
        }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(holder.terminationReason == .uncaughtSignal && holder.terminationStatus == SIGKILL)

        let store = try RunStore(path: path)
        guard case let .restarted(_, replacing: abandoned) = try store.begin(Self.spec(), codeVersion: "abc123") else {
            Issue.record("the half-finished run must be redone once the lock is free")
            return
        }
        #expect(abandoned.evaluationCount == 3)
    }

    // MARK: Uniqueness and resume

    @Test("each field of the spec tells runs apart; the database itself refuses a duplicate spec")
    func uniqueness() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.sqlite").path
        let store = try RunStore(path: path)
        let variants = [
            Self.spec(), Self.spec(phase: .tune), Self.spec(dataset: "ml-1m"), Self.spec(backbone: "lightgcn"),
            Self.spec(sampler: "dns"), Self.spec(configuration: try RunConfiguration(["learningRate": 0.01])),
            Self.spec(splitSeed: 7), Self.spec(modelSeed: 2), Self.spec(protocol: "reduced"),
            Self.spec(splitSeed: .max, modelSeed: .max),
        ]
        var ids = Set<RunID>()
        for spec in variants {
            ids.insert(try Self.startedID(store.begin(spec, codeVersion: "abc123")))
        }
        #expect(ids.count == variants.count)
        #expect(try store.statusCounts() == [.running: variants.count, .finished: 0, .failed: 0])
        #expect(try store.statusCounts(dataset: "ml-1m")[.running] == 1)

        // Beginning a spec this very store is running is a caller's bug, not a resume.
        #expect(throws: RunStoreError.alreadyRunning(run: ids.min { $0.rawValue < $1.rawValue }!, spec: Self.spec().description)) {
            try store.begin(Self.spec(), codeVersion: "abc123")
        }

        // The UNIQUE constraint stands behind `begin`, for any writer.
        let raw = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try raw.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO run (phase, dataset, backbone, sampler, configuration, splitSeed, modelSeed, protocol,
                                         status, codeVersion, writerSession, startedAt)
                        SELECT phase, dataset, backbone, sampler, configuration, splitSeed, modelSeed, protocol,
                               'running', codeVersion, 'other', startedAt FROM run WHERE id = ?
                        """,
                    arguments: [ids.first!.rawValue]
                )
            }
        }
    }

    @Test("a finished run is not redone: begin returns its result")
    func finishedNotRedone() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.sqlite").path
        let id: RunID
        do {
            let store = try RunStore(path: path)
            id = try Self.runWithCurve(store)
            try store.recordEvaluation(id, epoch: 10, split: .test, metrics: ["ndcg@20": 0.31])
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.4], seconds: 12.5, summary: ["epochs": 15])
        }
        let store = try RunStore(path: path)
        guard case let .alreadyFinished(run) = try store.begin(Self.spec(), codeVersion: "def456") else {
            Issue.record("a finished run must not be redone")
            return
        }
        #expect(run.id == id)
        #expect(run.codeVersion == "abc123")
        #expect(run.bestEpoch == 10)
        #expect(run.testMetrics == ["ndcg@20": 0.31, "recall@20": 0.4])
        #expect(run.bestValidationMetrics == ["ndcg@20": 0.35, "recall@20": 0.35 + 0.1])
        #expect(run.seconds == 12.5)
        #expect(run.summary == ["epochs": 15])
        #expect(run.finishedAt >= run.startedAt)
        #expect(try store.statusCounts() == [.running: 0, .finished: 1, .failed: 0])
        #expect(try store.evaluations(id).count == 4)
    }

    @Test("a failed run is not redone unless asked; asked, it is redone from nothing")
    func failedNotRedone() throws {
        let store = try RunStore.inMemory()
        let id = try Self.runWithCurve(store)
        try store.fail(id, reason: "diverged: mean loss is nan at epoch 16")
        guard case let .alreadyFailed(run) = try store.begin(Self.spec(), codeVersion: "abc123") else {
            Issue.record("a failed run must not be redone unless asked")
            return
        }
        #expect(run.id == id)
        #expect(run.reason == "diverged: mean loss is nan at epoch 16")
        #expect(try store.finishedRuns().isEmpty)
        #expect(try store.failedRuns().map(\.id) == [id])
        #expect(try store.evaluations(id).count == 3, "a failed run keeps its curve")

        guard case let .restarted(newID, replacing: abandoned) = try store.begin(Self.spec(), codeVersion: "abc124", redoFailed: true) else {
            Issue.record("redoFailed must redo a failed run")
            return
        }
        #expect(newID != id)
        #expect(abandoned.id == id && abandoned.status == .failed && abandoned.evaluationCount == 3)
        #expect(try store.evaluations(newID).isEmpty)
        #expect(throws: RunStoreError.unknownRun(path: ":memory:", run: id)) { try store.evaluations(id) }
        #expect(try store.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
    }

    @Test("a run left running by a dropped store is redone, its evaluations gone")
    func staleRunRedone() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("runs.sqlite").path
        let staleID: RunID
        do {
            // The process "dies": the store is dropped without finish or fail.
            let store = try RunStore(path: path)
            staleID = try Self.runWithCurve(store)
        }
        let store = try RunStore(path: path)
        #expect(try store.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
        guard case let .restarted(id, replacing: abandoned) = try store.begin(Self.spec(), codeVersion: "def456") else {
            Issue.record("a half-finished run must be redone")
            return
        }
        #expect(id != staleID)
        #expect(abandoned.id == staleID && abandoned.status == .running)
        #expect(abandoned.evaluationCount == 3 && abandoned.codeVersion == "abc123")
        #expect(try store.evaluations(id).isEmpty)
        #expect(throws: RunStoreError.unknownRun(path: path, run: staleID)) { try store.evaluations(staleID) }
        #expect(throws: RunStoreError.unknownRun(path: path, run: staleID)) {
            try store.recordEvaluation(staleID, epoch: 20, split: .validation, metrics: ["ndcg@20": 0.3])
        }
        try Self.recordCurveAndFinish(store, id)
        #expect(try store.finishedRuns().map(\.codeVersion) == ["def456"])
    }

    static func recordCurveAndFinish(_ store: RunStore, _ id: RunID) throws {
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3])
        try store.finish(id, bestEpoch: 5, testMetrics: ["ndcg@20": 0.29], seconds: 3)
    }

    @Test("a crash image taken while another connection's write is open shows the committed evaluations only, and is redone")
    func crashImageDuringWrite() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("live/runs.sqlite").path
        let imagePath = folder.appendingPathComponent("image/runs.sqlite").path
        try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("image").path, withIntermediateDirectories: true)

        let store = try RunStore(path: path)
        let id = try Self.startedID(store.begin(Self.spec(), codeVersion: "abc123"))
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.30])
        try store.recordEvaluation(id, epoch: 10, split: .validation, metrics: ["ndcg@20": 0.35])
        // A second connection starts a write (a third evaluation and the run's end) and, before
        // it commits, the files are copied: what a kill at that instant leaves on disk.
        let other = try DatabaseQueue(path: path)
        try other.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(
                sql: "INSERT INTO evaluation (runId, epoch, split, metrics, extra, recordedAt) VALUES (?, 15, 'validation', '{}', '{}', ?)",
                arguments: [id.rawValue, Date()]
            )
            try db.execute(sql: "UPDATE run SET status = 'failed', endedAt = ?, failureReason = 'x' WHERE id = ?", arguments: [Date(), id.rawValue])
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: imagePath + suffix)
            }
            try db.execute(sql: "ROLLBACK")
        }

        let image = try RunStore(path: imagePath)
        #expect(try image.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
        #expect(try image.evaluations(id).map(\.epoch) == [5, 10])
        guard case let .restarted(newID, replacing: abandoned) = try image.begin(Self.spec(), codeVersion: "abc123") else {
            Issue.record("the half-finished run in the crash image must be redone")
            return
        }
        #expect(abandoned.id == id && abandoned.evaluationCount == 2)
        #expect(try image.evaluations(newID).isEmpty)
    }

    // MARK: Refusals

    @Test("one NaN among several metrics: the evaluation is refused whole, naming the metric")
    func nonFiniteEvaluationRefused() throws {
        let store = try RunStore.inMemory()
        let id = try Self.startedID(store.begin(Self.spec(), codeVersion: "abc123"))
        let operation = "recordEvaluation(\(id), epoch 5, validation)"
        // NaN ≠ NaN, so the error is matched field by field.
        let error = #expect(throws: RunStoreError.self) {
            try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["recall@20": 0.4, "ndcg@20": .nan, "hit@20": 0.9])
        }
        guard case let .nonFinite(errorOperation, field, name, value) = error else {
            Issue.record("expected nonFinite, got \(String(describing: error))")
            return
        }
        #expect(errorOperation == operation && field == "metric" && name == "ndcg@20" && value.isNaN)
        #expect(error!.description.contains("nothing was recorded"))
        #expect(throws: RunStoreError.nonFinite(operation: operation, field: "extra value", name: "seconds", value: .infinity)) {
            try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3], extra: ["seconds": .infinity])
        }
        #expect(try store.evaluations(id).isEmpty)
        // The same evaluation, finite, is then accepted: the refusal left nothing behind.
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["recall@20": 0.4, "ndcg@20": 0.3, "hit@20": 0.9])
        #expect(try store.evaluations(id).map(\.metrics) == [["recall@20": 0.4, "ndcg@20": 0.3, "hit@20": 0.9]])
    }

    @Test("finish refuses NaN test metrics and seconds; the diverged run is failed and never listed as finished")
    func nonFiniteFinishRefused() throws {
        let store = try RunStore.inMemory()
        let id = try Self.runWithCurve(store)
        let error = #expect(throws: RunStoreError.self) {
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": .nan], seconds: 3)
        }
        guard case let .nonFinite(_, field, name, _) = error else {
            Issue.record("expected nonFinite, got \(String(describing: error))")
            return
        }
        #expect(field == "test metric" && name == "ndcg@20")
        #expect(throws: RunStoreError.nonFinite(operation: "finish(\(id))", field: "argument", name: "seconds", value: -.infinity)) {
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: -.infinity)
        }
        #expect(throws: RunStoreError.nonFinite(operation: "finish(\(id))", field: "summary value", name: "meanLoss", value: .infinity)) {
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: 3, summary: ["meanLoss": .infinity])
        }
        #expect(try store.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
        try store.fail(id, reason: "diverged: test NDCG@20 is nan")
        #expect(try store.finishedRuns().isEmpty)
        #expect(try store.failedRuns().map(\.reason) == ["diverged: test NDCG@20 is nan"])
        #expect(throws: RunStoreError.notRunning(run: id, status: .failed)) {
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: 3)
        }
        #expect(throws: RunStoreError.notRunning(run: id, status: .failed)) {
            try store.recordEvaluation(id, epoch: 20, split: .validation, metrics: ["ndcg@20": 0.3])
        }
    }

    @Test("finish refuses a best epoch without a validation evaluation and leaves the run running")
    func bestEpochMustBeEvaluated() throws {
        let store = try RunStore.inMemory()
        let id = try Self.runWithCurve(store)
        #expect(throws: RunStoreError.bestEpochNotEvaluated(run: id, bestEpoch: 11, validationEpochs: [5, 10, 15])) {
            try store.finish(id, bestEpoch: 11, testMetrics: ["ndcg@20": 0.3], seconds: 3)
        }
        #expect(try store.statusCounts()[.running] == 1)
        try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: 3)
        #expect(throws: RunStoreError.notRunning(run: id, status: .finished)) { try store.fail(id, reason: "late") }

        // A run with no validation split (a demo) may name any epoch.
        let demo = try Self.startedID(store.begin(Self.spec(phase: .demo), codeVersion: "abc123"))
        try store.recordEvaluation(demo, epoch: 20, split: .test, metrics: ["ndcg@20": 0.3])
        try store.finish(demo, bestEpoch: 20, testMetrics: ["ndcg@20": 0.3], seconds: 3)
        #expect(try store.finishedRuns(phase: .demo).map(\.bestValidationMetrics) == [[:]])
    }

    @Test("a tuning run never records the test split; other runs must report test metrics")
    func tuningNeverReadsTest() throws {
        let store = try RunStore.inMemory()
        let tune = try Self.runWithCurve(store, Self.spec(phase: .tune))
        #expect(throws: RunStoreError.testSplitInTuning(run: tune, operation: "recordEvaluation(\(tune), epoch 10, test)")) {
            try store.recordEvaluation(tune, epoch: 10, split: .test, metrics: ["ndcg@20": 0.3])
        }
        #expect(throws: RunStoreError.testSplitInTuning(run: tune, operation: "finish(\(tune))")) {
            try store.finish(tune, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: 3)
        }
        try store.finish(tune, bestEpoch: 10, testMetrics: [:], seconds: 3)
        #expect(try store.finishedRuns(phase: .tune).map(\.bestValidationMetrics["ndcg@20"]) == [0.35])

        let final = try Self.runWithCurve(store)
        #expect(throws: RunStoreError.invalidArgument(
            operation: "finish(\(final))", field: "testMetrics",
            reason: "are empty; a final run reports the test metrics of its best epoch"
        )) {
            try store.finish(final, bestEpoch: 10, testMetrics: [:], seconds: 3)
        }
    }

    @Test("duplicate evaluations, negative epochs, empty metrics, unknown runs and empty reasons are refused")
    func argumentRefusals() throws {
        let store = try RunStore.inMemory()
        let id = try Self.runWithCurve(store)
        #expect(throws: RunStoreError.duplicateEvaluation(run: id, epoch: 10, split: .validation)) {
            try store.recordEvaluation(id, epoch: 10, split: .validation, metrics: ["ndcg@20": 0.9])
        }
        #expect(try store.evaluations(id).first { $0.epoch == 10 }?.metrics["ndcg@20"] == 0.35, "the first evaluation stands")
        #expect(throws: RunStoreError.invalidArgument(operation: "recordEvaluation(\(id), epoch -1, validation)", field: "epoch",
                                                      reason: "is -1; epochs are 0 or more")) {
            try store.recordEvaluation(id, epoch: -1, split: .validation, metrics: ["ndcg@20": 0.3])
        }
        #expect(throws: RunStoreError.invalidArgument(operation: "recordEvaluation(\(id), epoch 20, validation)", field: "metrics",
                                                      reason: "are empty")) {
            try store.recordEvaluation(id, epoch: 20, split: .validation, metrics: [:])
        }
        #expect(throws: RunStoreError.invalidArgument(operation: "recordEvaluation(\(id), epoch 20, validation)", field: "metric name",
                                                      reason: "is empty")) {
            try store.recordEvaluation(id, epoch: 20, split: .validation, metrics: ["": 0.3])
        }
        #expect(throws: RunStoreError.invalidArgument(operation: "finish(\(id))", field: "seconds",
                                                      reason: "is -1.0; durations are 0 or more")) {
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3], seconds: -1)
        }
        #expect(throws: RunStoreError.invalidArgument(operation: "fail(\(id))", field: "reason", reason: "is empty; say why the run failed")) {
            try store.fail(id, reason: "  ")
        }
        #expect(throws: RunStoreError.invalidArgument(operation: "begin(\(Self.spec(modelSeed: 5)))", field: "codeVersion", reason: "is empty")) {
            try store.begin(Self.spec(modelSeed: 5), codeVersion: "")
        }
        let unknown = RunID(rawValue: 999)
        #expect(throws: RunStoreError.unknownRun(path: ":memory:", run: unknown)) { try store.fail(unknown, reason: "x") }
        #expect(try store.evaluations(id).count == 3)
        #expect(try store.statusCounts() == [.running: 1, .finished: 0, .failed: 0])
    }

    // MARK: Queries and export

    @Test("queries filter on every given field and list runs in spec order")
    func queries() throws {
        let store = try RunStore.inMemory()
        let specs = [
            Self.spec(sampler: "uniform", modelSeed: 10), Self.spec(sampler: "uniform", modelSeed: 9),
            Self.spec(backbone: "lightgcn", sampler: "adar"), Self.spec(dataset: "ml-1m", sampler: "dns"),
            Self.spec(sampler: "adar", protocol: "reduced"),
        ]
        for spec in specs {
            let id = try Self.startedID(store.begin(spec, codeVersion: "abc123"))
            try Self.recordCurveAndFinish(store, id)
        }
        let failing = try Self.startedID(store.begin(Self.spec(sampler: "ahns"), codeVersion: "abc123"))
        try store.fail(failing, reason: "diverged")

        // "ml-100k" < "ml-1m" ('0' < 'm'); "lightgcn" < "mf"; seeds as numbers (9 < 10).
        #expect(try store.finishedRuns().map(\.spec) == [specs[2], specs[4], specs[1], specs[0], specs[3]])
        #expect(try store.finishedRuns(dataset: "ml-100k", backbone: "mf").map(\.spec.sampler) == ["adar", "uniform", "uniform"])
        #expect(try store.finishedRuns(dataset: "ml-100k", backbone: "mf", protocol: "full").map(\.spec.modelSeed) == [9, 10])
        #expect(try store.finishedRuns(sampler: "dns").map(\.spec.dataset) == ["ml-1m"])
        #expect(try store.finishedRuns(phase: .tune).isEmpty)
        #expect(try store.failedRuns(dataset: "ml-100k").map(\.spec.sampler) == ["ahns"])
        #expect(try store.statusCounts(backbone: "mf") == [.running: 0, .finished: 4, .failed: 1])
    }

    static func storeForExport() throws -> RunStore {
        let store = try RunStore.inMemory()
        let first = try Self.startedID(store.begin(Self.spec(sampler: "uniform", splitSeed: .max), codeVersion: "abc123"))
        try store.recordEvaluation(first, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.25])
        try store.finish(first, bestEpoch: 5, testMetrics: ["ndcg@20": 0.2], seconds: 1.5, summary: ["epochs": 5])
        let second = try Self.runWithCurve(store, Self.spec(sampler: "adar"))
        try store.finish(second, bestEpoch: 10, testMetrics: ["ndcg@20": 0.3, "recall@20": 0.1 + 0.2], seconds: 2)
        let running = try Self.startedID(store.begin(Self.spec(sampler: "dns"), codeVersion: "abc123"))
        try store.recordEvaluation(running, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.25])
        let failed = try Self.startedID(store.begin(Self.spec(sampler: "ahns"), codeVersion: "abc123"))
        try store.fail(failed, reason: "diverged")
        return store
    }

    @Test("the CSV summary has one row per finished run, quoted per RFC 4180, empty fields for missing metrics")
    func csvExport() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("summary/runs.csv")
        try Self.storeForExport().exportSummary(to: url, format: .csv)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines.last == "", "header, two finished runs, final newline")
        #expect(lines[0] == "phase,dataset,backbone,sampler,protocol,configuration,splitSeed,modelSeed,bestEpoch,seconds,"
                + "codeVersion,startedAt,finishedAt,validation.ndcg@20,validation.recall@20,test.ndcg@20,test.recall@20,summary.epochs")
        let configuration = #""{""dimension"":64,""learningRate"":0.001,""policy"":""noise-fill"",""rho"":0.5}""#
        // Timestamps vary; everything around them is fixed.
        let adar = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(lines[1].hasPrefix("final,ml-100k,mf,adar,full,\(configuration),2026,1,10,2,abc123,"))
        #expect(lines[1].hasSuffix(",0.35,0.44999999999999996,0.3,0.30000000000000004,"), "\(lines[1])")
        #expect(lines[2].hasPrefix("final,ml-100k,mf,uniform,full,\(configuration),18446744073709551615,1,5,1.5,abc123,"))
        #expect(lines[2].hasSuffix(",0.25,,0.2,,5"), "\(lines[2])")
        let timestamp = String(adar[adar.count - 6])
        #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(timestamp)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(leftovers == ["runs.csv"], "no temporary file is left")
    }

    @Test("the JSON summary parses, keeps seeds as strings and the configuration as an object")
    func jsonExport() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("runs.json")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("an older summary".utf8).write(to: url)
        let store = try Self.storeForExport()
        try store.exportSummary(to: url, format: .json)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 4, "one run per line between the brackets")
        // JSONDecoder, not JSONSerialization: the latter misreads 0.30000000000000004 on Linux.
        struct Row: Decodable {
            let sampler: String
            let splitSeed: String
            let configuration: [String: ConfigurationValue]
            let bestEpoch: Int
            let validationMetrics: [String: Double]
            let testMetrics: [String: Double]
            let summary: [String: Double]
        }
        let runs = try JSONDecoder().decode([Row].self, from: Data(text.utf8))
        #expect(runs.map(\.sampler) == ["adar", "uniform"])
        #expect(runs.map(\.splitSeed) == ["2026", "18446744073709551615"])
        #expect(try RunConfiguration(runs[0].configuration) == Self.configuration)
        #expect(runs[0].validationMetrics == ["ndcg@20": 0.35, "recall@20": 0.35 + 0.1])
        #expect(runs[0].testMetrics == ["ndcg@20": 0.3, "recall@20": 0.1 + 0.2])
        #expect(runs.map(\.bestEpoch) == [10, 5])
        #expect(runs.map(\.summary) == [[:], ["epochs": 5]])

        let empty = try RunStore.inMemory()
        try empty.exportSummary(to: url, format: .json)
        #expect(try String(contentsOf: url, encoding: .utf8) == "[]\n")
    }

    @Test("an export that cannot be written says where and why, and leaves nothing behind")
    func exportRefused() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try Self.storeForExport()

        let blocker = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let under = blocker.appendingPathComponent("runs.csv")
        let error = #expect(throws: RunStoreError.self) { try store.exportSummary(to: under, format: .csv) }
        #expect(error?.description.hasPrefix("\(under.path): cannot write the summary:") == true, "\(String(describing: error))")

        // A directory in the way: the rename fails, the directory and the folder are as they were.
        let occupied = folder.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied.appendingPathComponent("inside"), withIntermediateDirectories: true)
        #expect(throws: RunStoreError.self) { try store.exportSummary(to: occupied, format: .json) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["file", "occupied"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied.path) == ["inside"])
    }
}
