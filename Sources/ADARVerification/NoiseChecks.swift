import Foundation
import ADARCore
import GSLOracle

/// The S8 entry points a noise check exercises. `.reference` is ADARCore's
/// `Philox4x32` / `GaussianNoise`; a test passes a deliberately broken one.
public struct NoiseImplementation: Sendable {
    public typealias PhiloxBlock = @Sendable (_ counter: SIMD4<UInt32>, _ key: SIMD2<UInt32>) -> SIMD4<UInt32>
    public typealias BoxMuller = @Sendable (_ w0: UInt32, _ w1: UInt32) -> (Double, Double)
    public typealias Normal = @Sendable (_ seed: UInt64, _ stream: UInt32, _ row: UInt64, _ component: Int) -> Double
    public typealias Row = @Sendable (_ seed: UInt64, _ stream: UInt32, _ row: UInt64, _ dimension: Int) -> [Double]

    public var philoxBlock: PhiloxBlock
    public var boxMuller: BoxMuller
    /// `GaussianNoise(seed:stream:).normal(row:component:)`.
    public var normal: Normal
    /// `GaussianNoise(seed:stream:).row(_:dimension:)`.
    public var row: Row

    public init(philoxBlock: @escaping PhiloxBlock, boxMuller: @escaping BoxMuller, normal: @escaping Normal, row: @escaping Row) {
        self.philoxBlock = philoxBlock
        self.boxMuller = boxMuller
        self.normal = normal
        self.row = row
    }

    public static let reference = NoiseImplementation(
        philoxBlock: { Philox4x32.block(counter: $0, key: $1) },
        boxMuller: { GaussianNoise.boxMuller($0, $1) },
        normal: { GaussianNoise(seed: $0, stream: $1).normal(row: $2, component: $3) },
        row: { GaussianNoise(seed: $0, stream: $1).row($2, dimension: $3) }
    )
}

/// Checks of Proofs/S8-noise.md (S8 noise).
public enum NoiseChecks {
    public static var claims: [Claim] {
        [
            Claim(id: "S8/K1", title: "Philox4x32-10 known answers, counter/key layout and Box–Muller lanes are exact",
                  defaultSeed: 20_260_801) { try checkKnownAnswersAndLayout(seed: $0) },
            Claim(id: "S8/M1", title: "mean, variance, skewness and excess kurtosis match N(0, 1)",
                  defaultSeed: 20_260_802) { try checkMoments(seed: $0) },
            Claim(id: "S8/X1", title: "χ² goodness of fit to N(0, 1) over equiprobable bins",
                  defaultSeed: 20_260_803) { try checkChiSquare(seed: $0) },
            Claim(id: "S8/C1", title: "no correlation between neighbouring rows, components, streams and seeds",
                  defaultSeed: 20_260_804) { try checkCorrelations(seed: $0) },
        ]
    }
}

// MARK: - S8/K1: the oracle, written from the S8 text alone

extension NoiseChecks {
    /// The three known answers of S8: (counter, key, output).
    public static let philoxKnownAnswers: [(counter: SIMD4<UInt32>, key: SIMD2<UInt32>, output: SIMD4<UInt32>)] = [
        (SIMD4(0, 0, 0, 0), SIMD2(0, 0), SIMD4(0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8)),
        (SIMD4(repeating: 0xFFFF_FFFF), SIMD2(repeating: 0xFFFF_FFFF), SIMD4(0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD)),
        (SIMD4(0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), SIMD2(0xA409_3822, 0x299F_31D0),
         SIMD4(0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1)),
    ]

    /// Philox4x32-10 as S8 states it: round `r` uses key `(k0 + r·W0, k1 + r·W1)`
    /// (computed afresh, not accumulated) and maps `(c0, c1, c2, c3)` to
    /// `(hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0))`.
    static func oraclePhilox(_ counter: [UInt32], _ key: (UInt32, UInt32)) -> [UInt32] {
        var c = counter
        for r in UInt32(0)..<10 {
            let k0 = key.0 &+ r &* 0x9E37_79B9, k1 = key.1 &+ r &* 0xBB67_AE85
            let (hi0, lo0) = UInt32(0xD251_1F53).multipliedFullWidth(by: c[0])
            let (hi1, lo1) = UInt32(0xCD9E_8D57).multipliedFullWidth(by: c[2])
            c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
        }
        return c
    }

    /// Box–Muller as S8 states it, in binary64: `u = (2w + 1)·2⁻³³` (exactly
    /// `(w + 0.5)·2⁻³²`), `r = √(−2 ln u₀)`, `θ = 2π·u₁`.
    static func oracleBoxMuller(_ w0: UInt32, _ w1: UInt32) -> (Double, Double) {
        let u0 = Double(2 * UInt64(w0) + 1) * 0x1p-33, u1 = Double(2 * UInt64(w1) + 1) * 0x1p-33
        let r = sqrt(-2 * log(u0)), theta = 2 * Double.pi * u1
        return (r * cos(theta), r * sin(theta))
    }

    /// `ε_k` of row `b`: counter `(k/4, low32(b), high32(b), stream)`, key
    /// `(low32(seed), high32(seed))`, lane `k % 4` of Box–Muller on `(w0, w1)`, `(w2, w3)`.
    static func oracleNormal(seed: UInt64, stream: UInt32, row b: UInt64, component k: Int) -> Double {
        let counter = [UInt32(k / 4), UInt32(b & 0xFFFF_FFFF), UInt32(b >> 32), stream]
        let w = oraclePhilox(counter, (UInt32(seed & 0xFFFF_FFFF), UInt32(seed >> 32)))
        let lane = k % 4
        let pair = lane < 2 ? oracleBoxMuller(w[0], w[1]) : oracleBoxMuller(w[2], w[3])
        return lane % 2 == 0 ? pair.0 : pair.1
    }

    /// Words at the edges of `u`'s range and of `θ`'s quadrants.
    static let edgeWords: [UInt32] = [0, 1, 0x4000_0000, 0x7FFF_FFFF, 0x8000_0000, 0xC000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF]

    /// Hand-picked `(seed, stream, row)` that separate every half of the layout:
    /// seed and row ≥ 2³², low and high words different, and all-ones.
    static let layoutAnchors: [(seed: UInt64, stream: UInt32, row: UInt64)] = [
        (0, 0, 0),
        (0x0000_0001_0000_0000, 0, 0x0000_0001_0000_0000),
        (0x0123_4567_89AB_CDEF, 7, 0x0000_0002_0000_0001),
        (42, 1, 0xFEDC_BA98_7654_3210),
        (.max, .max, .max),
    ]

    /// S8/K1: the Philox known answers, then `normal` and `row` against the
    /// oracle layout and Box–Muller (bit for bit), then `boxMuller` on edge and
    /// random words, then rows drawn concurrently against rows drawn serially.
    public static func checkKnownAnswersAndLayout(
        _ noise: NoiseImplementation = .reference, seed: UInt64
    ) throws -> ClaimResult {
        var cases = 0, mismatches = 0, firstMismatch = ""
        func record(_ agree: Bool, _ what: @autoclosure () -> String) {
            cases += 1
            if !agree {
                mismatches += 1
                if firstMismatch.isEmpty { firstMismatch = what() }
            }
        }
        func hex(_ v: SIMD4<UInt32>) -> String { (0..<4).map { String(format: "%08x", v[$0]) }.joined(separator: " ") }

        for (counter, key, output) in philoxKnownAnswers {
            let oracle = oraclePhilox([counter.x, counter.y, counter.z, counter.w], (key.x, key.y))
            record(oracle == [output.x, output.y, output.z, output.w], "the oracle Philox fails the known answer \(hex(output))")
            let got = noise.philoxBlock(counter, key)
            record(got == output, "Philox(\(hex(counter)); \(key.x), \(key.y)) = \(hex(got)), expected \(hex(output))")
        }

        var generator = SeededGenerator(seed: seed)
        var points = layoutAnchors.flatMap { anchor in (0..<13).map { (anchor.seed, anchor.stream, anchor.row, $0) } }
        for _ in 0..<200 {
            points.append((generator.next(), UInt32.random(in: .min ... .max, using: &generator),
                           generator.next(), Int.random(in: 0..<4096, using: &generator)))
        }
        for (s, stream, b, k) in points {
            let expected = oracleNormal(seed: s, stream: stream, row: b, component: k)
            let got = noise.normal(s, stream, b, k)
            record(got.bitPattern == expected.bitPattern,
                   "normal(seed \(s), stream \(stream), row \(b), k \(k)) = \(got), expected \(expected)")
        }

        var rowRequests = layoutAnchors.map { ($0.seed, $0.stream, $0.row, 13) }
        for _ in 0..<50 {
            rowRequests.append((generator.next(), UInt32.random(in: .min ... .max, using: &generator),
                                generator.next(), Int.random(in: 1...13, using: &generator)))
        }
        for (s, stream, b, d) in rowRequests {
            let got = noise.row(s, stream, b, d)
            let expected = (0..<d).map { oracleNormal(seed: s, stream: stream, row: b, component: $0) }
            record(got.map(\.bitPattern) == expected.map(\.bitPattern),
                   "row(seed \(s), stream \(stream), row \(b), d \(d)) = \(got), expected \(expected)")
        }

        var wordPairs = edgeWords.flatMap { w0 in edgeWords.map { (w0, $0) } }
        for _ in 0..<200 {
            wordPairs.append((UInt32.random(in: .min ... .max, using: &generator), UInt32.random(in: .min ... .max, using: &generator)))
        }
        for (w0, w1) in wordPairs {
            let got = noise.boxMuller(w0, w1), expected = oracleBoxMuller(w0, w1)
            record(got.0.bitPattern == expected.0.bitPattern && got.1.bitPattern == expected.1.bitPattern,
                   "boxMuller(\(w0), \(w1)) = \(got), expected \(expected)")
        }

        // ε is a pure function of (seed, stream, row, k): two threads, rows in any order, same bits.
        let threadSeed = generator.next(), threadStream = UInt32.random(in: .min ... .max, using: &generator)
        let firstRow = generator.next(), rowCount = 64, dimension = 8
        let serial = (0..<rowCount).flatMap { noise.row(threadSeed, threadStream, firstRow &+ UInt64($0), dimension) }
        var concurrent = [Double](repeating: .nan, count: rowCount * dimension)
        concurrent.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: rowCount) { i in
                let j = rowCount - 1 - i   // the reverse of the serial order
                for (k, value) in noise.row(threadSeed, threadStream, firstRow &+ UInt64(j), dimension).enumerated() {
                    out[j * dimension + k] = value
                }
            }
        }
        record(serial.map(\.bitPattern) == concurrent.map(\.bitPattern),
               "rows \(firstRow)… (seed \(threadSeed), stream \(threadStream)) differ when drawn concurrently")

        return ClaimResult(
            id: "S8/K1",
            statistic: "3 known answers, \(points.count) components, \(rowRequests.count) rows, "
                + "\(wordPairs.count) Box–Muller word pairs, \(rowCount) rows on 2 threads; bit-exact",
            measure: .exact(mismatches: mismatches, cases: cases), seed: seed, worstCase: firstMismatch)
    }
}

// MARK: - Samples for the statistical claims

extension NoiseChecks {
    /// `rows × dimension` normals from consecutive rows of one `(seed, stream)`,
    /// all three drawn from `seed` (so seeds and rows ≥ 2³² are exercised).
    static func sample(_ noise: NoiseImplementation, seed: UInt64, rows: Int, dimension: Int) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let noiseSeed = generator.next(), stream = UInt32.random(in: .min ... .max, using: &generator)
        let firstRow = generator.next()
        var values = [Double]()
        values.reserveCapacity(rows * dimension)
        for i in 0..<rows { values += noise.row(noiseSeed, stream, firstRow &+ UInt64(i), dimension) }
        return values
    }

    /// `2·min(P(Z ≤ z), P(Z ≥ z))` for a standard normal `Z`.
    static func twoSidedNormalPValue(_ z: Double) -> Double {
        z.isNaN ? 0 : min(1, 2 * GSL.normalUpperTail(abs(z)))
    }
}

// MARK: - S8/M1: moments

extension NoiseChecks {
    /// S8/M1 sample: 16384 rows of dimension 64 (N = 2²⁰).
    public static let momentRows = 16384, momentDimension = 64

    /// S8/M1: mean, variance, skewness g₁ and excess kurtosis g₂ of N normals,
    /// each tested against its N(0, 1) sampling distribution; Bonferroni over
    /// the four, α = 1e-4 in total (the reported p is the adjusted `4·min pᵢ`).
    public static func checkMoments(
        _ noise: NoiseImplementation = .reference, seed: UInt64,
        rows: Int = momentRows, dimension: Int = momentDimension
    ) throws -> ClaimResult {
        let x = sample(noise, seed: seed, rows: rows, dimension: dimension)
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        var m2 = 0.0, m3 = 0.0, m4 = 0.0
        for value in x {
            let d = value - mean, d2 = d * d
            m2 += d2; m3 += d2 * d; m4 += d2 * d2
        }
        m2 /= n; m3 /= n; m4 /= n
        let variance = m2 * n / (n - 1)
        let g1 = m3 / (m2 * m2.squareRoot()), g2 = m4 / (m2 * m2) - 3

        // Exact N(0, 1) sampling laws: x̄ ~ N(0, 1/N); (N − 1)s² ~ χ²_{N−1};
        // E g₁ = 0, Var g₁ = 6(N−2)/((N+1)(N+3)); E g₂ = −6/(N+1),
        // Var g₂ = 24N(N−2)(N−3)/((N+1)²(N+3)(N+5)); g₁, g₂ taken as normal.
        let zMean = mean * n.squareRoot()
        let chiSquare = (n - 1) * variance
        let upper = GSL.chiSquareUpperTail(chiSquare, degreesOfFreedom: n - 1)
        let varG1 = 6 * (n - 2) / ((n + 1) * (n + 3))
        let varG2 = 24 * n * (n - 2) * (n - 3) / ((n + 1) * (n + 1) * (n + 3) * (n + 5))
        let zG1 = g1 / varG1.squareRoot(), zG2 = (g2 + 6 / (n + 1)) / varG2.squareRoot()
        let tests: [(name: String, p: Double)] = [
            ("mean \(short(mean)) (z = \(short(zMean)))", twoSidedNormalPValue(zMean)),
            ("variance \(short(variance)) (χ² = \(short(chiSquare)), ν = \(x.count - 1))",
             chiSquare.isNaN ? 0 : min(1, 2 * min(upper, 1 - upper))),
            ("skewness g₁ = \(short(g1)) (z = \(short(zG1)))", twoSidedNormalPValue(zG1)),
            ("excess kurtosis g₂ = \(short(g2)) (z = \(short(zG2)))", twoSidedNormalPValue(zG2)),
        ]
        let worst = tests.min { $0.p < $1.p }!
        return ClaimResult(
            id: "S8/M1",
            statistic: "N = \(x.count): " + tests.map(\.name).joined(separator: ", ") + "; Bonferroni × 4",
            measure: .pValue(min(1, 4 * worst.p), alpha: 1e-4), seed: seed,
            worstCase: "\(worst.name), unadjusted p = \(short(worst.p))")
    }
}

// MARK: - S8/X1: χ² goodness of fit

extension NoiseChecks {
    /// S8/X1 sample: 16384 rows of dimension 64 (N = 2²⁰) into K = 256 bins.
    public static let chiSquareRows = 16384, chiSquareDimension = 64, chiSquareBins = 256

    /// S8/X1: counts of N normals in K bins equiprobable under N(0, 1) (edges
    /// `GSL.normalQuantile(i/K)`), Pearson's χ², p from χ²_{K−1}; α = 1e-3.
    /// A non-finite value fails outright (p = 0).
    public static func checkChiSquare(
        _ noise: NoiseImplementation = .reference, seed: UInt64,
        rows: Int = chiSquareRows, dimension: Int = chiSquareDimension, bins: Int = chiSquareBins
    ) throws -> ClaimResult {
        let x = sample(noise, seed: seed, rows: rows, dimension: dimension)
        let edges = (1..<bins).map { GSL.normalQuantile(Double($0) / Double(bins)) }
        var counts = [Int](repeating: 0, count: bins)
        var firstNonFinite: Int?
        for (i, value) in x.enumerated() {
            guard value.isFinite else {
                if firstNonFinite == nil { firstNonFinite = i }
                continue
            }
            // The bin is the number of edges ≤ value (binary search).
            var lo = 0, hi = edges.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if edges[mid] <= value { lo = mid + 1 } else { hi = mid }
            }
            counts[lo] += 1
        }
        let expected = Double(x.count) / Double(bins)
        let chiSquare = counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        let p = firstNonFinite == nil ? GSL.chiSquareUpperTail(chiSquare, degreesOfFreedom: Double(bins - 1)) : 0
        let (worstBin, worstCount) = counts.enumerated().max {
            abs(Double($0.element) - expected) < abs(Double($1.element) - expected)
        }!
        let worstCase = firstNonFinite.map { "value \(x[$0]) at sample \($0)" }
            ?? "bin \(worstBin) holds \(worstCount), expected \(short(expected))"
        return ClaimResult(
            id: "S8/X1",
            statistic: "χ² = \(short(chiSquare)) on \(bins - 1) dof, N = \(x.count), K = \(bins)",
            measure: .pValue(p, alpha: 1e-3), seed: seed, worstCase: worstCase)
    }
}

// MARK: - S8/C1: correlations

extension NoiseChecks {
    /// S8/C1 sample: 32768 random `(seed, stream, row)` points, dimension 8.
    public static let correlationPoints = 32768

    /// Pearson's r and its exact two-sided p under independence of normal
    /// pairs: `t = r·√((n−2)/(1−r²)) ~ t_{n−2}`.
    static func pearson(_ x: [Double], _ y: [Double]) -> (r: Double, p: Double) {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my)
        }
        let r = sxy / (sxx * syy).squareRoot()
        guard r.isFinite, abs(r) < 1 else { return (r, 0) }
        let t = r * ((n - 2) / (1 - r * r)).squareRoot()
        return (r, min(1, 2 * GSL.studentTUpperTail(abs(t), degreesOfFreedom: n - 2)))
    }

    /// S8/C1: at random points `(seed, stream, b)`, the 8 components of row b
    /// against those of row b+1, stream+1 and seed+1 (8 pairs per point), and
    /// components (k, k+1) for k % 4 = 0, 1, 2 (within a block) and k = 3
    /// (across the block boundary). Seven Pearson tests, Bonferroni, α = 1e-4
    /// in total (the reported p is the adjusted `7·min pᵢ`).
    public static func checkCorrelations(
        _ noise: NoiseImplementation = .reference, seed: UInt64, points: Int = correlationPoints
    ) throws -> ClaimResult {
        let dimension = 8
        var generator = SeededGenerator(seed: seed)
        var base = [Double](), nextRow = [Double](), nextStream = [Double](), nextSeed = [Double]()
        for _ in 0..<points {
            let s = generator.next(), stream = UInt32.random(in: .min ... .max, using: &generator), b = generator.next()
            base += noise.row(s, stream, b, dimension)
            nextRow += noise.row(s, stream, b &+ 1, dimension)
            nextStream += noise.row(s, stream &+ 1, b, dimension)
            nextSeed += noise.row(s &+ 1, stream, b, dimension)
        }
        func componentPairs(lane: Int) -> ([Double], [Double]) {
            let ks = stride(from: lane, to: dimension - 1, by: 4)
            let pairs = (0..<points).flatMap { i in ks.map { (base[i * dimension + $0], base[i * dimension + $0 + 1]) } }
            return (pairs.map(\.0), pairs.map(\.1))
        }
        var pairs: [(name: String, x: [Double], y: [Double])] = [
            ("rows (b, b+1)", base, nextRow),
            ("streams (s, s+1)", base, nextStream),
            ("seeds (seed, seed+1)", base, nextSeed),
        ]
        for lane in 0..<4 {
            let (x, y) = componentPairs(lane: lane)
            pairs.append(("components (k, k+1), k % 4 = \(lane)\(lane == 3 ? " (block boundary)" : "")", x, y))
        }
        let tests = pairs.map { pair in
            let (r, p) = pearson(pair.x, pair.y)
            return (name: "\(pair.name): r = \(short(r)) over \(pair.x.count)", p: p)
        }
        let worst = tests.min { $0.p < $1.p }!
        return ClaimResult(
            id: "S8/C1",
            statistic: "\(tests.count) Pearson tests at \(points) points: " + tests.map(\.name).joined(separator: "; ")
                + "; Bonferroni × \(tests.count)",
            measure: .pValue(min(1, Double(tests.count) * worst.p), alpha: 1e-4), seed: seed,
            worstCase: "\(worst.name), unadjusted p = \(short(worst.p))")
    }
}
