import Foundation
import ADARCore

/// One row of S8/B3's `fill`: the binary32 normals of row `row` of S8's stream `(seed, stream)`, `d`
/// components. The claim holds for every seed, stream, row and `d ≥ 1`, which the initialiser checks.
public struct NoiseRowCase: Sendable {
    public let seed: UInt64, stream: UInt32, row: UInt64, dimension: Int
    /// Which row of its sweep the case was (0 for a case given by values).
    public let index: Int

    public init(seed: UInt64, stream: UInt32, row: UInt64, dimension: Int, index: Int = 0) throws {
        guard dimension >= 1 else { throw ADARError.invalidConfiguration(field: "dimension", reason: "d = \(dimension) must be ≥ 1") }
        try ADARLimits.check("dimension", dimension, atMost: ADARLimits.maxDimension)
        self.init(unchecked: seed, stream, row, dimension, index)
    }

    /// A row whose `d` is valid by construction (the sweep's draws).
    init(unchecked seed: UInt64, _ stream: UInt32, _ row: UInt64, _ dimension: Int, _ index: Int) {
        self.seed = seed
        self.stream = stream
        self.row = row
        self.dimension = dimension
        self.index = index
    }

    func replacing(seed: UInt64? = nil, stream: UInt32? = nil, row: UInt64? = nil, dimension: Int? = nil) -> NoiseRowCase? {
        try? NoiseRowCase(seed: seed ?? self.seed, stream: stream ?? self.stream, row: row ?? self.row,
                          dimension: dimension ?? self.dimension, index: index)
    }
}

extension NoiseRowCase: Shrinkable {
    public var shrinkSize: [Int] {
        [dimension, Simplicity.complexity(word: seed) + Simplicity.complexity(word: stream) + Simplicity.complexity(word: row)]
    }

    /// Fewer components (1, 2, `d/2`, `d − 1`), then the seed, the stream and the row simpler.
    public var shrinkCandidateGroups: [() -> [NoiseRowCase]] {
        let groups: [() -> [NoiseRowCase?]] = [
            { smallerCounts(dimension).map { replacing(dimension: $0) } },
            {
                Simplicity.simpler(word: seed).map { replacing(seed: $0) }
                    + Simplicity.simpler(word: stream).map { replacing(stream: $0) }
                    + Simplicity.simpler(word: row).map { replacing(row: $0) }
            },
        ]
        return groups.map { group in { group().compactMap { $0 } } }
    }

    public var summary: String {
        String(format: "seed 0x%016llX, stream %u, row %llu, d = %d (row #%d)", seed, stream, row, dimension, index)
    }

    public var swiftExpression: String {
        "try NoiseRowCase(seed: \(seed), stream: \(stream), row: \(row), dimension: \(dimension))"
    }
}
