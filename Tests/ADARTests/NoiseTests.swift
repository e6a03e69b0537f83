import Foundation
import Testing
import ADARCore
import ADARVerification

/// A test-only S8 noise with one switchable bug at a time; with every switch
/// off it is S8 (written here so a bug can be planted anywhere in the chain).
private struct MutantNoise: Sendable {
    var multipliersSwapped = false
    var rounds = 10
    var keyBumped = true
    var lanes23FromFirstPair = false
    var rowHalvesSwapped = false
    var rowCounterShared = false      // rows b and b+1 (b even) share a counter
    var streamIgnored = false
    var seedLowWordDropped = false
    var halfOffsetMissing = false     // u = w·2⁻³²
    var halfCircle = false            // θ = π·u₁
    var factorTwoMissing = false      // r = √(−ln u₀)
    var scale = 1.0
    var shift = 0.0

    func block(_ counter: SIMD4<UInt32>, _ key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        let m0 = multipliersSwapped ? Philox4x32.multiplier1 : Philox4x32.multiplier0
        let m1 = multipliersSwapped ? Philox4x32.multiplier0 : Philox4x32.multiplier1
        var c = counter, k = key
        for _ in 0..<rounds {
            let (hi0, lo0) = m0.multipliedFullWidth(by: c.x)
            let (hi1, lo1) = m1.multipliedFullWidth(by: c.z)
            c = SIMD4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0)
            if keyBumped { k &+= SIMD2(Philox4x32.keyIncrement0, Philox4x32.keyIncrement1) }
        }
        return c
    }

    func unitInterval(_ w: UInt32) -> Double {
        halfOffsetMissing ? Double(w) * 0x1p-32 : (Double(w) + 0.5) * 0x1p-32
    }

    func boxMuller(_ w0: UInt32, _ w1: UInt32) -> (Double, Double) {
        let r = ((factorTwoMissing ? -1 : -2) * log(unitInterval(w0))).squareRoot()
        let theta = (halfCircle ? 1 : 2) * Double.pi * unitInterval(w1)
        return (r * cos(theta) * scale + shift, r * sin(theta) * scale + shift)
    }

    func normals(seed: UInt64, stream: UInt32, row: UInt64, block q: Int) -> [Double] {
        let b = rowCounterShared ? row >> 1 : row
        let low = UInt32(truncatingIfNeeded: b), high = UInt32(truncatingIfNeeded: b >> 32)
        let counter = SIMD4(UInt32(q), rowHalvesSwapped ? high : low, rowHalvesSwapped ? low : high,
                            streamIgnored ? 0 : stream)
        let key = SIMD2(seedLowWordDropped ? 0 : UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let w = block(counter, key)
        let (n0, n1) = boxMuller(w.x, w.y)
        let (n2, n3) = lanes23FromFirstPair ? (n0, n1) : boxMuller(w.z, w.w)
        return [n0, n1, n2, n3]
    }

    var implementation: NoiseImplementation {
        NoiseImplementation(
            philoxBlock: { block($0, $1) },
            boxMuller: { boxMuller($0, $1) },
            normal: { seed, stream, row, k in normals(seed: seed, stream: stream, row: row, block: k / 4)[k % 4] },
            row: { seed, stream, row, d in
                (0..<(d + 3) / 4).flatMap { normals(seed: seed, stream: stream, row: row, block: $0) }.prefix(d).map { $0 }
            })
    }
}

private func pValue(_ result: ClaimResult) -> Double {
    if case let .pValue(p, _) = result.measure { return p }
    return .nan
}

/// Expects a statistical checker to reject a bug with room to spare (power).
private func expectOverwhelminglyRejected(_ result: ClaimResult, sourceLocation: SourceLocation = #_sourceLocation) {
    expectRejected(result, sourceLocation: sourceLocation)
    #expect(pValue(result) < 1e-6, "\(result)", sourceLocation: sourceLocation)
}

@Suite("S8 noise (Proofs/S8-noise.md)")
struct NoiseTests {
    static func seed(_ id: String) -> UInt64 { seedFromEnvironment() ?? Claims.claim(id)!.defaultSeed }

    // MARK: S8/K1

    @Test("S8/K1 Philox known answers, layout and Box–Muller lanes are bit-exact")
    func knownAnswersAndLayout() throws { try expectClaim("S8/K1") }

    @Test("S8/K1 the test-only mutant with no bug planted passes (it is S8)")
    func mutantWithoutBugPasses() throws {
        let result = try NoiseChecks.checkKnownAnswersAndLayout(MutantNoise().implementation, seed: Self.seed("S8/K1"))
        #expect(result.passed, "\(result)")
    }

    @Test("S8/K1 rejects swapped multipliers")
    func rejectsSwappedMultipliers() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(multipliersSwapped: true).implementation, seed: Self.seed("S8/K1")))
    }

    @Test("S8/K1 rejects 7 rounds")
    func rejectsSevenRounds() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(rounds: 7).implementation, seed: Self.seed("S8/K1")))
    }

    @Test("S8/K1 rejects a key that is not bumped")
    func rejectsUnbumpedKey() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(keyBumped: false).implementation, seed: Self.seed("S8/K1")))
    }

    @Test("S8/K1 rejects lanes 2 and 3 taken from (w0, w1)")
    func rejectsLanes23FromFirstPair() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(lanes23FromFirstPair: true).implementation, seed: Self.seed("S8/K1")))
    }

    @Test("S8/K1 rejects the low and high words of the row swapped")
    func rejectsRowHalvesSwapped() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(rowHalvesSwapped: true).implementation, seed: Self.seed("S8/K1")))
    }

    @Test("S8/K1 rejects u = w·2⁻³² (no +0.5), which S8/X1 cannot see")
    func rejectsMissingHalfOffset() throws {
        expectRejected(try NoiseChecks.checkKnownAnswersAndLayout(
            MutantNoise(halfOffsetMissing: true).implementation, seed: Self.seed("S8/K1")))
        // The word w0 = 0 is what it breaks: ln 0 = −∞, so r = +∞.
        #expect(MutantNoise(halfOffsetMissing: true).boxMuller(0, 0).0 == .infinity)
    }

    @Test("S8/K1 extreme words: ε finite, |ε| ≤ √(−2 ln 2⁻³³) = √(66 ln 2), attained at w = (0, 0)")
    func extremeWords() {
        // F1: u = (w + 0.5)·2⁻³² is exact and spans [2⁻³³, 1 − 2⁻³³].
        #expect(GaussianNoise.unitInterval(0) == 0x1p-33 && GaussianNoise.unitInterval(.max) == 1 - 0x1p-33)
        let bound = (66 * 0.693_147_180_559_945_3).squareRoot()   // ≈ 6.7637; ln 2 to 17 digits
        let words: [UInt32] = [0, 1, 0x8000_0000, 0xFFFF_FFFF]
        for w0 in words {
            for w1 in words {
                let (a, b) = GaussianNoise.boxMuller(w0, w1)
                #expect(a.isFinite && b.isFinite && abs(a) <= bound * (1 + 1e-15) && abs(b) <= bound * (1 + 1e-15))
            }
        }
        // Proofs/S8-noise.md: ε(0, 0) = r·cos(2π·2⁻³³) = r to within 1e-15 relative.
        #expect(abs(GaussianNoise.boxMuller(0, 0).0 / bound - 1) <= 1e-15)
        // u < 1 at w = 2³² − 1, so r > 0: r = √(−2 ln(1 − 2⁻³³)) = 2⁻¹⁶·(1 + 2⁻³⁵ + …).
        #expect(abs(hypot(GaussianNoise.boxMuller(.max, 0).0, GaussianNoise.boxMuller(.max, 0).1) / 0x1p-16 - 1) <= 1e-10)
    }

    // MARK: S8/M1

    @Test("S8/M1 mean, variance, skewness and excess kurtosis match N(0, 1)")
    func moments() throws { try expectClaim("S8/M1") }

    @Test("S8/M1 rejects a generator with variance 1.05")
    func momentsRejectVariance() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkMoments(
            MutantNoise(scale: 1.05.squareRoot()).implementation, seed: Self.seed("S8/M1")))
    }

    @Test("S8/M1 rejects a generator with mean 0.02")
    func momentsRejectMean() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkMoments(
            MutantNoise(shift: 0.02).implementation, seed: Self.seed("S8/M1")))
    }

    // MARK: S8/X1

    @Test("S8/X1 χ² goodness of fit to N(0, 1)")
    func chiSquare() throws { try expectClaim("S8/X1") }

    @Test("S8/X1 rejects θ = π·u₁ (half circle)")
    func chiSquareRejectsHalfCircle() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkChiSquare(
            MutantNoise(halfCircle: true).implementation, seed: Self.seed("S8/X1")))
    }

    @Test("S8/X1 rejects r = √(−ln u) (no factor 2)")
    func chiSquareRejectsMissingFactorTwo() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkChiSquare(
            MutantNoise(factorTwoMissing: true).implementation, seed: Self.seed("S8/X1")))
    }

    @Test("S8/X1 rejects a non-finite value outright")
    func chiSquareRejectsNonFinite() throws {
        let broken = NoiseImplementation(
            philoxBlock: NoiseImplementation.reference.philoxBlock,
            boxMuller: NoiseImplementation.reference.boxMuller,
            normal: NoiseImplementation.reference.normal,
            row: { seed, stream, row, d in
                var values = NoiseImplementation.reference.row(seed, stream, row, d)
                values[0] = -.infinity
                return values
            })
        expectRejected(try NoiseChecks.checkChiSquare(broken, seed: Self.seed("S8/X1"), rows: 4, dimension: 4, bins: 4))
    }

    // MARK: S8/C1

    @Test("S8/C1 no correlation between neighbouring rows, components, streams and seeds")
    func correlations() throws { try expectClaim("S8/C1") }

    @Test("S8/C1 rejects row b+1 reusing row b's counter")
    func correlationsRejectSharedRowCounter() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkCorrelations(
            MutantNoise(rowCounterShared: true).implementation, seed: Self.seed("S8/C1")))
    }

    @Test("S8/C1 rejects an ignored stream")
    func correlationsRejectIgnoredStream() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkCorrelations(
            MutantNoise(streamIgnored: true).implementation, seed: Self.seed("S8/C1")))
    }

    @Test("S8/C1 rejects a key that drops the seed's low word")
    func correlationsRejectDroppedSeedWord() throws {
        expectOverwhelminglyRejected(try NoiseChecks.checkCorrelations(
            MutantNoise(seedLowWordDropped: true).implementation, seed: Self.seed("S8/C1")))
    }
}
