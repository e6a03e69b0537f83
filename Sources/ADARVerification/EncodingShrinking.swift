/// One `(t, d)` of S9/P1.
public struct EncodingCase: Sendable, Equatable {
    public let timestep: Int, dimension: Int
    /// Which case of its sweep this was (0 for a case given by values).
    public let index: Int

    public init(timestep: Int, dimension: Int, index: Int = 0) {
        self.timestep = timestep
        self.dimension = dimension
        self.index = index
    }
}

extension EncodingCase: Shrinkable {
    public var shrinkSize: [Int] { [dimension, timestep] }

    public var shrinkCandidateGroups: [() -> [EncodingCase]] {
        [
            { smallerCounts(dimension).map { EncodingCase(timestep: timestep, dimension: $0, index: index) } },
            { smallerCounts(timestep).map { EncodingCase(timestep: $0, dimension: dimension, index: index) } },
        ]
    }

    public var summary: String { "t = \(timestep), d = \(dimension) (case #\(index))" }

    public var swiftExpression: String { "EncodingCase(timestep: \(timestep), dimension: \(dimension))" }
}
