/// One hyper-parameter value of a grid point.
public enum ConfigValue: Hashable, Sendable, CustomStringConvertible {
    case integer(Int)
    case real(Double)
    case string(String)

    /// The value's canonical text: an integer in decimal, a real in Swift's
    /// shortest round-trip form (`0.001`, `1e-05`), a string as it is.
    public var description: String {
        switch self {
        case let .integer(i): "\(i)"
        case let .real(x): "\(x)"
        case let .string(s): s
        }
    }
}

/// A point of a sampler's grid: the common and the sampler's own hyper-parameters.
public struct GridConfiguration: Hashable, Sendable, CustomStringConvertible {
    public let values: [String: ConfigValue]

    public init(_ values: [String: ConfigValue]) { self.values = values }

    public subscript(key: String) -> ConfigValue? { values[key] }

    /// `key=value` pairs in sorted key order, joined by commas, e.g.
    /// `l2=0.0001,lr=0.001,pool=16`: identifies the configuration in run records.
    public var canonicalText: String {
        values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: ",")
    }

    public var description: String { canonicalText }
}
