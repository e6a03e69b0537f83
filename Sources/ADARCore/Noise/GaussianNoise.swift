import Foundation

/// The counter-based standard normal noise of spec S8, in binary64:
/// `ε` is a pure function of `(seed, stream, row, k)`, so any number of
/// threads and any port draw the same values.
public struct GaussianNoise: Equatable, Sendable {
    public let seed: UInt64
    public let stream: UInt32

    public init(seed: UInt64, stream: UInt32) {
        self.seed = seed
        self.stream = stream
    }

    /// Counter `(q, low32(b), high32(b), stream)` for block `q` of row `b`.
    @inlinable
    public func counter(row: UInt64, block q: UInt32) -> SIMD4<UInt32> {
        SIMD4(q, UInt32(truncatingIfNeeded: row), UInt32(truncatingIfNeeded: row >> 32), stream)
    }

    /// Key `(low32(seed), high32(seed))`.
    @inlinable
    public var key: SIMD2<UInt32> {
        SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
    }

    /// The four normals of block `q` of row `b` (components `4q … 4q+3`).
    public func normals(row: UInt64, block q: UInt32) -> SIMD4<Double> {
        let w = Philox4x32.block(counter: counter(row: row, block: q), key: key)
        let (n0, n1) = Self.boxMuller(w.x, w.y)
        let (n2, n3) = Self.boxMuller(w.z, w.w)
        return SIMD4(n0, n1, n2, n3)
    }

    /// Component `k` of row `b`: block `k / 4`, lane `k % 4`.
    public func normal(row: UInt64, component k: Int) -> Double {
        normals(row: row, block: UInt32(k / 4))[k % 4]
    }

    /// `d` components of row `b`.
    public func row(_ b: UInt64, dimension d: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(d)
        for q in 0 ..< (d + 3) / 4 {
            let block = normals(row: b, block: UInt32(q))
            for lane in 0..<4 where 4 * q + lane < d { out.append(block[lane]) }
        }
        return out
    }

    /// `u = (w + 0.5)·2⁻³²` maps a 32-bit word into (0, 1) with no endpoint.
    @inlinable
    public static func unitInterval(_ w: UInt32) -> Double {
        (Double(w) + 0.5) * 0x1p-32
    }

    /// Box–Muller in binary64: `r = √(−2 ln u_0)`, `θ = 2π·u_1`; `(r cos θ, r sin θ)`.
    @inlinable
    public static func boxMuller(_ w0: UInt32, _ w1: UInt32) -> (Double, Double) {
        let r = (-2 * log(unitInterval(w0))).squareRoot()
        let theta = 2 * Double.pi * unitInterval(w1)
        return (r * cos(theta), r * sin(theta))
    }
}
