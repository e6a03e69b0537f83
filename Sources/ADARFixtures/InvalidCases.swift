import ADARCore
import ADARProtocol

extension FixtureGenerator {
    /// An input the reference must refuse, with the error a reader of the spec expects.
    /// The generator checks that the reference raises exactly that `kind` and `field`.
    struct InvalidCase {
        var operation: FixtureOperation
        var comment: String
        var flag: String
        var input: JSONValue
        var kind: String
        var field: String
        /// False when an input is not a binary32 value (e.g. 1e300): binary64 group only.
        var binary32 = true
        /// A refusal docs/PORTING.md §5 requires beyond the spec (flagged `ProjectRule`).
        var projectRule = false
    }

    static func invalidCases() -> [InvalidCase] {
        func schedule(_ fields: [(String, JSONValue)], _ comment: String, _ field: String, kind: String = "invalidSchedule") -> InvalidCase {
            InvalidCase(operation: .schedule, comment: comment, flag: kind == "invalidSchedule" ? "InvalidSchedule" : "ShapeMismatch",
                        input: .object([("schedule", .object(fields)), ("timesteps", .integers([0, 1]))]), kind: kind, field: field)
        }
        var cases = [
            schedule([("kind", .string("linear")), ("steps", .integer(0)), ("start", .real(1e-4)), ("end", .real(0.02))], "T = 0", "steps"),
            schedule([("kind", .string("linear")), ("steps", .integer(10)), ("start", .real(0.02)), ("end", .real(1e-4))], "start > end", "start"),
            schedule([("kind", .string("linear")), ("steps", .integer(10)), ("start", .null), ("end", .real(0.02))], "start = NaN (null)", "start/end"),
            schedule([("kind", .string("linear")), ("steps", .integer(10)), ("start", .real(0.5)), ("end", .real(1.5))], "β reaches 1", "beta[6]"),
            schedule([("kind", .string("ddpm-linear")), ("steps", .integer(10))], "ddpm-linear at T = 10 has β > 1", "beta[6]"),
            schedule([("kind", .string("scaled-linear")), ("steps", .integer(10)), ("start", .real(-0.25)), ("end", .real(0.01))], "start < 0", "start"),
            schedule([("kind", .string("cosine")), ("steps", .integer(10)), ("s", .real(-0.5)), ("maxBeta", .real(0.999))], "s < 0", "s"),
            schedule([("kind", .string("cosine")), ("steps", .integer(10)), ("s", .real(0.008)), ("maxBeta", .real(1))], "maxBeta = 1", "maxBeta"),
            schedule([("kind", .string("linear-variance")), ("steps", .integer(10)), ("scale", .real(0.1)), ("min", .real(0.02)),
                      ("max", .real(0.02)), ("maxBeta", .real(0.999))], "max = min", "max"),
            schedule([("kind", .string("linear-variance")), ("steps", .integer(10)), ("scale", .real(0)), ("min", .real(0.0001)),
                      ("max", .real(0.02)), ("maxBeta", .real(0.999))], "scale = 0", "scale"),
            schedule([("kind", .string("custom")), ("steps", .integer(3)), ("betas", .reals([0.1, 1, 0.5]))], "β_2 = 1", "beta[2]"),
            schedule([("kind", .string("custom")), ("steps", .integer(3)), ("betas", .reals([0, 0.1, 0.5]))], "β_1 = 0", "beta[1]"),
            schedule([("kind", .string("custom")), ("steps", .integer(3)), ("betas", .array([.real(0.1), .null, .real(0.5)]))],
                     "β_2 = NaN (null)", "beta[2]"),
            schedule([("kind", .string("custom")), ("steps", .integer(4)), ("betas", .reals([0.1, 0.2, 0.5]))],
                     "3 betas for T = 4", "betas", kind: "shapeMismatch"),
        ]
        let cosine = ReferenceEvaluator.encodeSchedule(.defaultCosine, steps: 1000)
        func transition(_ rho: JSONValue, _ sigma: JSONValue, _ comment: String, _ field: String) -> InvalidCase {
            InvalidCase(operation: .transition, comment: comment, flag: "InvalidConfiguration", input: .object([
                ("schedule", cosine), ("s0", .real(1)), ("sNeg", .real(0.5)), ("userNorm", .real(1)), ("sigma", sigma), ("rho", rho)]),
                kind: "invalidConfiguration", field: field)
        }
        cases += [
            transition(.real(0), .real(1), "ρ = 0", "rho"), transition(.real(1), .real(1), "ρ = 1", "rho"),
            transition(.null, .real(1), "ρ = NaN (null)", "rho"), transition(.real(0.5), .real(0), "σ = 0", "sigma"),
            transition(.real(0.5), .real(-1), "σ < 0", "sigma"),
        ]
        func forward(_ sigma: Double, _ x0: JSONValue, _ epsilon: JSONValue, _ comment: String, _ flag: String, _ kind: String, _ field: String) -> InvalidCase {
            InvalidCase(operation: .forward, comment: comment, flag: flag, input: .object([
                ("schedule", cosine), ("timestep", .integer(10)), ("sigma", .real(sigma)), ("x0", x0), ("epsilon", epsilon)]),
                kind: kind, field: field)
        }
        cases += [
            forward(0, .reals([1, 2]), .reals([0.5, 0.5]), "σ = 0", "InvalidConfiguration", "invalidConfiguration", "sigma"),
            forward(1, .array([.real(1), .null]), .reals([0.5, 0.5]), "x_0 holds a NaN (null)", "NonFiniteInput", "nonFinite", "x0"),
            forward(1, .reals([1, 2]), .reals([0.5]), "ε shorter than x_0", "ShapeMismatch", "shapeMismatch", "epsilon"),
        ]
        let user: [Double] = [0.5, 1, -0.25], positive: [Double] = [1, 0.5, 0.25], pool: [[Double]] = [[0.25, 0, 0], [0, 0.25, 0.5]]
        func synthesize(user: JSONValue = .reals(user), positive: JSONValue = .reals(positive), pool: JSONValue = .array(pool.map(JSONValue.reals)),
                        epsilon: JSONValue = .reals([1, -1, 0.5]), sigma: Double = 1, rho: Double = 0.5,
                        _ comment: String, _ flag: String, _ kind: String, _ field: String, binary32: Bool = true,
                        projectRule: Bool = false) -> InvalidCase {
            InvalidCase(operation: .synthesize, comment: comment, flag: flag, input: .object([
                ("schedule", cosine),
                ("configuration", .object([("rho", .real(rho)), ("policy", .string("max")), ("sigma", .real(sigma))])),
                ("user", user), ("positive", positive), ("pool", pool), ("epsilon", epsilon)]),
                kind: kind, field: field, binary32: binary32, projectRule: projectRule)
        }
        cases += [
            synthesize(user: .array([.real(0.5), .null, .real(1)]), "e_u holds a NaN (null)", "NonFiniteInput", "nonFinite", "user"),
            synthesize(pool: .array([.reals(pool[0]), .array([.real(0), .null, .real(0)])]), "candidate 1 holds a NaN (null)",
                       "NonFiniteInput", "nonFinite", "pool[1]"),
            synthesize(epsilon: .array([.real(1), .real(1), .null]), "ε holds a NaN (null)", "NonFiniteInput", "nonFinite", "epsilon"),
            synthesize(positive: .reals([1, 0.5]), "x_0 has d − 1 components", "ShapeMismatch", "shapeMismatch", "positive"),
            synthesize(pool: .array([]), "M = 0", "EmptyPool", "emptyPool", "pool"),
            synthesize(rho: 1.5, "ρ > 1", "InvalidConfiguration", "invalidConfiguration", "rho"),
            // σ‖e_u‖ = 1e10·1.7e300 is beyond binary64 however the norm is formed (a norm of 1.7e300 alone is finite:
            // only a naive Σe² overflows there, and the fixtures do not judge that).
            synthesize(user: .reals([1e300, 1e300, 1e300]), sigma: 1e10,
                       "σ‖e_u‖ = 1e10·1.7e300 overflows binary64 however ‖e_u‖ is formed: refused by project rule (PORTING.md §5)", "Overflow",
                       "overflow", "noiseScale", binary32: false, projectRule: true),
        ]
        func loss(w: Double = 1, l2: Double = 0, user: JSONValue = .reals(user), _ comment: String, _ flag: String, _ kind: String, _ field: String,
                  projectRule: Bool = false) -> InvalidCase {
            InvalidCase(operation: .loss, comment: comment, flag: flag, input: .object([
                ("schedule", cosine),
                ("configuration", .object([("augmentationWeight", .real(w)), ("l2", .real(l2)), ("fallback", .string("skip")),
                                           ("gradientFlow", .string("detach"))])),
                ("user", user), ("positive", .reals(positive)), ("pool", .array(pool.map(JSONValue.reals))),
                ("status", .string("transition")), ("timestep", .integer(10)), ("hardestCandidate", .integer(1)),
                ("syntheticNegative", .reals([0.5, 0.5, 0.5]))]),
                kind: kind, field: field, projectRule: projectRule)
        }
        cases += [
            // S7 does not bound w or λ: refusing negative ones is this project's rule (PORTING.md §5, `ProjectRule`).
            loss(w: -1, "w < 0: refused by project rule (S7 gives no range; PORTING.md §5)", "InvalidConfiguration",
                 "invalidConfiguration", "augmentationWeight", projectRule: true),
            loss(l2: -0.5, "λ < 0: refused by project rule (S7 gives no range; PORTING.md §5)", "InvalidConfiguration",
                 "invalidConfiguration", "l2", projectRule: true),
            loss(user: .array([.real(1), .real(0), .null]), "e_u holds a NaN (null)", "NonFiniteInput", "nonFinite", "user"),
        ]
        // S9's τ (d = 2): wrong weight shapes, non-finite weights, t out of range, d beyond the init counter.
        var random = FixtureRandom(seed: 11)
        let tau = ReferenceEvaluator.tauParameterFields(tauWeights(seed: 5, dimension: 2, scale: 1, bias: 0.25, random: &random))
        func replacing(_ fields: [(String, JSONValue)], _ name: String, _ value: JSONValue) -> [(String, JSONValue)] {
            fields.map { $0.0 == name ? ($0.0, value) : $0 }
        }
        let w1 = tau[0].1.arrayValue!, b1 = tau[1].1.doubleArray!
        func tauForward(_ weights: [(String, JSONValue)] = tau, t: Int = 3, _ comment: String, _ flag: String, _ kind: String, _ field: String) -> InvalidCase {
            InvalidCase(operation: .tauForward, comment: comment, flag: flag, input: .object(weights + [
                ("xt", .reals([0.5, -0.25])), ("timestep", .integer(t)), ("user", .reals([1, 0.5]))]), kind: kind, field: field)
        }
        cases += [
            tauForward(replacing(tau, "w1", .array(Array(w1.dropLast()))), "W₁ with 4d − 1 rows", "ShapeMismatch", "shapeMismatch", "w1"),
            tauForward(replacing(tau, "w1", .array(w1.map { .reals($0.doubleArray!.dropLast()) })), "W₁ with 3d − 1 columns",
                       "ShapeMismatch", "shapeMismatch", "w1[0]"),
            tauForward(replacing(tau, "w2", tau[0].1), "W₂ given W₁'s shape [4d][3d]", "ShapeMismatch", "shapeMismatch", "w2[0]"),
            tauForward(replacing(tau, "b2", .reals([0.5])), "b₂ with d − 1 values", "ShapeMismatch", "shapeMismatch", "b2"),
            tauForward(replacing(tau, "b1", .array([.null] + b1.dropFirst().map(JSONValue.real))), "b₁ holds a NaN (null)",
                       "NonFiniteInput", "nonFinite", "b1"),
            tauForward(t: -1, "t = −1", "TimestepOutOfRange", "invalidConfiguration", "timestep"),
        ]
        func denoise(t: Int, _ comment: String) -> InvalidCase {
            InvalidCase(operation: .denoise, comment: comment, flag: "TimestepOutOfRange", input: .object(
                [("schedule", ReferenceEvaluator.encodeSchedule(.defaultCosine, steps: 10)), ("sigma", .real(1))] + tau + [
                    ("x0", .reals([0.5, -0.25])), ("epsilon", .reals([1, -1])), ("timestep", .integer(t)), ("user", .reals([1, 0.5]))]),
                kind: "indexOutOfRange", field: "timestep")
        }
        cases += [denoise(t: 11, "t = T + 1"), denoise(t: -1, "t = −1")]
        func synthesizeDenoised(rMax: Double, user: [Double] = [0.5, 1], _ comment: String, _ flag: String, _ kind: String, _ field: String) -> InvalidCase {
            InvalidCase(operation: .synthesizeDenoised, comment: comment, flag: flag, input: .object([
                ("schedule", cosine),
                ("configuration", .object([("rho", .real(0.5)), ("policy", .string("max")), ("sigma", .real(1))])),
                ("user", .reals(user)), ("positive", .reals(user.map { $0 * 0.75 })), ("pool", .array([.reals(user.map { $0 * 0.25 })])),
                ("epsilon", .reals(user.map { -$0 }))] + tau + [("rMax", .real(rMax))]),
                kind: kind, field: field)
        }
        cases += [
            synthesizeDenoised(rMax: -1, "r_max < 0", "InvalidConfiguration", "invalidConfiguration", "rMax"),
            synthesizeDenoised(rMax: 10, user: [0.5, 1, -0.25], "τ for d = 2 on a row of d = 3", "ShapeMismatch", "shapeMismatch", "w1[0]"),
        ]
        cases += tauStepInvalidCases(tau)
        cases += [
            InvalidCase(operation: .pe, comment: "t = −1", flag: "TimestepOutOfRange",
                        input: .object([("timestep", .integer(-1)), ("dimension", .integer(4))]), kind: "invalidConfiguration", field: "timestep"),
            InvalidCase(operation: .tauInit, comment: "d = 37 838: ⌊k/4⌋ overflows the 32-bit counter word", flag: "InitCounterOverflow",
                        input: .object([("seed", .string("1")), ("dimension", .integer(37_838))]), kind: "invalidConfiguration", field: "dimension"),
        ]
        return cases
    }

    static func invalidInputs() -> FixtureFile {
        let cases = invalidCases()
        var groups = [TestGroup](), tcId = 0
        let operations = FixtureOperation.allCases.filter { op in cases.contains { $0.operation == op } }
        for operation in operations {
            for precision in Precision.allCases {
                var tests = [FixtureTest]()
                for item in cases where item.operation == operation && (precision == .binary64 || item.binary32) {
                    tcId += 1
                    do {
                        let output = try ReferenceEvaluator.evaluate(operation, input: item.input)
                        preconditionFailure("invalid case '\(item.comment)' was accepted: \(output.rendered)")
                    } catch let EvaluationError.refused(error) {
                        precondition(error.kind == item.kind && error.field == item.field,
                                     "invalid case '\(item.comment)': expected \(item.kind)/\(item.field), reference raised \(error)")
                    } catch {
                        preconditionFailure("invalid case '\(item.comment)' is malformed: \(error)")
                    }
                    tests.append(FixtureTest(
                        tcId: tcId, comment: item.comment, flags: [item.flag] + (item.projectRule ? ["ProjectRule"] : []), input: item.input,
                        expected: .object([("error", .object([("kind", .string(item.kind)), ("field", .string(item.field))]))]),
                        result: .invalid, alternatives: []))
                }
                groups.append(TestGroup(
                    type: FixtureFormat.invalidGroupType, operation: operation, precision: precision,
                    tolerance: .of(operation, precision: precision), tests: tests))
            }
        }
        return FixtureFile(
            name: "invalid_inputs.json", topic: "invalid",
            header: ["Inputs every port must refuse with an error (S1, S5); kind and field are what the reference raises."] + header,
            notes: notes(for: groups), testGroups: groups)
    }
}
