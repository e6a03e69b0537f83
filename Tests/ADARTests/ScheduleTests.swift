import Foundation
import Testing
import ADARCore
import ADARVerification

/// Proofs/S1-schedules.md: each claim passes on the reference, and each
/// checker rejects a deliberately broken schedule builder.
@Suite("S1 schedules")
struct ScheduleTests {
    // MARK: Broken builders (test-only)

    /// The reference, but ᾱ accumulated in binary32.
    static let alphaBarInFloat: ScheduleBuilder = { kind, steps in
        let tables = try ScheduleChecks.reference(kind, steps)
        var product: Float = 1
        let alphaBar = [1] + tables.beta.dropFirst().map { beta -> Double in
            product *= Float(1 - beta)
            return Double(product)
        }
        return ScheduleTables(beta: tables.beta, alphaBar: alphaBar)
    }

    /// Tables from a β list by the spec's cumulative product.
    static func tables(_ betas: [Double]) -> ScheduleTables {
        var alphaBar = [1.0]
        for beta in betas { alphaBar.append(alphaBar.last! * (1 - beta)) }
        return ScheduleTables(beta: [0] + betas, alphaBar: alphaBar)
    }

    static func cosineF(_ tau: Double, s: Double) -> Double {
        let c = cos((tau + s) / (1 + s) * Double.pi / 2)
        return c * c
    }

    /// Cosine with `β_t = 1 − f(t/T)/f((t−1)/T)` never clipped; other families as the reference.
    static let cosineWithoutClipping: ScheduleBuilder = { kind, steps in
        guard case let .cosine(s, _) = kind else { return try ScheduleChecks.reference(kind, steps) }
        let T = Double(steps)
        return tables((1...steps).map { 1 - cosineF(Double($0) / T, s: s) / cosineF(Double($0 - 1) / T, s: s) })
    }

    /// Cosine off by one step: the 0-based formula `1 − f((t+1)/T)/f(t/T)` applied to the 1-based t.
    static let cosineShiftedByOne: ScheduleBuilder = { kind, steps in
        guard case let .cosine(s, maxBeta) = kind else { return try ScheduleChecks.reference(kind, steps) }
        let T = Double(steps)
        return tables((1...steps).map { min(1 - cosineF(Double($0 + 1) / T, s: s) / cosineF(Double($0) / T, s: s), maxBeta) })
    }

    /// `linspace` dividing by T instead of T − 1 (linear and linear-variance).
    static let linspaceOverT: ScheduleBuilder = { kind, steps in
        func wrongLinspace(_ a: Double, _ b: Double, _ t: Int) -> Double { a + Double(t - 1) * (b - a) / Double(steps) }
        switch kind {
        case let .linear(start, end):
            return tables((1...steps).map { wrongLinspace(start, end, $0) })
        case let .linearVariance(scale, lo, hi, maxBeta):
            let v = (1...steps).map { wrongLinspace(scale * lo, scale * hi, $0) }
            var betas = [v[0]]
            for index in 1..<steps {
                let ratio: Double = (1 - v[index]) / (1 - v[index - 1])
                betas.append(min(1 - ratio, maxBeta))
            }
            return tables(betas)
        default:
            return try ScheduleChecks.reference(kind, steps)
        }
    }

    /// ddpm-linear with the fixed endpoints 1e-4 … 0.02 at every T (no 1000/T rescale).
    static let ddpmWithoutRescale: ScheduleBuilder = { kind, steps in
        try ScheduleChecks.reference(kind == .ddpmLinear ? .linear(start: 1e-4, end: 0.02) : kind, steps)
    }

    /// Silently clamps custom β into (0, 1) and T up to 1 instead of refusing them.
    static let clampingBuilder: ScheduleBuilder = { kind, steps in
        let steps = max(steps, 1)
        guard case let .custom(betas) = kind else { return try ScheduleChecks.reference(kind, steps) }
        return try ScheduleChecks.reference(.custom(betas: betas.map { $0.isNaN ? 0.5 : min(max($0, 1e-12), 0.999) }), steps)
    }

    // MARK: S1/K1

    @Test("S1/K1 cosine T = 1000 known values and clipping")
    func knownCosineValues() throws { try expectClaim("S1/K1") }

    @Test("S1/K1 rejects a cosine without clipping")
    func knownValuesRejectUnclipped() throws {
        expectRejected(try ScheduleChecks.checkCosineKnownValues(builder: Self.cosineWithoutClipping))
    }

    @Test("S1/K1 rejects a cosine off by one step (0- vs 1-based)")
    func knownValuesRejectShift() throws {
        expectRejected(try ScheduleChecks.checkCosineKnownValues(builder: Self.cosineShiftedByOne))
    }

    // MARK: S1/R1

    @Test("S1/R1 every family agrees with an independent recomputation")
    func independentRecomputation() throws { try expectClaim("S1/R1") }

    @Test("S1/R1 rejects linspace dividing by T instead of T − 1")
    func recomputationRejectsLinspace() throws {
        expectRejected(try ScheduleChecks.checkIndependentRecomputation(builder: Self.linspaceOverT))
    }

    @Test("S1/R1 rejects ddpm-linear without the 1000/T rescale")
    func recomputationRejectsFixedDDPM() throws {
        expectRejected(try ScheduleChecks.checkIndependentRecomputation(builder: Self.ddpmWithoutRescale))
    }

    @Test("S1/R1 rejects ᾱ accumulated in Float")
    func recomputationRejectsFloat() throws {
        expectRejected(try ScheduleChecks.checkIndependentRecomputation(builder: Self.alphaBarInFloat))
    }

    // MARK: S1.a/M1

    @Test("S1.a/M1 ᾱ strictly decreasing and 0 < ᾱ_T < 1")
    func monotone() throws { try expectClaim("S1.a/M1") }

    @Test("S1.a/M1 rejects ᾱ accumulated in Float (ties on tiny β)")
    func monotoneRejectsFloat() throws {
        expectRejected(try ScheduleChecks.checkMonotoneAlphaBar(builder: Self.alphaBarInFloat))
    }

    @Test("S1.a/M1 rejects a cosine without clipping (ᾱ_T = 0)")
    func monotoneRejectsUnclipped() throws {
        expectRejected(try ScheduleChecks.checkMonotoneAlphaBar(builder: Self.cosineWithoutClipping))
    }

    // MARK: S1.b/C1

    @Test("S1.b/C1 cosine ᾱ_t = f(t/T)/f(0) before clipping")
    func cosineClosedForm() throws { try expectClaim("S1.b/C1") }

    @Test("S1.b/C1 rejects a cosine off by one step (0- vs 1-based)")
    func cosineClosedFormRejectsShift() throws {
        expectRejected(try ScheduleChecks.checkCosineClosedForm(builder: Self.cosineShiftedByOne))
    }

    // MARK: S1.c/V1

    @Test("S1.c/V1 linear-variance 1 − ᾱ_t = v_t before clipping")
    func linearVarianceClosedForm() throws { try expectClaim("S1.c/V1") }

    @Test("S1.c/V1 rejects linspace dividing by T instead of T − 1")
    func linearVarianceRejectsLinspace() throws {
        expectRejected(try ScheduleChecks.checkLinearVarianceClosedForm(builder: Self.linspaceOverT))
    }

    // MARK: S1.d/L1, L2

    @Test("S1.d/L1 log ᾱ_t = Σ log1p(−β_s)")
    func logSum() throws { try expectClaim("S1.d/L1") }

    @Test("S1.d/L1 rejects ᾱ accumulated in Float")
    func logSumRejectsFloat() throws {
        expectRejected(try ScheduleChecks.checkLogSum(builder: Self.alphaBarInFloat))
    }

    @Test("S1.d/L2 T-scaled linear approaches the VP integral at rate 1/T")
    func continuousLimit() throws { try expectClaim("S1.d/L2") }

    @Test("S1.d/L2 rejects ddpm-linear without the 1000/T rescale (no limit)")
    func continuousLimitRejectsFixedDDPM() throws {
        expectRejected(try ScheduleChecks.checkContinuousLimit(builder: Self.ddpmWithoutRescale))
    }

    @Test("S1.d/L2 rejects linspace dividing by T instead of T − 1 (wrong 1/T constant)")
    func continuousLimitRejectsLinspace() throws {
        expectRejected(try ScheduleChecks.checkContinuousLimit(builder: Self.linspaceOverT))
    }

    @Test("S1.d/L2 rejects ᾱ accumulated in Float")
    func continuousLimitRejectsFloat() throws {
        expectRejected(try ScheduleChecks.checkContinuousLimit(builder: Self.alphaBarInFloat))
    }

    // MARK: S1/E1

    @Test("S1/E1 invalid parameters raise the error naming the parameter")
    func invalidParameters() throws { try expectClaim("S1/E1") }

    @Test("S1/E1 rejects a schedule that silently clamps β and T")
    func invalidParametersRejectClamping() throws {
        expectRejected(try ScheduleChecks.checkInvalidParametersRefused(builder: Self.clampingBuilder))
    }
}
