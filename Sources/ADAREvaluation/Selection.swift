import ADARCore

/// What one tuning run of one configuration produced.
public enum TuningResult: Equatable, Sendable {
    /// The run stopped; its best validation NDCG@20 (`EarlyStopping.bestValue`).
    case finished(bestValidation: Double)
    /// The run could not be scored (e.g. it diverged: a non-finite validation metric).
    case failed(reason: String)
}

/// The configuration a sampler's final runs use.
public struct SelectedConfiguration: Equatable, Sendable {
    public let configuration: RunConfiguration
    public let bestValidation: Double
    /// Its position in the tuning plan (grid order).
    public let planIndex: Int
}

extension TuningPlan {
    /// The configuration with the highest best-validation value, on validation
    /// only (docs/PROTOCOL.md "Selection"). Ties go to the first in the plan's
    /// (grid) order. Failed runs are never chosen; every planned configuration
    /// needs a result, and no other configuration may have one.
    public func selectBest(_ results: [RunConfiguration: TuningResult]) throws(SelectionError) -> SelectedConfiguration {
        let planned = Set(configurations)
        if let stray = results.keys.filter({ !planned.contains($0) }).map(\.canonicalText).min() {
            throw .notInPlan(sampler: sampler, configuration: stray)
        }
        var best: SelectedConfiguration?
        var failures = [String]()
        for (index, configuration) in configurations.enumerated() {
            switch results[configuration] {
            case nil:
                throw .missingResult(sampler: sampler, configuration: configuration.canonicalText)
            case let .failed(reason):
                failures.append("\(configuration.canonicalText): \(reason)")
            case let .finished(value):
                guard value.isFinite else {
                    throw .nonFiniteResult(sampler: sampler, configuration: configuration.canonicalText, value: value)
                }
                if best.map({ value > $0.bestValidation }) ?? true {
                    best = SelectedConfiguration(configuration: configuration, bestValidation: value, planIndex: index)
                }
            }
        }
        guard let best else { throw .everyRunFailed(sampler: sampler, failures: failures) }
        return best
    }
}

public enum SelectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingResult(sampler: SamplerKind, configuration: String)
    case notInPlan(sampler: SamplerKind, configuration: String)
    case nonFiniteResult(sampler: SamplerKind, configuration: String, value: Double)
    case everyRunFailed(sampler: SamplerKind, failures: [String])

    public var description: String {
        switch self {
        case let .missingResult(sampler, configuration):
            "\(sampler.rawValue): configuration \(configuration) has no tuning result yet: finish the tuning sweep before selecting"
        case let .notInPlan(sampler, configuration):
            "\(sampler.rawValue): configuration \(configuration) has a result but is not in the tuning plan "
                + "(was the grid file changed after tuning?)"
        case let .nonFiniteResult(sampler, configuration, value):
            "\(sampler.rawValue): configuration \(configuration) reports validation \(value); "
                + "record a diverged run as failed instead"
        case let .everyRunFailed(sampler, failures):
            "\(sampler.rawValue): every tuning run failed, so no configuration can be chosen: "
                + failures.joined(separator: "; ")
        }
    }
}
