import Foundation
import ADARCore

/// Why a run was made: tuning (chosen on validation only), a final run of a
/// chosen configuration, or a demo run.
public enum RunPhase: String, Codable, Sendable, CaseIterable {
    case tune, final, demo
}

/// Which split an evaluation read.
public enum EvaluationSplit: String, Codable, Sendable, CaseIterable {
    case validation, test
}

/// Where a run stands. A `running` run found by a new writer was left by a
/// process that stopped without finishing it.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running, finished, failed
}

/// The store's key for a run (its row id). Valid only within the store that issued it.
public struct RunID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { "run \(rawValue)" }
}

/// Everything that identifies a run: the store holds at most one run per spec.
public struct RunSpec: Hashable, Sendable, CustomStringConvertible {
    public let phase: RunPhase
    public let dataset: String
    public let backbone: String
    public let sampler: String
    public let configuration: RunConfiguration
    public let splitSeed: UInt64
    public let modelSeed: UInt64
    /// The evaluation protocol or grid the run belongs to (e.g. "full", "reduced").
    public let `protocol`: String

    /// Refuses empty names and names with leading or trailing white space (they
    /// would make two specs that print alike but key different runs).
    public init(
        phase: RunPhase, dataset: String, backbone: String, sampler: String, configuration: RunConfiguration,
        splitSeed: UInt64, modelSeed: UInt64, protocol: String
    ) throws(RunStoreError) {
        for (field, value) in [("dataset", dataset), ("backbone", backbone), ("sampler", sampler), ("protocol", `protocol`)] {
            if value.isEmpty {
                throw .invalidSpec(field: field, reason: "must not be empty")
            }
            if value.trimmingCharacters(in: .whitespacesAndNewlines) != value {
                throw .invalidSpec(field: field, reason: "\"\(value)\" has leading or trailing white space")
            }
        }
        self.phase = phase
        self.dataset = dataset
        self.backbone = backbone
        self.sampler = sampler
        self.configuration = configuration
        self.splitSeed = splitSeed
        self.modelSeed = modelSeed
        self.protocol = `protocol`
    }

    public var description: String {
        "\(phase.rawValue) \(dataset)/\(backbone)/\(sampler) \(configuration.canonicalText) "
            + "split seed \(splitSeed), model seed \(modelSeed), protocol \(`protocol`)"
    }
}
