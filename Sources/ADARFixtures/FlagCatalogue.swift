import ADARProtocol

/// Every flag the fixtures use, with the bug it is there to catch (PORTING.md §1 `notes`).
/// A file's `notes` holds exactly the flags its tests use.
public enum FlagCatalogue {
    public static let notes: [String: FlagNote] = [
        "OneBasedTimesteps": FlagNote(
            bugType: "CONVENTION", description: "t is 1-based: t = 0 is the clean sample (ᾱ_0 = 1, β_0 = 0) and β_1 is the first β (S1)",
            effect: "a 0-based port shifts every table by one step: 'your ᾱ is shifted by one step'"),
        "LinearNotRescaled": FlagNote(
            bugType: "CONVENTION", description: "`linear` is diffusers' linspace(start, end, T) with no 1000/T rescaling (S1)",
            effect: "a port that rescales (improved-diffusion style) gets β·1000/T: 'linear rescaled by 1000/T'"),
        "DdpmLinearRescaled": FlagNote(
            bugType: "CONVENTION", description: "`ddpm-linear` is linear with start 1e-4·1000/T and end 0.02·1000/T (S1)",
            effect: "a port that forgets the rescaling gets the plain `linear` table"),
        "CosineClipped": FlagNote(
            bugType: "CONVENTION", description: "cosine β_t is clipped at maxBeta; the last step always is (S1)",
            effect: "an unclipped port has β_T ≈ 1 and ᾱ_T ≈ 0"),
        "Float32Accumulation": FlagNote(
            bugType: "NUMERICAL", description: "long schedule: ᾱ must be accumulated in binary64, even by binary32 ports (S1)",
            effect: "a cumulative product in binary32 drifts by up to T·2⁻²⁴ relative, beyond the binary32 tolerance"),
        "ScheduleFamily": FlagNote(
            bugType: "FUNCTIONALITY", description: "a schedule family of S1 at one T",
            effect: "a wrong β formula changes every table"),
        "SingleStep": FlagNote(
            bugType: "EDGE_CASE", description: "T = 1: linspace(a, b, 1) = a (S1)",
            effect: "a port dividing by T − 1 gets NaN"),
        "BetaNotAlphaBar": FlagNote(
            bugType: "CONVENTION", description: "x_t uses √ᾱ_t and √(1 − ᾱ_t), the cumulative product, not β_t or α_t (S2)",
            effect: "'β used where ᾱ belongs': x_t keeps almost all of x_0"),
        "NoiseScale": FlagNote(
            bugType: "CONVENTION", description: "σ ≠ 1: the noise is σ·ε and the score's noise scale is n = σ·‖e_u‖ (S2)",
            effect: "a port that drops σ gets the wrong x_t, a* and t*"),
        "ZeroNoise": FlagNote(
            bugType: "EDGE_CASE", description: "ε = 0: x_t = √ᾱ_t·x_0 exactly", effect: "exposes a wrong signal coefficient on its own"),
        "OddDimension": FlagNote(
            bugType: "EDGE_CASE", description: "d is not a multiple of 4 or 8", effect: "SIMD tails dropped or read out of bounds"),
        "HalfRetention": FlagNote(
            bugType: "FUNCTIONALITY", description: "ρ = ½: z = 0 and a* = s⁻/s_0 (S4.d)", effect: "a wrong closed form shows at once"),
        "RetentionNearZero": FlagNote(
            bugType: "NUMERICAL", description: "ρ close to 0: z far in the lower tail (S4.c); some of these cases cross, so a* and t* are checked there",
            effect: "an inaccurate Φ⁻¹ moves a* and t*"),
        "RetentionNearOne": FlagNote(
            bugType: "NUMERICAL", description: "ρ close to 1: z far in the upper tail (S4.c)",
            effect: "an inaccurate Φ⁻¹ (computed as −Φ⁻¹(1 − ρ) with 1 − ρ rounded) moves a* and t*"),
        "OtherRoot": FlagNote(
            bugType: "FUNCTIONALITY", description: "both roots of the S4.d quadratic lie in [0, 1); only one has the sign of z (lint recomputes both)",
            effect: "'wrong root of the quadratic': a port that keeps the other root gets another a* and t*"),
        "Cancellation": FlagNote(
            bugType: "NUMERICAL",
            description: "the S4.d numerator cancels (s⁻ ≈ ∓z·n, a* small against its terms); S4.e's product of roots avoids the cancellation, "
                + "but a* is as ill-conditioned in z itself, so the direct formula loses at most a factor ≈ 2 more and passes too "
                + "(Proofs/S4-transition.md, S4.e/C2)",
            effect: "a port that loses more than the conditioning allows (e.g. z or the radicand in binary32 for a binary64 port) moves a*"),
        "Boundary": FlagNote(
            bugType: "NUMERICAL", description: "ᾱ* lies within binary32 rounding error of a table value ᾱ_t (S4.f)",
            effect: "binary64 must decide ᾱ_t ≤ ᾱ* as written; binary32 may land one step off (result acceptable, alternatives listed)"),
        "ExactTie": FlagNote(
            bugType: "EDGE_CASE",
            description: "ᾱ* = (s⁻/s_0)² equals a table entry ᾱ_t exactly, in binary64 and in binary32 (ρ = ½, custom dyadic schedule): "
                + "S4.f's tie ᾱ_t ≤ ᾱ* decides t* = t, in both precisions (no alternative)",
            effect: "a port deciding ᾱ_t < ᾱ* (strict) reports t + 1, or saturated at t = T"),
        "StatusTransition": FlagNote(
            bugType: "FUNCTIONALITY", description: "S5 status transition: crossing reached within the schedule",
            effect: "wrong t* or status"),
        "StatusSaturated": FlagNote(
            bugType: "FUNCTIONALITY", description: "S5 status saturated: ᾱ_T > ᾱ*, timestep T, π = π_T",
            effect: "a port without the saturated case indexes past the table"),
        "NoCrossing": FlagNote(
            bugType: "EDGE_CASE", description: "saturated with no crossing in [0, 1) (Φ(−s⁻/n) > ρ): aStar is null (lint recomputes the roots)",
            effect: "a port that clamps a* or takes a square root of a negative radicand"),
        "StatusAlreadyNegative": FlagNote(
            bugType: "FUNCTIONALITY", description: "S5 status alreadyNegative: s_0 ≤ s⁻ (ties included), timestep 0",
            effect: "a port applying S4 outside its domain"),
        "StatusNonPositiveScore": FlagNote(
            bugType: "FUNCTIONALITY", description: "S5 status nonPositiveScore: s_0 ≤ 0 < … with s_0 > s⁻, timestep 0",
            effect: "a port applying S4 outside its domain"),
        "StatusDegenerateUser": FlagNote(
            bugType: "FUNCTIONALITY", description: "S5 status degenerateUser: n = σ‖e_u‖ = 0, timestep 0",
            effect: "a division by n = 0"),
        "Precedence": FlagNote(
            bugType: "FUNCTIONALITY", description: "several S5 conditions hold: degenerateUser, then alreadyNegative, then nonPositiveScore",
            effect: "wrong fallback status"),
        "PolicyMax": FlagNote(bugType: "FUNCTIONALITY", description: "s⁻ = max of the pool scores (S3)", effect: "wrong s⁻"),
        "PolicyMean": FlagNote(bugType: "FUNCTIONALITY", description: "s⁻ = mean of the pool scores (S3)", effect: "wrong s⁻"),
        "PolicyFirst": FlagNote(bugType: "FUNCTIONALITY", description: "s⁻ = score of the first candidate (S3)", effect: "wrong s⁻"),
        "HardestTie": FlagNote(
            bugType: "EDGE_CASE", description: "two candidates share the largest score: the first is the hardest (S5)",
            effect: "a port taking the last maximum returns another fallback"),
        "FallbackSkip": FlagNote(
            bugType: "FUNCTIONALITY", description: "fallback = skip: fallback rows have no augmentation term (S7)", effect: "wrong loss"),
        "FallbackHardest": FlagNote(
            bugType: "FUNCTIONALITY", description: "fallback = hardest: fallback rows use the hardest candidate as x⁻ (S7)", effect: "wrong loss"),
        "GradientDetach": FlagNote(
            bugType: "FUNCTIONALITY", description: "x⁻ is a constant: no gradient through it (S7)", effect: "wrong positive gradient"),
        "GradientThrough": FlagNote(
            bugType: "FUNCTIONALITY", description: "∂x⁻/∂x_0 = √ᾱ_t·I (or into the fallback candidate) (S7)",
            effect: "wrong positive or pool gradient"),
        "L2": FlagNote(bugType: "FUNCTIONALITY", description: "λ > 0: λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²) (S7)", effect: "wrong loss and gradients"),
        "SoftplusOverflow": FlagNote(
            bugType: "NUMERICAL", description: "a margin beyond ±710 (±89 in binary32): softplus must be max(x, 0) + log1p(exp(−|x|)) (S7)",
            effect: "'naive softplus overflow': log(1 + exp(x)) is ∞ and the gradient NaN"),
        "KnownAnswer": FlagNote(
            bugType: "FUNCTIONALITY", description: "a Philox4x32-10 known answer of S8", effect: "wrong rounds, multipliers or key schedule"),
        "CounterLayout": FlagNote(
            bugType: "CONVENTION", description: "counter (k/4, low32(row), high32(row), stream), key (low32(seed), high32(seed)) (S8)",
            effect: "swapped words give other noise"),
        "BoxMullerLanes": FlagNote(
            bugType: "CONVENTION", description: "lanes 0, 1 are r·cos θ, r·sin θ from (w0, w1); lanes 2, 3 from (w2, w3); u = (w + ½)·2⁻³² (S8)",
            effect: "permuted or differently scaled normals"),
        "InvalidSchedule": FlagNote(
            bugType: "INVALID_INPUT", description: "a schedule parameter outside its domain (S1): refused, never clamped",
            effect: "a port that clamps returns a table"),
        "InvalidConfiguration": FlagNote(
            bugType: "INVALID_INPUT", description: "ρ ∉ (0, 1), σ ≤ 0, w < 0 or λ < 0 (w and λ: a project rule, see ProjectRule)",
            effect: "a port that accepts it returns garbage"),
        "ProjectRule": FlagNote(
            bugType: "INVALID_INPUT",
            description: "a refusal this project requires beyond ADAR-SPEC.md (docs/PORTING.md §5 'Refusals beyond the spec'): "
                + "w < 0 and λ < 0 (S7 gives no range), and a noise scale σ‖e_u‖ that is not finite in binary64 (S5 speaks of inputs only)",
            effect: "a port following the spec alone may answer; to pass these fixtures it refuses as docs/PORTING.md §5 says"),
        "NonFiniteInput": FlagNote(
            bugType: "INVALID_INPUT", description: "a NaN (null) in an input: the whole call is an error (S5)",
            effect: "a port that propagates NaN returns partial output"),
        "ShapeMismatch": FlagNote(
            bugType: "INVALID_INPUT", description: "an array of the wrong length", effect: "out-of-bounds reads"),
        "EmptyPool": FlagNote(bugType: "INVALID_INPUT", description: "M = 0 candidates (S3 needs M ≥ 1)", effect: "max of an empty list"),
        "PEOrder": FlagNote(
            bugType: "CONVENTION", description: "PE(t)_k is sin for even k and cos for odd k, of the same argument (S9)",
            effect: "'PE sin/cos order swapped': every PE component, hence τ's output, differs"),
        "PEExponent": FlagNote(
            bugType: "CONVENTION",
            description: "the PE argument is t·exp(−(k − k mod 2)/d·ln 10⁴): pairs (2j, 2j + 1) share a frequency, real division (S9)",
            effect: "'PE exponent wrong': with k instead of k − k mod 2, or an integer division (k − k mod 2)/d = 0, the odd or all frequencies differ"),
        "PEBinary64": FlagNote(
            bugType: "NUMERICAL", description: "PE(t) computed in binary64 and rounded once, also by binary32 ports (S9); large t",
            effect: "a binary32 argument t·exp(…) is off by ≈ t·u₃₂, far beyond one rounding of PE"),
        "CleanTimestep": FlagNote(
            bugType: "EDGE_CASE", description: "t = 0: PE(0) = (0, 1, 0, 1, …), ᾱ_0 = 1, r_0 = 0, x̂_0 = x_0 (S1, S9)",
            effect: "a port indexing its tables from t = 1 reads out of range"),
        "XavierInit": FlagNote(
            bugType: "CONVENTION",
            description: "W_ℓ[r][c] = bound_ℓ·(2u − 1), bound₁ = √(6/(7d)), bound₂ = √(6/(5d)), u = (w + ½)·2⁻³²; biases 0 (S9)",
            effect: "wrong bounds or a uniform without the half scale or shift every weight"),
        "InitCounter": FlagNote(
            bugType: "CONVENTION",
            description: "entry k = r·fan_in + c of W_ℓ is lane k mod 4 of Philox on counter (⌊k/4⌋, ℓ, 0, 2³² − 2), key (low32(seed), high32(seed)) (S9, S8)",
            effect: "column-major k, another counter word order or stream gives other weights"),
        "Concatenation": FlagNote(
            bugType: "CONVENTION", description: "τ's input is v = [x_t ; PE(t) ; e_u], 3d values in that order (S9)",
            effect: "'concatenation order of v': W₁'s column blocks meet the wrong inputs"),
        "RowMajor": FlagNote(
            bugType: "CONVENTION", description: "W₁ is [4d][3d] and W₂ is [d][4d], row-major [out][in]: y = W·v, not Wᵀ·v (S9)",
            effect: "a transposed product is a shape error or, read flat, another network"),
        "SiLU": FlagNote(
            bugType: "FUNCTIONALITY", description: "the hidden activation is SiLU(z) = z·σ(z), overflow-free for large |z| (S9)",
            effect: "ReLU or tanh, or exp overflow for z ≪ 0, changes ε̂"),
        "TauBiases": FlagNote(
            bugType: "FUNCTIONALITY", description: "nonzero b₁ and b₂: z = W₁·v + b₁, y = W₂·h + b₂ (S9)", effect: "a missing bias shifts ε̂"),
        "Reconstruction": FlagNote(
            bugType: "CONVENTION",
            description: "x̂_0 = x_0 + σ·r_t·(ε − ε̂) with r_t = √((1 − ᾱ_t)/ᾱ_t), formed as written (S9)",
            effect: "'σ missing from the reconstruction' or 'r_t wrong' (ᾱ for √ᾱ): x̂_0 is off by a multiple of ε − ε̂"),
        "LargeRatio": FlagNote(
            bugType: "NUMERICAL", description: "t with r_t ≫ 1 (ᾱ_t small): the quotient form (x_t − √(1 − ᾱ_t)·σ·ε̂)/√ᾱ_t cancels (S9)",
            effect: "a binary32 port using the quotient form loses digits of x̂_0"),
        "RMaxGuard": FlagNote(
            bugType: "FUNCTIONALITY", description: "r_t > r_max: the row uses forward (x⁻ = x_t), reported as negativeGenerator forward (S9)",
            effect: "a port without the guard returns x̂_0 with σ·r_t amplifying ε̂'s error"),
        "TimestepOutOfRange": FlagNote(
            bugType: "INVALID_INPUT", description: "t < 0, or t > T for the schedule: refuse", effect: "a port reads outside its tables"),
        "InitCounterOverflow": FlagNote(
            bugType: "INVALID_INPUT", description: "d > 37 837: ⌊k/4⌋ for k < 12d² no longer fits S9's 32-bit counter word: refuse",
            effect: "a port wrapping the counter repeats weights"),
        "AdamFirstStep": FlagNote(
            bugType: "CONVENTION",
            description: "step s = 1 from zero moments: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε) ≈ lr·sign(g) (S9: Adam, bias-corrected)",
            effect: "without bias correction θ moves by lr·0.1g/(√0.001|g| + ε) ≈ 3.16·lr; with the moments updated after the step it does not move"),
        "AdamBiasCorrection": FlagNote(
            bugType: "CONVENTION",
            description: "step s > 1 with given m, v: m̂ = m′/(1 − 0.9ˢ), v̂ = v′/(1 − 0.999ˢ), s the step count after increment (S9)",
            effect: "'bias correction missing', or s off by one, scales the step"),
        "StepCount": FlagNote(
            bugType: "FUNCTIONALITY", description: "a large step count s: the bias corrections tend to 1 (S9: kept across epochs)",
            effect: "a counter reset per epoch keeps the corrections of s = 1"),
        "AdamEpsilon": FlagNote(
            bugType: "CONVENTION",
            description: "small gradients (τ near its target): v̂ ≈ ε², and ε = 10⁻⁸ is added to √v̂, outside the root (S9)",
            effect: "'ε inside the square root': √(v̂ + ε) ≈ 10⁻⁴ shrinks every step"),
        "NoWeightDecay": FlagNote(
            bugType: "CONVENTION", description: "S9's Adam has no weight decay: θ′ = θ − lr·m̂/(√v̂ + ε), nothing proportional to θ",
            effect: "AdamW's default decay (λ = 0.01) shrinks θ by lr·λ·θ"),
        "MomentOrder": FlagNote(
            bugType: "CONVENTION", description: "m and v are updated with this step's g first, then θ steps with them (S9, Kingma & Ba)",
            effect: "θ stepped with the previous moments: at s = 1 θ does not move at all"),
        "BatchMean": FlagNote(
            bugType: "FUNCTIONALITY", description: "several rows: L_τ and its gradient are the mean over the batch's rows, accumulated in row order (S9)",
            effect: "a sum instead of the mean scales the loss and m, v by B"),
        "ZeroGradient": FlagNote(
            bugType: "EDGE_CASE",
            description: "a component of x_t′ (x_0 and ε′) or of e_u is 0 in every row: W₁'s column for it has gradient exactly 0",
            effect: "at s = 1 those weights and moments must not move (0/(0 + ε) = 0); at s > 1 only the momentum moves them"),
        "AdamDirectionUndetermined": FlagNote(
            bugType: "NUMERICAL",
            description: "residuals within binary32's error of ε̂ (τ at its target): the sign of some entries' g, hence of their step, is not determined in binary32 (S9/E5)",
            effect: "binary32 groups allow 4·lr (twice the largest possible change 2·lr) on these cases; binary64 must match as usual"),
        "InvalidAdamState": FlagNote(
            bugType: "INVALID_INPUT", description: "lr_τ ≤ 0, a step count s < 1 or a second moment v < 0 (S9's Adam): refuse",
            effect: "a port that accepts it divides by 1 − β⁰ = 0, takes √ of a negative, or steps uphill"),
        "Overflow": FlagNote(
            bugType: "INVALID_INPUT",
            description: "finite inputs whose noise scale σ‖e_u‖ is beyond binary64 however the norm is formed (a hypot-style norm too); "
                + "a finite ‖e_u‖ whose naive Σe² overflows is not tested",
            effect: "a port that continues with ∞ returns NaN"),
    ]
}
