import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a small, seeded, repeatable
/// generator for random test inputs. Not the ADAR noise (that is S8's Philox).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal by the polar method (independent of S8's Box–Muller).
    public mutating func normal() -> Double {
        while true {
            let u = Double.random(in: -1..<1, using: &self), v = Double.random(in: -1..<1, using: &self)
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * (-2 * log(s) / s).squareRoot() }
        }
    }

    /// `count` standard normals.
    public mutating func normals(_ count: Int) -> [Double] { (0..<count).map { _ in normal() } }
}
