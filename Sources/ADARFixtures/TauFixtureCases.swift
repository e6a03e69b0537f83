import ADARCore
import ADARReference
import ADARProtocol

/// S9's τ: positional_encoding.json, tau_init.json, tau_forward.json, denoise.json.
/// Weights are S9's initial parameters rounded to binary32 (so a binary32 port
/// reads them exactly), scaled or given biases where a case needs it; d ≤ 8
/// keeps every file small.
extension FixtureGenerator {
    static func positionalEncodingFile() -> FixtureFile {
        func pe(_ t: Int, _ d: Int, _ flags: [String], _ comment: String) -> Case {
            Case(comment: "t = \(t), d = \(d): \(comment)", flags: flags + (d % 4 != 0 ? ["OddDimension"] : []),
                 input: .object([("timestep", .integer(t)), ("dimension", .integer(d))]))
        }
        let cases = [
            pe(0, 4, ["CleanTimestep"], "PE(0) = (0, 1, 0, 1)"),
            pe(1, 1, ["PEOrder"], "sin(1)"),
            pe(1, 4, ["PEOrder", "PEExponent"], "frequencies 1, 1, 10⁻², 10⁻²"),
            pe(12, 2, ["PEOrder"], "d = 2: one frequency pair"),
            pe(7, 5, ["PEOrder", "PEExponent"], "odd d: the last sin has no cos"),
            pe(37, 8, ["PEExponent"], "real division (k − k mod 2)/d"),
            pe(999, 3, ["PEBinary64", "PEExponent"], "large t"),
            pe(1000, 8, ["PEBinary64", "PEExponent"], "large t: a binary32 argument drifts"),
        ]
        return file("positional_encoding.json", topic: "pe",
                    description: "S9 PE(t)_k = sin/cos(t·exp(−(k − k mod 2)/d·ln 10⁴)), d values, binary64 rounded once.",
                    sections: [(.pe, cases)])
    }

    static func tauInitFile() -> FixtureFile {
        func initial(_ seed: UInt64, _ d: Int, _ comment: String) -> Case {
            Case(comment: "seed \(seed), d = \(d): \(comment)", flags: ["XavierInit", "InitCounter"] + (d % 4 != 0 ? ["OddDimension"] : []),
                 input: .object([("seed", .string("\(seed)")), ("dimension", .integer(d))]))
        }
        let cases = [
            initial(0, 1, "the smallest τ"), initial(20_260_101, 2, "W₁ 8×6, W₂ 2×8"), initial(20_260_101, 3, "k = r·fan_in + c across blocks"),
            initial(1 << 40 | 7, 4, "seed above 2³²: key (low32, high32)"), initial(.max, 5, "all-ones seed"),
            initial(42, 8, "W₁ 32×24: 192 Philox blocks"),
        ]
        return file("tau_init.json", topic: "tauInit",
                    description: "S9 τ initialisation: Xavier-uniform W₁, W₂ from Philox (seed, counter (⌊k/4⌋, ℓ, 0, 2³² − 2)), biases 0.",
                    sections: [(.tauInit, cases)])
    }

    /// S9's initial τ for `seed`, weights ×`scale`, biases uniform in ±`bias`, all rounded to binary32.
    static func tauWeights(seed: UInt64, dimension d: Int, scale: Double, bias: Double, random: inout FixtureRandom) -> TauParameters {
        let p = ReferenceADAR.tauInitialParameters(seed: seed, dimension: d)
        return TauParameters(
            dimension: d, w1: p.w1.map { f32($0 * scale) }, b1: random.vector(4 * d, scale: bias).map { bias == 0 ? 0 : $0 },
            w2: p.w2.map { f32($0 * scale) }, b2: random.vector(d, scale: bias).map { bias == 0 ? 0 : $0 })
    }

    static func tauForwardFile() -> FixtureFile {
        var random = FixtureRandom(seed: 9)
        var cases = [Case]()
        let plans: [(d: Int, t: Int, scale: Double, bias: Double, flags: [String], comment: String)] = [
            (1, 5, 1, 0, ["Concatenation"], "S9's initial τ"),
            (2, 40, 1, 0.5, ["Concatenation", "TauBiases"], "biases"),
            (3, 0, 1, 0.25, ["CleanTimestep", "TauBiases"], "PE(0)"),
            (4, 250, 1, 0.25, ["Concatenation", "RowMajor", "TauBiases"], "W₁ 16×12"),
            (5, 17, 1, 0.25, ["RowMajor", "PEOrder", "TauBiases"], "odd d"),
            (4, 1000, 1, 0, ["PEOrder", "PEBinary64"], "large t"),
            (3, 60, 4, 0.5, ["SiLU", "TauBiases"], "weights ×4: SiLU's tails"),
        ]
        for plan in plans {
            let p = tauWeights(seed: UInt64(100 + cases.count), dimension: plan.d, scale: plan.scale, bias: plan.bias, random: &random)
            let xt = random.vector(plan.d, scale: 1.5), user = random.vector(plan.d)
            cases.append(Case(
                comment: "d = \(plan.d), t = \(plan.t): \(plan.comment)",
                flags: plan.flags + (plan.d % 4 != 0 ? ["OddDimension"] : []),
                input: .object(ReferenceEvaluator.tauParameterFields(p) + [
                    ("xt", .reals(xt)), ("timestep", .integer(plan.t)), ("user", .reals(user))])))
        }
        return file("tau_forward.json", topic: "tauForward",
                    description: "S9 τ's forward pass ε̂ = W₂·SiLU(W₁·[x_t ; PE(t) ; e_u] + b₁) + b₂ with explicit weights.",
                    sections: [(.tauForward, cases)])
    }

    static func denoiseFile() -> FixtureFile {
        var random = FixtureRandom(seed: 10)
        var cases = [Case]()
        let (cos, T) = cosine1000
        let plans: [(kind: Kind, T: Int, t: Int, sigma: Double, d: Int, flags: [String], comment: String)] = [
            (cos, T, 500, 1, 4, ["Reconstruction", "Concatenation"], "r_t ≈ 1"),
            (cos, T, 100, 0.5, 3, ["Reconstruction", "NoiseScale"], "σ = ½, small t"),
            (cos, T, 800, 2, 2, ["Reconstruction", "NoiseScale"], "σ = 2"),
            (cos, T, 900, 1, 5, ["Reconstruction", "LargeRatio"], "r_t ≈ 6"),
            (cos, T, 0, 1, 3, ["CleanTimestep"], "x̂_0 = x_0"),
            (linearDefault, 100, 37, 0.25, 4, ["Reconstruction", "NoiseScale", "LinearNotRescaled"], "linear schedule"),
            (cos, T, 1000, 1, 2, ["Reconstruction", "LargeRatio"], "t = T: r_T is huge (the r_max guard is synthesis's, not denoise's)"),
        ]
        for plan in plans {
            let p = tauWeights(seed: UInt64(200 + cases.count), dimension: plan.d, scale: 1, bias: 0.25, random: &random)
            let x0 = random.vector(plan.d), epsilon = random.vector(plan.d, scale: 2), user = random.vector(plan.d)
            let fields: [(String, JSONValue)] = [("schedule", schedule(plan.kind, plan.T)), ("sigma", .real(plan.sigma))]
                + ReferenceEvaluator.tauParameterFields(p)
                + [("x0", .reals(x0)), ("epsilon", .reals(epsilon)), ("timestep", .integer(plan.t)), ("user", .reals(user))]
            cases.append(Case(
                comment: "\(plan.kind.name) T = \(plan.T), t = \(plan.t), σ = \(plan.sigma), d = \(plan.d): \(plan.comment)",
                flags: plan.flags + (plan.d % 4 != 0 ? ["OddDimension"] : []), input: .object(fields)))
        }
        return file("denoise.json", topic: "denoise",
                    description: "S9 denoised reconstruction for one row at a given t: ε̂ = τ(x_t, PE(t), e_u), r_t, x̂_0 = x_0 + σ·r_t·(ε − ε̂).",
                    sections: [(.denoise, cases)])
    }

    /// Rows of synthesis.json with d ≤ 5 (away from every S4.f boundary, so binary32 has one answer) with τ
    /// and an `r_max` that lets them denoise, sends them to `forward`, or leaves a fallback alone.
    static func denoisedSynthesisFile() -> FixtureFile {
        var random = FixtureRandom(seed: 12)
        let table = try! NoiseSchedule(cosine1000.0, steps: cosine1000.1), ratios = ReferenceADAR.denoisingRatios(table)
        var cases = [Case]()
        var byStatus = [String: Int]()
        for row in synthesisCases() {
            guard let outcome = try? ReferenceEvaluator.evaluate(.synthesize, input: row.input),
                  binary32Alternatives(.synthesize, input: row.input, expected: outcome).isEmpty,
                  row.input["schedule"]?["kind"]?.stringValue == "cosine", let status = outcome["status"]?.stringValue,
                  let t = outcome["timestep"]?.intValue, row.input["user"]!.doubleArray!.count <= 5
            else { continue }
            let isFallback = t == 0, kind = isFallback ? "fallback" : status
            guard byStatus[kind, default: 0] < (kind == "transition" ? 2 : 1) else { continue }
            byStatus[kind, default: 0] += 1
            let d = row.input["user"]!.doubleArray!.count
            let tau = tauWeights(seed: UInt64(300 + cases.count), dimension: d, scale: 1, bias: 0.25, random: &random)
            // r_max: S9's default 10; on the first transition row also just below r_t (the guard, never
            // within 2⁻¹⁰ of r_t), on the second 0 (every row forward).
            var plans: [(Double, [String], String)] = [(10, [], "r_max = 10")]
            if kind == "transition", byStatus[kind] == 1 { plans.append((f32(ratios[t] * (1 - 0x1p-10)), ["RMaxGuard"], "r_max just below r_t")) }
            if kind == "transition", byStatus[kind] == 2 { plans.append((0, ["RMaxGuard"], "r_max = 0: forward")) }
            if kind == "saturated" { plans[0].1 = ["RMaxGuard"] }
            for (rMax, extra, note) in plans {
                guard case let .object(fields) = row.input else { continue }
                let input = JSONValue.object(fields + ReferenceEvaluator.tauParameterFields(tau) + [("rMax", .real(rMax))])
                let flags = row.flags.filter { $0 != "Boundary" } + (isFallback ? [] : ["Reconstruction"]) + extra
                cases.append(Case(comment: row.comment + ", \(note)", flags: flags, input: input))
            }
        }
        return file("synthesis_denoised.json", topic: "synthesizeDenoised",
                    description: "S3–S6 with S9's denoised generator: x⁻ = x̂_0 = x_0 + σ·r_t·(ε − ε̂) where r_t ≤ r_max, x_t otherwise, fallbacks unchanged.",
                    sections: [(.synthesizeDenoised, cases)])
    }
}
