import ADARProtocol

/// The binary64 reference (`ReferenceADAR`) answering the protocol: the same
/// code that computed every expected value of fixtures/.
public struct ReferencePort: ConformancePort {
    public init() {}

    public var name: String { "swift-adar reference (binary64)" }
    public var precision: Precision { .binary64 }
    public var operations: [FixtureOperation] { FixtureOperation.allCases }

    public func answer(operation: FixtureOperation, input: JSONValue) throws(EvaluationError) -> JSONValue {
        try ReferenceEvaluator.evaluate(operation, input: input)
    }
}
