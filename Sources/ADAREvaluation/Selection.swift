import ADARCore

/// What one tuning run of one configuration produced.
public enum TuningResult: Equatable, Sendable {
    /// The run stopped; its best validation NDCG@20 (`EarlyStopping.bestValue`).
    case finished(bestValidation: Double)
    /// The run could not be scored (e.g. it diverged: a non-finite validation metric).
    case failed(reason: String)
}

/// The configuration a row's final runs use.
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
            throw .notInPlan(row: row, configuration: stray)
        }
        var best: SelectedConfiguration?
        var failures = [String]()
        for (index, configuration) in configurations.enumerated() {
            switch results[configuration] {
            case nil:
                throw .missingResult(row: row, configuration: configuration.canonicalText)
            case let .failed(reason):
                failures.append("\(configuration.canonicalText): \(reason)")
            case let .finished(value):
                guard value.isFinite else {
                    throw .nonFiniteResult(row: row, configuration: configuration.canonicalText, value: value)
                }
                if best.map({ value > $0.bestValidation }) ?? true {
                    best = SelectedConfiguration(configuration: configuration, bestValidation: value, planIndex: index)
                }
            }
        }
        guard let best else { throw .everyRunFailed(row: row, failures: failures) }
        return best
    }
}

public enum SelectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingResult(row: String, configuration: String)
    case notInPlan(row: String, configuration: String)
    case nonFiniteResult(row: String, configuration: String, value: Double)
    case everyRunFailed(row: String, failures: [String])

    public var description: String {
        switch self {
        case let .missingResult(row, configuration):
            "\(row): configuration \(configuration) has no tuning result yet: finish the tuning sweep before selecting"
        case let .notInPlan(row, configuration):
            "\(row): configuration \(configuration) has a result but is not in the tuning plan "
                + "(was the grid file changed after tuning?)"
        case let .nonFiniteResult(row, configuration, value):
            "\(row): configuration \(configuration) reports validation \(value); "
                + "record a diverged run as failed instead"
        case let .everyRunFailed(row, failures):
            "\(row): every tuning run failed, so no configuration can be chosen: "
                + failures.joined(separator: "; ")
        }
    }
}
