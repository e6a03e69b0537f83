import Foundation
import ADARCore
import ADAR

/// Checks of Proofs/S8-binary32-noise.md: the binary32 Box–Muller of `ADAR`
/// (`BoxMuller32`, `GaussianNoise32`) against the binary64 definition of S8
/// (`GaussianNoise`). Errors are measured as `|x₃₂ − x₆₄| / (|x₆₄| + τ)` in
/// units of the binary32 unit roundoff `2⁻²⁴`; `τ` absorbs the binary64
/// reference's own absolute error near the zeros of sin and cos.
public enum Binary32NoiseChecks {
    public typealias Words = SIMD8<UInt32>
    public typealias Values = SIMD8<Float>
    public typealias LogUnit = @Sendable (Words) -> Values
    public typealias SinCosTurn = @Sendable (Words) -> (Values, Values)
    public typealias Normals = @Sendable (Words, Words) -> (Values, Values)
    public typealias Fill = @Sendable (_ seed: UInt64, _ stream: UInt32, _ row: UInt64, _ d: Int, UnsafeMutablePointer<Float>) -> Void

    /// binary32 unit roundoff.
    public static let unit = 0x1p-24
    /// `S8/B1`: `|ln₃₂ u − ln u| ≤ 10·2⁻²⁴·|ln u|`.
    public static let logBound = 10 * unit
    /// `S8/B2`: `|sin₃₂ − sin₆₄| ≤ 6·2⁻²⁴·(|sin₆₄| + 2⁻²⁴)`, the same for cos.
    public static let sinCosBound = 6 * unit
    /// `S8/B3`: `|ε₃₂ − ε₆₄| ≤ 12·2⁻²⁴·(|ε₆₄| + 2⁻²⁴)`.
    public static let normalBound = 12 * unit
    /// The floor `τ` of B2 and B3.
    public static let floor = 0x1p-24

    public static var claims: [Claim] {
        [
            Claim(id: "S8/B1", title: "binary32 ln u within 10·2⁻²⁴ relative, both branches") { _ in
                checkLogUnit(words: testWords())
            },
            Claim(id: "S8/B2", title: "binary32 sin/cos of the exact quarter-turn reduction within 6·2⁻²⁴") { _ in
                checkSinCos(words: testWords())
            },
            Claim(id: "S8/B3", title: "binary32 normals within 12·2⁻²⁴·(|ε| + 2⁻²⁴) of S8's binary64 normals") { seed in
                checkNormals(words: testWords(), seed: seed)
            },
        ]
    }

    // MARK: - Words

    /// The branch edges and extreme words: 0, 1, 2³¹, the ¾ switch
    /// `0xC000_0000 ± k`, the quadrant switches `2³⁰·q ± 2²⁹ ± k`, the
    /// exponent steps 2^j, the √½-mantissa switch, and 2³² − 1 − k.
    public static func edgeWords() -> [UInt32] {
        var words: [UInt32] = []
        let around = { (center: UInt32) in for k: UInt32 in 0...4 { words += [center &- k, center &+ k] } }
        around(0); around(0xC000_0000); around(0x8000_0000); around(UInt32.max)
        for q: UInt32 in 0..<4 { around(q << 30); around((q << 30) &+ 0x2000_0000) }
        for j: UInt32 in 0..<32 { around(1 << j) }
        // u = 2^j·√½: the mantissa reduction's switch (m ≥ √2 carries).
        for j in 1...32 { around(UInt32(min(Double(UInt32.max), (0.5.squareRoot() * 0x1p32 * pow(2, -Double(j - 1))).rounded()))) }
        return words
    }

    /// `edgeWords` plus a strided sweep of `count` words (an odd stride, so
    /// low and high bits both vary), for the debug-build tests.
    public static func testWords(count: Int = 1 << 17) -> [UInt32] {
        edgeWords() + (0..<UInt32(count)).map { $0 &* 32_771 &* 1_000_003 &+ 0x1234_5678 }
    }

    // MARK: - Checks

    /// `S8/B1`: the relative error of `logUnit` against binary64 `log(u)`.
    public static func checkLogUnit(words: [UInt32], logUnit: LogUnit = { BoxMuller32.logUnit($0) }) -> ClaimResult {
        let worst = worstLog(words, logUnit: logUnit)
        return ClaimResult(
            id: "S8/B1", statistic: "max |ln₃₂ − ln| / |ln| over \(words.count) words = \(ulps(worst.error)) × 2⁻²⁴",
            measure: .maxError(worst.error, bound: logBound, unit: "rel"), seed: 0,
            worstCase: String(format: "w = 0x%08X", worst.word))
    }

    /// `S8/B2`: the error of `sinCosTurn` against binary64 `sin`/`cos` of `θ = 2π·u`.
    public static func checkSinCos(words: [UInt32], sinCos: SinCosTurn = { BoxMuller32.sinCosTurn($0) }) -> ClaimResult {
        let worst = worstSinCos(words, sinCos: sinCos)
        return ClaimResult(
            id: "S8/B2", statistic: "max |f₃₂ − f₆₄| / (|f₆₄| + 2⁻²⁴), f = sin, cos, over \(words.count) words = \(ulps(worst.error)) × 2⁻²⁴",
            measure: .maxError(worst.error, bound: sinCosBound, unit: "rel"), seed: 0,
            worstCase: String(format: "w = 0x%08X", worst.word))
    }

    /// `S8/B3`'s `fill` rows: 64 random `(seed, stream, row)` of `d = 67` components.
    public static let fillRows = 64, fillDimension = 67

    /// `S8/B3`: the normals of word pairs `(w, π(w))` for a bijection π, and
    /// of `fill` for 64 random rows of `d = 67` against `GaussianNoise` (this also
    /// pins the Philox words, their block/lane order and the tail). Each `fill` row
    /// is a `NoiseRowCase`; a failing sweep shrinks its first failing row
    /// (docs/Shrinking.md). The word pairs are fixed and name their worst pair.
    public static func checkNormals(
        words: [UInt32], seed: UInt64,
        normals: Normals = { BoxMuller32.normals($0, $1) },
        fill: Fill? = nil
    ) -> ClaimResult {
        let pairs = worstNormals(words, partner: { $0 &* 0x9E37_79B9 &+ 0x7F4A_7C15 }, normals: normals)
        var generator = SeededGenerator(seed: seed)
        return fillSweep(seed: seed, fill: fill) { index in
            let noiseSeed = generator.next(), stream = UInt32(truncatingIfNeeded: generator.next()), row = generator.next()
            return NoiseRowCase(unchecked: noiseSeed, stream, row, fillDimension, index)
        }
        .sweep(cases: fillRows)
        .including(fixedError: pairs.error, at: pairs.at) { error, _ in
            "max |ε₃₂ − ε₆₄| / (|ε₆₄| + 2⁻²⁴) over \(words.count) pairs and \(fillRows) rows × \(fillDimension) = \(ulps(error)) × 2⁻²⁴"
        }
    }

    /// `S8/B3` on the one `fill` row `c` (`GaussianNoise32.fill` unless `fill` is given): how a
    /// shrunk counterexample is replayed.
    public static func checkNormals(on c: NoiseRowCase, fill: Fill? = nil) -> ClaimResult {
        fillSweep(seed: 0, fill: fill) { _ in c }.single(c)
    }

    static func fillSweep(seed: UInt64, fill: Fill?, draw: @escaping (Int) -> NoiseRowCase) -> CaseSweep<NoiseRowCase, FillTally, Never> {
        CaseSweep(
            claimID: "S8/B3", call: "Binary32NoiseChecks.checkNormals(on: c", argument: "fill", tested: fill,
            reference: { GaussianNoise32(seed: $0, stream: $1).fill(row: $2, dimension: $3, into: $4) },
            emptyTally: FillTally(), draw: draw, run: { c, fill, tally in runFill(c, fill, into: &tally) },
            result: { tally, _ in
                ClaimResult(
                    id: "S8/B3",
                    statistic: "max |ε₃₂ − ε₆₄| / (|ε₆₄| + 2⁻²⁴) over \(tally.rows) fill rows (\(tally.values) values) = \(ulps(tally.worst.error)) × 2⁻²⁴",
                    measure: .maxError(tally.worst.error, bound: normalBound, unit: "rel"), seed: seed, worstCase: tally.worst.at)
            })
    }

    /// One `fill` row against `GaussianNoise`'s binary64 row.
    static func runFill(_ c: NoiseRowCase, _ fill: Fill, into tally: inout FillTally) {
        let d = c.dimension
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { buffer.deallocate() }
        fill(c.seed, c.stream, c.row, d, buffer)
        let reference = GaussianNoise(seed: c.seed, stream: c.stream).row(c.row, dimension: d)
        tally.rows += 1
        for k in 0..<d {
            tally.values += 1
            let error = relativeError(Double(buffer[k]), reference[k], floor: floor)
            if !(error <= tally.worst.error) {
                tally.worst = (error, String(format: "fill seed 0x%016llX stream %u row %llu k %d", c.seed, c.stream, c.row, k))
            }
        }
    }

    // MARK: - Sweeps (also used by `adar-bench --exhaustive-noise-check`)

    public static func worstLog(_ words: [UInt32], logUnit: LogUnit) -> (error: Double, word: UInt32) {
        var worst = (error: 0.0, word: UInt32(0))
        forEachOctet(words) { w in
            let value = logUnit(w)
            for i in 0..<8 {
                let exact = log(GaussianNoise.unitInterval(w[i]))
                let error = relativeError(Double(value[i]), exact, floor: 0)
                if !(error <= worst.error) { worst = (error, w[i]) }
            }
        }
        return worst
    }

    public static func worstSinCos(_ words: [UInt32], sinCos: SinCosTurn) -> (error: Double, word: UInt32) {
        var worst = (error: 0.0, word: UInt32(0))
        forEachOctet(words) { w in
            let (sine, cosine) = sinCos(w)
            for i in 0..<8 {
                let theta = 2 * Double.pi * GaussianNoise.unitInterval(w[i])
                let error = max(relativeError(Double(sine[i]), sin(theta), floor: floor),
                                relativeError(Double(cosine[i]), cos(theta), floor: floor))
                if !(error <= worst.error) { worst = (error, w[i]) }
            }
        }
        return worst
    }

    public static func worstNormals(
        _ words: [UInt32], partner: (UInt32) -> UInt32, normals: Normals
    ) -> (error: Double, at: String) {
        var worst = (error: 0.0, at: "")
        forEachOctet(words) { w0 in
            var w1 = Words()
            for i in 0..<8 { w1[i] = partner(w0[i]) }
            let (n0, n1) = normals(w0, w1)
            for i in 0..<8 {
                let (e0, e1) = GaussianNoise.boxMuller(w0[i], w1[i])
                let error = max(relativeError(Double(n0[i]), e0, floor: floor), relativeError(Double(n1[i]), e1, floor: floor))
                if !(error <= worst.error) { worst = (error, String(format: "w0 = 0x%08X, w1 = 0x%08X", w0[i], w1[i])) }
            }
        }
        return worst
    }

    /// `|x − reference| / (|reference| + floor)`; NaN when `x` is not finite.
    static func relativeError(_ x: Double, _ reference: Double, floor: Double) -> Double {
        x.isFinite ? abs(x - reference) / (abs(reference) + floor) : .nan
    }

    static func ulps(_ error: Double) -> String { String(format: "%.3f", error / unit) }

    /// Calls `body` on the words eight at a time (the last octet padded with its first word).
    static func forEachOctet(_ words: [UInt32], _ body: (Words) -> Void) {
        var start = 0
        while start < words.count {
            var octet = Words(repeating: words[start])
            for i in 0 ..< min(8, words.count - start) { octet[i] = words[start + i] }
            body(octet)
            start += 8
        }
    }
}

/// What S8/B3 tallies over its `fill` rows.
struct FillTally {
    var rows = 0, values = 0
    var worst = (error: 0.0, at: "")
}
