import Foundation
import ADARCore
import ADARReference
import ADARProtocol

/// A usual wrong convention of an ADAR port, and the hint the runner prints
/// when a failing answer is reproduced by it (docs/PORTING.md §4).
///
/// To diagnose a failing case the runner recomputes its expected output in
/// binary64 under each misconception (`MisconceivedADAR`, a short
/// re-derivation of the spec with that one thing done wrong) and keeps those
/// whose output explains the port's answer; the report shows a misconception
/// only when it explains every failing case of the run (`ConfirmedHint`).
/// A new entry: a `static let` here, listed in `all`, and its one wrong step in
/// `MisconceivedADAR` for each operation it names.
public struct Misconception: Sendable, Equatable, Hashable {
    public let name: String
    public let hint: String
    /// The operations whose outputs the misconception can change.
    public let operations: Set<FixtureOperation>

    public static let alphaBarShiftedOneStep = Misconception(
        name: "alphaBarShiftedOneStep",
        hint: "your ᾱ is shifted by one step: ᾱ_{t−1} is used at t (S1: ᾱ_t = ᾱ_{t−1}·(1 − β_t) already includes β_t)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let zeroBasedTimesteps = Misconception(
        name: "zeroBasedTimesteps",
        hint: "your timesteps look 0-based: your t holds step t + 1 (S1: t is 1-based, t = 0 is the clean sample)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let betaForAlphaBar = Misconception(
        name: "betaForAlphaBar",
        hint: "looks like β used where ᾱ belongs (S1: ᾱ_t = Π_{s≤t}(1 − β_s))",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let alphaForAlphaBar = Misconception(
        name: "alphaForAlphaBar",
        hint: "looks like α_t = 1 − β_t used where the cumulative product ᾱ_t belongs (S1)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let linearRescaled = Misconception(
        name: "linearRescaled",
        hint: "linear rescaled by 1000/T: `linear` and `ddpm-linear` confused (S1: only ddpm-linear scales its endpoints by 1000/T)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let cosineUnclipped = Misconception(
        name: "cosineUnclipped",
        hint: "cosine β not clipped: β_t = min(1 − f(t/T)/f((t−1)/T), maxBeta) (S1)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    public static let alphaBarBinary32 = Misconception(
        name: "alphaBarBinary32",
        hint: "ᾱ accumulated in binary32: the cumulative product is binary64; round only the finished table (S1)",
        operations: [.schedule, .forward, .transition, .synthesize, .loss, .denoise, .synthesizeDenoised, .tauStep])
    /// A flipped z lands here too: the quadratic depends on z² only, so
    /// z = Φ⁻¹(1 − ρ) selects exactly the other root.
    public static let wrongRoot = Misconception(
        name: "wrongRoot",
        hint: "wrong root of the quadratic (or z = Φ⁻¹(1 − ρ) instead of Φ⁻¹(ρ)): keep the root whose sign of a·s0 − s⁻ equals the sign of z (S4.d)",
        operations: [.transition, .synthesize, .synthesizeDenoised])
    public static let amplitudeForAlphaBarStar = Misconception(
        name: "amplitudeForAlphaBarStar",
        hint: "a* compared with ᾱ_t: the discrete search uses ᾱ* = a*² (S4.f)",
        operations: [.transition, .synthesize, .synthesizeDenoised])
    public static let strictTieComparison = Misconception(
        name: "strictTieComparison",
        hint: "ties decided the wrong way: t* is the first t with ᾱ_t ≤ ᾱ* (S4.f), not ᾱ_t < ᾱ*",
        operations: [.transition, .synthesize, .synthesizeDenoised])
    public static let statusPrecedence = Misconception(
        name: "statusPrecedence",
        hint: "status precedence: degenerateUser, then alreadyNegative, then nonPositiveScore (S5)",
        operations: [.transition, .synthesize, .synthesizeDenoised])
    public static let sigmaMissing = Misconception(
        name: "sigmaMissing",
        hint: "σ missing: the noise is σ·ε and the score's noise scale n = σ·‖e_u‖ (S2)",
        operations: [.forward, .transition, .synthesize, .denoise, .synthesizeDenoised, .tauStep])
    public static let policySwapped = Misconception(
        name: "policySwapped",
        hint: "reference-negative policies mean and max swapped (S3)",
        operations: [.synthesize, .synthesizeDenoised])
    public static let meanIncludesPositive = Misconception(
        name: "meanIncludesPositive",
        hint: "policy mean averages the positive's score with the pool's: s⁻ = (1/M)·Σ_m ⟨e_u, e_{j_m}⟩ over the M candidates only (S3)",
        operations: [.synthesize, .synthesizeDenoised])
    public static let naiveSoftplus = Misconception(
        name: "naiveSoftplus",
        hint: "naive softplus overflow: log(1 + eˣ) is ∞ at large x; use max(x, 0) + log1p(e^{−|x|}) (S7)",
        operations: [.loss])
    public static let gradientFlowSwapped = Misconception(
        name: "gradientFlowSwapped",
        hint: "detach and through swapped: with `through`, ∂x⁻/∂x_0 = √ᾱ_t·I; with `detach`, x⁻ is a constant (S7)",
        operations: [.loss])
    public static let marginGradientSign = Misconception(
        name: "marginGradientSign",
        hint: "gradient of the BPR terms has the wrong sign: ∂softplus(−m)/∂m = −σ(−m), so ∂L/∂e_i = −σ(−m)·e_u + … (S7)",
        operations: [.loss])
    public static let fallbackSwapped = Misconception(
        name: "fallbackSwapped",
        hint: "fallback modes skip and hardest swapped: `skip` drops the augmentation term on fallback rows (S7)",
        operations: [.loss])
    public static let boxMullerLanesSwapped = Misconception(
        name: "boxMullerLanesSwapped",
        hint: "Box–Muller lanes swapped: lane 0 is r·cos θ and lane 1 is r·sin θ (S8)",
        operations: [.normals])
    public static let boxMullerUniformsSwapped = Misconception(
        name: "boxMullerUniformsSwapped",
        hint: "Box–Muller uniforms swapped: r = √(−2 ln u_0) from the first word and θ = 2π·u_1 from the second (S8)",
        operations: [.normals])
    public static let unitIntervalWithoutHalf = Misconception(
        name: "unitIntervalWithoutHalf",
        hint: "uniforms without the half: u = (w + 0.5)·2⁻³², not w·2⁻³² (S8)",
        operations: [.normals])
    public static let keyHalvesSwapped = Misconception(
        name: "keyHalvesSwapped",
        hint: "Philox key halves swapped: key = (low32(seed), high32(seed)) (S8)",
        operations: [.normals])
    public static let counterRowHalvesSwapped = Misconception(
        name: "counterRowHalvesSwapped",
        hint: "Philox counter words out of order: counter = (k/4, low32(row), high32(row), stream) (S8)",
        operations: [.normals])
    public static let counterWordsReversed = Misconception(
        name: "counterWordsReversed",
        hint: "Philox counter words reversed: counter = (k/4, low32(row), high32(row), stream), the block index first (S8)",
        operations: [.normals])

    public static let peSinCosSwapped = Misconception(
        name: "peSinCosSwapped",
        hint: "PE sin/cos order swapped: PE(t)_k is sin for even k and cos for odd k (S9)",
        operations: [.pe, .tauForward, .denoise, .synthesizeDenoised, .tauStep])
    public static let peIntegerDivision = Misconception(
        name: "peIntegerDivision",
        hint: "PE exponent wrong: (k − k mod 2)/d is a real division; an integer division makes every frequency 1 (S9)",
        operations: [.pe, .tauForward, .denoise, .synthesizeDenoised, .tauStep])
    public static let peExponentK = Misconception(
        name: "peExponentK",
        hint: "PE exponent wrong: the exponent is −(k − k mod 2)/d·ln 10⁴, so k = 2j and 2j + 1 share a frequency; k alone gives the odd components another one (S9)",
        operations: [.pe, .tauForward, .denoise, .synthesizeDenoised, .tauStep])
    public static let concatenationSwapped = Misconception(
        name: "concatenationSwapped",
        hint: "concatenation order of v: τ's input is [x_t ; PE(t) ; e_u], not [e_u ; PE(t) ; x_t] (S9)",
        operations: [.tauForward, .denoise, .synthesizeDenoised, .tauStep])
    public static let reconstructionSigmaMissing = Misconception(
        name: "reconstructionSigmaMissing",
        hint: "σ missing from the reconstruction: x̂_0 = x_0 + σ·r_t·(ε − ε̂) (S9)",
        operations: [.denoise, .synthesizeDenoised])
    public static let ratioAlphaBar = Misconception(
        name: "ratioAlphaBar",
        hint: "r_t wrong: r_t = √((1 − ᾱ_t)/ᾱ_t), i.e. √(1 − ᾱ_t)/√ᾱ_t — ᾱ_t used where √ᾱ_t belongs (S9)",
        operations: [.denoise, .synthesizeDenoised])

    public static let adamBiasCorrectionMissing = Misconception(
        name: "adamBiasCorrectionMissing",
        hint: "Adam's bias correction missing: the step is lr·m̂/(√v̂ + ε) with m̂ = m/(1 − 0.9ˢ), v̂ = v/(1 − 0.999ˢ), s the step count after increment (S9)",
        operations: [.tauStep])
    public static let adamEpsilonInsideRoot = Misconception(
        name: "adamEpsilonInsideRoot",
        hint: "Adam's ε inside the square root: the step is lr·m̂/(√v̂ + ε), ε = 10⁻⁸ added after the root, not √(v̂ + ε) (S9)",
        operations: [.tauStep])
    /// AdamW's default decoupled decay, `torch.optim.AdamW(weight_decay=0.01)`: `θ ← θ(1 − lr·λ)`.
    public static let adamWeightDecay = Misconception(
        name: "adamWeightDecay",
        hint: "weight decay applied: S9's Adam has none; this answer is AdamW's default, θ shrunk by lr·0.01·θ each step (S9)",
        operations: [.tauStep])
    public static let adamMomentsAfterStep = Misconception(
        name: "adamMomentsAfterStep",
        hint: "Adam's moments updated after the step: update m and v with this step's gradient first, then step θ with them (S9)",
        operations: [.tauStep])

    public static let all: [Misconception] = [
        alphaBarShiftedOneStep, zeroBasedTimesteps, betaForAlphaBar, alphaForAlphaBar, linearRescaled,
        cosineUnclipped, alphaBarBinary32, wrongRoot, amplitudeForAlphaBarStar, strictTieComparison, statusPrecedence,
        sigmaMissing, policySwapped, meanIncludesPositive, naiveSoftplus, gradientFlowSwapped, marginGradientSign, fallbackSwapped,
        boxMullerLanesSwapped, boxMullerUniformsSwapped, unitIntervalWithoutHalf, keyHalvesSwapped, counterRowHalvesSwapped,
        counterWordsReversed,
        peSinCosSwapped, peIntegerDivision, peExponentK, concatenationSwapped, reconstructionSigmaMissing, ratioAlphaBar,
        adamBiasCorrectionMissing, adamEpsilonInsideRoot, adamWeightDecay, adamMomentsAfterStep,
    ]

    /// Why `test` is too large to work out hints for, or nil. A hint recomputes the case once per
    /// misconception, allocating tables of its size, so a fixture asking for T = 10⁹ would take the
    /// runner down: its failing cases get no hint beyond adar's own size limits (`ADARLimits`).
    static func hintSizeProblem(_ test: FixtureCase) -> String? {
        let input = OperationInput(test.input)
        if test.input["schedule"] != nil, let steps = try? input.scheduleKind().steps, steps > ADARLimits.maxSteps {
            return "the schedule has T = \(steps) steps, more than the \(ADARLimits.maxSteps) hints are worked out for"
        }
        if test.operation == .normals, let dimension = try? ReferenceEvaluator.noiseCoordinates(input).dimension,
           dimension > ADARLimits.maxDimension {
            return "the dimension is \(dimension), more than the \(ADARLimits.maxDimension) hints are worked out for"
        }
        return nil
    }

    /// The output of `test`'s operation computed under this misconception, or
    /// nil when it does not apply to the input, refuses it, or the input is too large for a hint.
    public func output(for test: FixtureCase) -> JSONValue? {
        guard operations.contains(test.operation), Self.hintSizeProblem(test) == nil else { return nil }
        return try? MisconceivedADAR(self).answer(operation: test.operation, input: OperationInput(test.input))
    }

    /// The error kind a port with this misconception raises on `test`'s input although the reference
    /// accepts it (e.g. β ≥ 1 after a wrong rescaling), or nil.
    public func refusal(for test: FixtureCase) -> String? {
        guard operations.contains(test.operation), Self.hintSizeProblem(test) == nil else { return nil }
        do {
            _ = try MisconceivedADAR(self).answer(operation: test.operation, input: OperationInput(test.input))
            return nil
        } catch {
            guard case .refused = error else { return nil }
            return error.kind
        }
    }

    /// Why no hint was worked out for a failing answer.
    public struct HintSkipped: Error, Equatable, Sendable {
        public var reason: String
    }

    /// The misconceptions that explain a failing answer, best first.
    ///
    /// A misconception explains the answer when its own output matches the
    /// answer's exact fields, lies within `looseRelative` (but never less than
    /// the group's tolerance) of every real value, and is at least
    /// `separation` times closer to the answer than the expected output is.
    /// Throws, rather than work, when the case is larger than
    /// `ADARLimits` or `deadline` has passed.
    public static func diagnose(
        _ test: FixtureCase, answer: JSONValue, precision: Precision, deadline: Date = .distantFuture,
        looseRelative: Double = 1e-4, separation: Double = 8
    ) throws(HintSkipped) -> [Misconception] {
        guard test.expected != .null else { return [] }
        if let problem = hintSizeProblem(test) { throw HintSkipped(reason: problem) }
        let comparison = OutputComparison(tolerance: test.tolerance, precision: precision)
        let fromExpected = comparison.compare(expected: test.expected, got: answer).worstRatio
        let limit = max(1, looseRelative / max(test.tolerance.relative, .leastNormalMagnitude))
        var found = [(Misconception, Double)]()
        for misconception in all {
            guard Date() < deadline else { throw HintSkipped(reason: "the run's time limit (--total-timeout) was reached") }
            guard let output = misconception.output(for: test) else { continue }
            let distance = comparison.compare(expected: output, got: answer).worstRatio
            if distance <= limit && distance * separation <= fromExpected && distance < fromExpected {
                found.append((misconception, distance))
            }
        }
        return found.sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// The misconceptions that refuse a valid input with the error kind the port refused it with.
    public static func diagnose(
        _ test: FixtureCase, refusedAs kind: String, deadline: Date = .distantFuture
    ) throws(HintSkipped) -> [Misconception] {
        if let problem = hintSizeProblem(test) { throw HintSkipped(reason: problem) }
        var found = [Misconception]()
        for misconception in all {
            guard Date() < deadline else { throw HintSkipped(reason: "the run's time limit (--total-timeout) was reached") }
            if misconception.refusal(for: test) == kind { found.append(misconception) }
        }
        return found
    }
}
