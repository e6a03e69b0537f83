import Foundation
import ADARCore
import GRDB

/// The store's tables, one GRDB migration per schema version (docs/STORE.md, "Schema").
/// A migration, once released, is never edited: a change of schema is a new migration.
enum StoreSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs and evaluations") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("phase", .text).notNull().check { RunPhase.allCases.map(\.rawValue).contains($0) }
                t.column("dataset", .text).notNull().check { length($0) > 0 }
                t.column("backbone", .text).notNull().check { length($0) > 0 }
                t.column("sampler", .text).notNull().check { length($0) > 0 }
                // RunConfiguration.canonicalText: a JSON object with sorted keys.
                t.column("configuration", .jsonText).notNull().check(sql: "json_valid(configuration)")
                // Seeds are UInt64; SQLite integers are signed 64-bit, so they are kept as decimal text.
                t.column("splitSeed", .text).notNull().check(sql: "splitSeed GLOB '[0-9]*' AND splitSeed NOT GLOB '*[^0-9]*'")
                t.column("modelSeed", .text).notNull().check(sql: "modelSeed GLOB '[0-9]*' AND modelSeed NOT GLOB '*[^0-9]*'")
                t.column("protocol", .text).notNull().check { length($0) > 0 }
                t.column("status", .text).notNull().check { RunStatus.allCases.map(\.rawValue).contains($0) }
                t.column("codeVersion", .text).notNull()
                // The RunStore instance that began the run: a running run of another writer is abandoned.
                t.column("writerSession", .text).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("endedAt", .datetime)
                t.column("bestEpoch", .integer).check { $0 >= 0 }
                t.column("testMetrics", .jsonText)
                t.column("summary", .jsonText)
                t.column("seconds", .double).check { $0 >= 0 }
                t.column("failureReason", .text)
                t.uniqueKey(["phase", "dataset", "backbone", "sampler", "configuration", "splitSeed", "modelSeed", "protocol"])
                // What each status carries, so no half-updated row can exist.
                t.check(sql: """
                    (status = 'running' AND endedAt IS NULL AND bestEpoch IS NULL AND testMetrics IS NULL
                        AND summary IS NULL AND seconds IS NULL AND failureReason IS NULL)
                    OR (status = 'finished' AND endedAt IS NOT NULL AND bestEpoch IS NOT NULL
                        AND json_valid(testMetrics) AND json_valid(summary) AND seconds IS NOT NULL
                        AND failureReason IS NULL)
                    OR (status = 'failed' AND endedAt IS NOT NULL AND length(failureReason) > 0
                        AND bestEpoch IS NULL AND testMetrics IS NULL AND summary IS NULL AND seconds IS NULL)
                    """)
            }
            try db.create(table: "evaluation") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("epoch", .integer).notNull().check { $0 >= 0 }
                t.column("split", .text).notNull().check { EvaluationSplit.allCases.map(\.rawValue).contains($0) }
                t.column("metrics", .jsonText).notNull().check(sql: "json_valid(metrics)")
                t.column("extra", .jsonText).notNull().check(sql: "json_valid(extra)")
                t.column("recordedAt", .datetime).notNull()
                t.uniqueKey(["runId", "epoch", "split"])
            }
        }
        return migrator
    }()
}

/// A row of `run`.
struct RunRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "run"

    var id: Int64?
    var phase: RunPhase
    var dataset: String
    var backbone: String
    var sampler: String
    var configuration: String
    var splitSeed: String
    var modelSeed: String
    var `protocol`: String
    var status: RunStatus
    var codeVersion: String
    var writerSession: String
    var startedAt: Date
    var endedAt: Date?
    var bestEpoch: Int?
    var testMetrics: [String: Double]?
    var summary: [String: Double]?
    var seconds: Double?
    var failureReason: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let phase = Column(CodingKeys.phase)
        static let dataset = Column(CodingKeys.dataset)
        static let backbone = Column(CodingKeys.backbone)
        static let sampler = Column(CodingKeys.sampler)
        static let configuration = Column(CodingKeys.configuration)
        static let splitSeed = Column(CodingKeys.splitSeed)
        static let modelSeed = Column(CodingKeys.modelSeed)
        static let `protocol` = Column(CodingKeys.protocol)
        static let status = Column(CodingKeys.status)
    }

    init(starting spec: RunSpec, codeVersion: String, writerSession: String, at date: Date) {
        phase = spec.phase
        dataset = spec.dataset
        backbone = spec.backbone
        sampler = spec.sampler
        configuration = spec.configuration.canonicalText
        splitSeed = String(spec.splitSeed)
        modelSeed = String(spec.modelSeed)
        self.protocol = spec.protocol
        status = .running
        self.codeVersion = codeVersion
        self.writerSession = writerSession
        startedAt = date
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    static func matching(_ spec: RunSpec) -> QueryInterfaceRequest<RunRow> {
        filter(
            Columns.phase == spec.phase.rawValue && Columns.dataset == spec.dataset
                && Columns.backbone == spec.backbone && Columns.sampler == spec.sampler
                && Columns.configuration == spec.configuration.canonicalText
                && Columns.splitSeed == String(spec.splitSeed) && Columns.modelSeed == String(spec.modelSeed)
                && Columns.protocol == spec.protocol
        )
    }

    var runID: RunID { RunID(rawValue: id!) }

    /// The spec back from its columns; the columns' CHECKs and the writes keep them valid.
    func spec() throws -> RunSpec {
        guard let split = UInt64(splitSeed), let model = UInt64(modelSeed) else {
            throw RunStoreError.invalidSpec(field: "seed", reason: "\(runID) has seeds \(splitSeed), \(modelSeed)")
        }
        let parsed: RunConfiguration
        do throws(ConfigurationError) {
            parsed = try RunConfiguration(json: configuration)
        } catch {
            throw RunStoreError.invalidConfiguration(key: error.key, reason: error.reason)
        }
        return try RunSpec(
            phase: phase, dataset: dataset, backbone: backbone, sampler: sampler,
            configuration: parsed, splitSeed: split, modelSeed: model,
            protocol: self.protocol
        )
    }
}

/// A row of `evaluation`.
struct EvaluationRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "evaluation"

    var id: Int64?
    var runId: Int64
    var epoch: Int
    var split: EvaluationSplit
    var metrics: [String: Double]
    var extra: [String: Double]
    var recordedAt: Date

    enum Columns {
        static let runId = Column(CodingKeys.runId)
        static let epoch = Column(CodingKeys.epoch)
        static let split = Column(CodingKeys.split)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
