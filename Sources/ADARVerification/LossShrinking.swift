import Foundation

/// One point of S7/F1: the argument of softplus. The claim's domain is
/// `[−1000, 1000]`; a shrunk point outside it does not count as failing.
public struct SoftplusCase: Sendable {
    public let x: Double
    /// Which point of its sweep the case was (0 for a case given by value).
    public let index: Int

    public init(x: Double, index: Int = 0) {
        self.x = x
        self.index = index
    }
}

extension SoftplusCase: Shrinkable {
    public var shrinkSize: [Int] { [Simplicity.rank(x)] }

    public var shrinkCandidateGroups: [() -> [SoftplusCase]] {
        [{ Simplicity.simpler(x).map { SoftplusCase(x: $0, index: index) } }]
    }

    public var summary: String { "x = \(x) (point #\(index))" }

    public var swiftExpression: String { "SoftplusCase(x: \(x))" }
}
