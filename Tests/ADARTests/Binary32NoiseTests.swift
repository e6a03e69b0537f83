import Foundation
import Testing
import ADARCore
import ADAR
import ADARVerification

/// Proofs/S8-binary32-noise.md: the binary32 Box–Muller of `ADAR` against
/// S8's binary64 definition. The registered claims sweep the branch edges
/// and 2¹⁷ strided words; `adar-bench --exhaustive-noise-check` sweeps all 2³².
@Suite("S8 binary32 noise")
struct Binary32NoiseTests {
    typealias Words = Binary32NoiseChecks.Words
    typealias Values = Binary32NoiseChecks.Values

    @Test("S8/B1 binary32 ln u within 10·2⁻²⁴ relative over the edges and a strided sweep")
    func logUnit() throws { try expectClaim("S8/B1") }

    @Test("S8/B1 rejects dropping the complement branch (ln of the rounded u)")
    func logWithoutComplement() {
        expectRejected(Binary32NoiseChecks.checkLogUnit(words: Binary32NoiseChecks.edgeWords()) { w in
            lanes(w) { Float(log(Double(Float(GaussianNoise.unitInterval($0))))) }
        })
    }

    @Test("S8/B1 rejects an atanh polynomial truncated after s³/3")
    func logTruncatedPolynomial() {
        expectRejected(Binary32NoiseChecks.checkLogUnit(words: Binary32NoiseChecks.testWords(count: 1 << 12)) { w in
            lanes(w) { BrokenBoxMuller.logUnit($0, atanhTerms: 2) }
        })
    }

    @Test("S8/B2 binary32 sin/cos within 6·2⁻²⁴ over the edges and a strided sweep")
    func sinCos() throws { try expectClaim("S8/B2") }

    @Test("S8/B2 rejects θ = 2π·u formed from the binary32 u instead of the integer")
    func sinCosFromFloatAngle() {
        expectRejected(Binary32NoiseChecks.checkSinCos(words: Binary32NoiseChecks.edgeWords()) { w in
            let theta = lanes(w) { 2 * Float.pi * Float(GaussianNoise.unitInterval($0)) }
            var sine = Values(), cosine = Values()
            for i in 0..<8 { sine[i] = sinf(theta[i]); cosine[i] = cosf(theta[i]) }
            return (sine, cosine)
        })
    }

    @Test("S8/B2 rejects sin/cos polynomials truncated after φ⁵ and φ⁶")
    func sinCosTruncatedPolynomial() {
        expectRejected(Binary32NoiseChecks.checkSinCos(words: Binary32NoiseChecks.testWords(count: 1 << 12)) { w in
            (lanes(w) { BrokenBoxMuller.sinCos($0, terms: 3).sine }, lanes(w) { BrokenBoxMuller.sinCos($0, terms: 3).cosine })
        })
    }

    @Test("S8/B3 binary32 normals within 12·2⁻²⁴·(|ε| + 2⁻²⁴) of S8, fill included")
    func normals() throws { try expectClaim("S8/B3") }

    @Test("S8/B3 rejects swapped cos and sin lanes")
    func normalsSwapped() {
        expectRejected(Binary32NoiseChecks.checkNormals(words: Binary32NoiseChecks.edgeWords(), seed: 1) { w0, w1 in
            let (n0, n1) = BoxMuller32.normals(w0, w1)
            return (n1, n0)
        })
    }

    @Test("S8/B3 rejects a fill whose Philox key schedule is off by one bit")
    func fillWrongKey() {
        expectRejected(Binary32NoiseChecks.checkNormals(words: [], seed: 1, fill: { seed, stream, row, d, out in
            GaussianNoise32(seed: seed ^ 1, stream: stream).fill(row: row, dimension: d, into: out)
        }))
    }

    @Test("S8/B3 fill gives the same values as the one-block `normal(row:component:)` at every d up to 70")
    func fillMatchesSingleComponent() {
        let noise = GaussianNoise32(seed: 0xDEAD_BEEF_0123_4567, stream: 9)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 70)
        defer { out.deallocate() }
        for d in 1...70 {
            noise.fill(row: 12_345, dimension: d, into: out)
            for k in 0..<d { #expect(out[k] == noise.normal(row: 12_345, component: k), "d \(d) k \(k)") }
        }
    }

    func lanes(_ w: Words, _ f: (UInt32) -> Float) -> Values {
        var result = Values()
        for i in 0..<8 { result[i] = f(w[i]) }
        return result
    }
}

/// Test-only scalar Box–Muller pieces with the same reductions as
/// `BoxMuller32` and shortened polynomials.
enum BrokenBoxMuller {
    static func logUnit(_ w: UInt32, atanhTerms: Int) -> Float {
        let s: Float, e: Float
        if w >= 0xC000_0000 {
            let v = Float(GaussianNoise.unitInterval(~w))
            s = -v / (2 - v); e = 0
        } else {
            let u = Float(GaussianNoise.unitInterval(w))
            var m = u.significand, exponent = Float(u.exponent)
            if m > 1.414_213_5 { m /= 2; exponent += 1 }
            s = (m - 1) / (m + 1); e = exponent
        }
        var sum: Float = 0, power = s
        for n in 0..<atanhTerms { sum += power / Float(2 * n + 1); power *= s * s }
        return e * 0.693_147_18 + 2 * sum
    }

    static func sinCos(_ w: UInt32, terms: Int) -> (sine: Float, cosine: Float) {
        let shifted = w &+ 0x2000_0000
        let quadrant = shifted >> 30
        let offset = Int32(bitPattern: shifted & 0x3FFF_FFFF) &- 0x2000_0000
        let phi = Float(2 * Int64(offset) + 1) * 0x1.921FB6p-31
        var sine: Float = 0, cosine: Float = 0, sinTerm = phi, cosTerm: Float = 1
        for n in 0..<terms {
            sine += sinTerm; cosine += cosTerm
            sinTerm *= -phi * phi / Float((2 * n + 2) * (2 * n + 3))
            cosTerm *= -phi * phi / Float((2 * n + 1) * (2 * n + 2))
        }
        switch quadrant {
        case 0: return (sine, cosine)
        case 1: return (cosine, -sine)
        case 2: return (-sine, -cosine)
        default: return (-cosine, sine)
        }
    }
}
