import Foundation
import Testing
import ADARCore
import ADAR
import ADARReference
@testable import ADARVerification

/// docs/Shrinking.md: S6/O1, S8/B3, S9/T1 and S9/D1 shrink their first failing case, when handed a
/// deliberately broken implementation (the bugs `DiscretisationTests`, `Binary32NoiseTests` and
/// `TauClaimTests` reject), to a small case that still fails, that the correct implementation passes,
/// and that no simpler candidate improves on; the printed test rebuilds it field by field.
@Suite("Shrinking S6/O1, S8/B3, S9/T1 and S9/D1")
struct ShrinkingTrainingTests {
    static let claimIDs = ["S6/O1", "S8/B3", "S9/T1", "S9/D1"]

    @Test("S6/O1, S8/B3, S9/T1 and S9/D1 still pass with the correct implementation, and carry no counterexample",
          arguments: claimIDs)
    func claimsPass(_ id: String) throws {
        let result = try #require(Claims.claim(id)).run()
        #expect(result.passed && result.counterexample == nil, "\(result)")
    }

    /// `result` fails with a minimal counterexample (`ShrinkingRemainingTests.expectShrunk`) whose
    /// printed test names every field of `fields` with its value's label, runs `call`, and has
    /// balanced brackets.
    func expectShrunk<Case: Shrinkable>(
        _ result: ClaimResult, seed: UInt64, as type: Case.Type, call: String, fields: [String],
        fails: (Case) throws -> Bool, passes: (Case) throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (minimal: Case, counterexample: Counterexample) {
        let shrunk = try ShrinkingRemainingTests().expectShrunk(
            result, seed: seed, as: type, call: call, fails: fails, passes: passes, sourceLocation: sourceLocation)
        let test = shrunk.counterexample.swiftTest
        for field in fields { #expect(test.contains(field + ":"), "the printed test does not name \(field):\n\(test)", sourceLocation: sourceLocation) }
        for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] as [(Character, Character)] {
            #expect(test.filter { $0 == open }.count == test.filter { $0 == close }.count, "unbalanced \(open)\(close):\n\(test)",
                    sourceLocation: sourceLocation)
        }
        return shrunk
    }

    // MARK: S6/O1

    /// The broken syntheses of `DiscretisationTests` that S6/O1 rejects.
    enum BrokenSynthesis: String, CaseIterable, CustomTestStringConvertible {
        case sigmaDropped = "x⁻ without σ"
        case lastOnTies = "the last candidate on ties"
        case previousRetention = "π reported at t − 1"

        var testDescription: String { rawValue }

        var synthesizer: DiscretisationChecks.Synthesizer {
            switch self {
            case .sigmaDropped: BrokenSynthesizers.sigmaDropped
            case .lastOnTies: BrokenSynthesizers.lastOnTies
            case .previousRetention: BrokenSynthesizers.previousRetention
            }
        }

        /// A tie needs two candidates.
        var largestPool: Int { self == .lastOnTies ? 2 : 1 }
    }

    @Test("S6/O1 shrinks a broken synthesis's first failing call to one row, d = 1, T ≤ 2 that still fails, and only that",
          arguments: BrokenSynthesis.allCases)
    func synthesisShrinks(_ bug: BrokenSynthesis) throws {
        let seed = try ShrinkingReferenceTests.seed("S6/O1")
        let broken = bug.synthesizer
        let (minimal, counterexample) = try expectShrunk(
            DiscretisationChecks.checkOutputs(seed: seed, synthesizer: broken), seed: seed, as: SynthesisCase.self,
            call: "DiscretisationChecks.checkOutputs(on: c, synthesizer: <#the test's synthesizer#>)",
            fields: ["schedule", "configuration", "rows", "dimension", "poolSize", "users", "positives", "pool", "noise"],
            fails: { !DiscretisationChecks.checkOutputs(on: $0, synthesizer: broken).passed },
            passes: { DiscretisationChecks.checkOutputs(on: $0).passed })
        #expect(minimal.rows == 1 && minimal.dimension == 1 && minimal.poolSize <= bug.largestPool && minimal.schedule.steps <= 2,
                "\(counterexample)")
    }

    @Test("A SynthesisCase is checked as a batch: shapes and finite values, with the field named")
    func synthesisCaseShapes() throws {
        let schedule = try NoiseSchedule(.custom(betas: [0.5]), steps: 1), configuration = try ADARConfiguration()
        func make(users: [Double] = [1], pool: [Double] = [0], noise: NoiseInput = .explicit([0])) throws -> SynthesisCase {
            try SynthesisCase(schedule: schedule, configuration: configuration, rows: 1, dimension: 1, poolSize: 1,
                              users: users, positives: [1], pool: pool, noise: noise)
        }
        _ = try make()
        _ = try make(noise: .counter(seed: 1, stream: 2, rowOffset: 3))
        #expect { try make(users: [1, 2]) } throws: { "\($0)".contains("user") }
        #expect { try make(pool: [.nan]) } throws: { "\($0)".contains("pool") }
        #expect { try make(noise: .explicit([])) } throws: { "\($0)".contains("epsilon") }
    }

    // MARK: S8/B3

    /// Broken `fill`s: the one `Binary32NoiseTests` rejects, and one that drops the high word of the row.
    enum BrokenFill: String, CaseIterable, CustomTestStringConvertible {
        case wrongKey = "the Philox key off by one bit"
        case lowRowWord = "the row's high 32 bits dropped"

        var testDescription: String { rawValue }

        var fill: Binary32NoiseChecks.Fill {
            switch self {
            case .wrongKey: { seed, stream, row, d, out in GaussianNoise32(seed: seed ^ 1, stream: stream).fill(row: row, dimension: d, into: out) }
            case .lowRowWord: { seed, stream, row, d, out in GaussianNoise32(seed: seed, stream: stream).fill(row: row & 0xFFFF_FFFF, dimension: d, into: out) }
            }
        }

        /// The simplest row that shows the bug: any row, or the first with a high word.
        var minimalRow: UInt64 { self == .wrongKey ? 0 : 1 << 32 }
    }

    @Test("S8/B3 shrinks a broken fill's first failing row to d = 1, seed 0, stream 0 and the simplest row that still fails",
          arguments: BrokenFill.allCases)
    func fillShrinks(_ bug: BrokenFill) throws {
        let seed = try ShrinkingReferenceTests.seed("S8/B3")
        let (minimal, counterexample) = try expectShrunk(
            Binary32NoiseChecks.checkNormals(words: [], seed: seed, fill: bug.fill), seed: seed, as: NoiseRowCase.self,
            call: "Binary32NoiseChecks.checkNormals(on: c, fill: <#the test's fill#>)", fields: ["seed", "stream", "row", "dimension"],
            fails: { !Binary32NoiseChecks.checkNormals(on: $0, fill: bug.fill).passed },
            passes: { Binary32NoiseChecks.checkNormals(on: $0).passed })
        #expect(minimal.dimension == 1 && minimal.seed == 0 && minimal.stream == 0 && minimal.row == bug.minimalRow, "\(counterexample)")
    }

    @Test("S8/B3's word pairs stay a fixed part: a broken Box–Muller fails the claim with its worst pair and no counterexample")
    func brokenPairsAreNotShrunk() {
        let result = Binary32NoiseChecks.checkNormals(words: Binary32NoiseChecks.edgeWords(), seed: 1) { w0, w1 in
            let (n0, n1) = BoxMuller32.normals(w0, w1)
            return (n1, n0)
        }
        #expect(!result.passed && result.counterexample == nil && result.worstCase.hasPrefix("w0 = "), "\(result)")
    }

    @Test("A NoiseRowCase is checked: d ≥ 1 and within ADARLimits, with the field named")
    func noiseRowCaseShapes() throws {
        _ = try NoiseRowCase(seed: 1, stream: 2, row: 3, dimension: 1)
        #expect { try NoiseRowCase(seed: 1, stream: 2, row: 3, dimension: 0) } throws: { "\($0)".contains("dimension") }
        #expect { try NoiseRowCase(seed: 1, stream: 2, row: 3, dimension: ADARLimits.maxDimension + 1) } throws: { "\($0)".contains("dimension") }
    }

    // MARK: S9/T1

    /// The broken training steps of `TauClaimTests`, with the batches and rows each needs to show.
    enum BrokenTraining: String, CaseIterable, CustomTestStringConvertible {
        case zeroBasedTimestep = "t′ without the + 1"
        case synthesisStream = "ε′ from stream E"
        case batchSum = "the batch sum in place of the mean"
        case stepCountReset = "Adam's step count restarted every batch"

        var testDescription: String { rawValue }

        var train: TauChecks.TrainingStep {
            switch self {
            case .zeroBasedTimestep:
                TauClaimTests.training(draw: { seed, epoch, b, d, steps in
                    var draw = ReferenceADAR.tauTrainingDraw(seed: seed, epoch: epoch, row: b, dimension: d, steps: steps)
                    draw.timestep -= 1
                    return draw
                })
            case .synthesisStream:
                TauClaimTests.training(draw: { seed, epoch, b, d, steps in
                    var draw = ReferenceADAR.tauTrainingDraw(seed: seed, epoch: epoch, row: b, dimension: d, steps: steps)
                    draw.epsilon = GaussianNoise(seed: seed, stream: UInt32(epoch)).row(b, dimension: d)
                    return draw
                })
            case .batchSum: TauClaimTests.training(divideByRows: false)
            case .stepCountReset: TauClaimTests.training(keepSteps: false)
            }
        }

        /// A sum equals the mean on one row; a restarted count equals the kept one on the first step.
        var batches: Int { self == .stepCountReset ? 2 : 1 }
        var rowsPerBatch: Int { self == .batchSum ? 2 : 1 }
    }

    @Test("S9/T1 shrinks a broken training step's run to the fewest batches and rows the bug needs, d = 1, T ≤ 2, and only that",
          arguments: BrokenTraining.allCases)
    func trainingShrinks(_ bug: BrokenTraining) throws {
        let seed = try ShrinkingReferenceTests.seed("S9/T1")
        let (minimal, counterexample) = try expectShrunk(
            TauChecks.checkTraining(seed: seed, train: bug.train), seed: seed, as: TauTrainingCase.self,
            call: "TauChecks.checkTraining(on: c, train: <#the test's train#>)",
            fields: ["seed", "dimension", "learningRate", "schedule", "sigma", "parameters", "batches", "epoch", "firstRow", "users", "positives"],
            fails: { try !TauChecks.checkTraining(on: $0, train: bug.train).passed },
            passes: { try TauChecks.checkTraining(on: $0).passed })
        #expect(minimal.batches.count == bug.batches && minimal.batches.allSatisfy { minimal.rows($0) == bug.rowsPerBatch }
                && minimal.dimension == 1 && minimal.schedule.steps <= 2, "\(counterexample)")
    }

    /// The S9/T1 counterexample of `trainingShrinks` (Adam's step count restarted) as printed, with the
    /// placeholder filled in: it compiles, fails with the bug and passes with the reference.
    @Test("The printed S9/T1 counterexample, pasted verbatim, fails with its bug only")
    func pastedTrainingCounterexample() throws {
        let c = try TauTrainingCase(
            seed: 0, dimension: 1, learningRate: 1.0,
            schedule: try NoiseSchedule(.custom(betas: [0.0009765625]), steps: 1), sigma: 1.0,
            parameters: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            batches: [
                TauTrainingBatch(epoch: 1, firstRow: 0, users: [0.0], positives: [0.0]),
                TauTrainingBatch(epoch: 1, firstRow: 0, users: [0.0], positives: [0.0]),
            ])
        let result = try TauChecks.checkTraining(on: c, train: BrokenTraining.stepCountReset.train)
        #expect(!result.passed, "\(result)")
        #expect(try TauChecks.checkTraining(on: c).passed)
    }

    @Test("A TauTrainingCase is checked: d, θ's shape, lr_τ and σ, the batches' epochs, shapes and row numbers, with the field named")
    func trainingCaseShapes() throws {
        let schedule = try NoiseSchedule(.custom(betas: [0.5]), steps: 1)
        func make(
            dimension: Int = 1, parameters: Int = 21, learningRate: Double = 0.01, sigma: Double = 1, batches: [TauTrainingBatch]? = nil
        ) throws -> TauTrainingCase {
            try TauTrainingCase(seed: 1, dimension: dimension, learningRate: learningRate, schedule: schedule, sigma: sigma,
                                parameters: Array(repeating: 0, count: parameters),
                                batches: batches ?? [TauTrainingBatch(epoch: 1, firstRow: 0, users: [1], positives: [1])])
        }
        _ = try make()
        #expect { try make(dimension: 0) } throws: { "\($0)".contains("dimension") }
        #expect { try make(parameters: 20) } throws: { "\($0)".contains("parameters") }
        #expect { try make(learningRate: 0) } throws: { "\($0)".contains("learningRate") }
        #expect { try make(sigma: .infinity) } throws: { "\($0)".contains("sigma") }
        #expect { try make(batches: []) } throws: { "\($0)".contains("batches") }
        #expect { try make(batches: [TauTrainingBatch(epoch: 0, firstRow: 0, users: [1], positives: [1])]) } throws: {
            "\($0)".contains("batches[0].epoch")
        }
        #expect { try make(batches: [TauTrainingBatch(epoch: 1, firstRow: 0, users: [], positives: [])]) } throws: {
            "\($0)".contains("batches[0].users")
        }
        #expect { try make(batches: [TauTrainingBatch(epoch: 1, firstRow: 0, users: [1], positives: [1, 2])]) } throws: {
            "\($0)".contains("batches[0].positives")
        }
        #expect { try make(batches: [TauTrainingBatch(epoch: 1, firstRow: .max, users: [1, 2], positives: [1, 2])]) } throws: {
            "\($0)".contains("batches[0].firstRow")
        }
    }

    // MARK: S9/D1

    /// The broken `denoised` forms of `TauClaimTests` that S9/D1 rejects.
    enum BrokenDenoised: String, CaseIterable, CustomTestStringConvertible {
        case quotientForm = "the quotient form in binary64"
        case wrongRatio = "r_t = √(1 − ᾱ_t)/ᾱ_t"
        case withoutSigma = "x̂_0 without σ"

        var testDescription: String { rawValue }

        var implementation: DenoisedImplementation {
            var denoised = DenoisedImplementation.reference
            switch self {
            case .quotientForm:
                denoised.sample = { x0, epsilon, predicted, r, sigma in
                    let signal = 1 / (1 + r * r).squareRoot(), noise = r * signal
                    return zip(x0, zip(epsilon, predicted)).map { x, pair in
                        let xt = signal * x + noise * (sigma * pair.0)
                        return (xt - noise * (sigma * pair.1)) / signal
                    }
                }
            case .wrongRatio:
                denoised.ratios = { schedule in schedule.alphaBar.map { (1 - $0).squareRoot() / $0 } }
            case .withoutSigma:
                denoised.sample = { x0, epsilon, predicted, r, _ in
                    ReferenceADAR.denoisedSample(x0: x0, epsilon: epsilon, predictedNoise: predicted, ratio: r, sigma: 1)
                }
            }
            return denoised
        }
    }

    @Test("S9/D1 shrinks a broken denoised form's first failing row to d = 1, T ≤ 2, t = 1 that still fails, and only that",
          arguments: BrokenDenoised.allCases)
    func denoisedShrinks(_ bug: BrokenDenoised) throws {
        let seed = try ShrinkingReferenceTests.seed("S9/D1")
        let broken = bug.implementation
        let (minimal, counterexample) = try expectShrunk(
            TauChecks.checkDenoised(seed: seed, ratios: broken.ratios, sample: broken.sample), seed: seed, as: DenoisedCase.self,
            call: "TauChecks.checkDenoised(on: c, implementation: <#the test's implementation#>)",
            fields: ["schedule", "timestep", "sigma", "x0", "epsilon", "predicted"],
            fails: { try !TauChecks.checkDenoised(on: $0, implementation: broken).passed },
            passes: { try TauChecks.checkDenoised(on: $0).passed })
        #expect(minimal.dimension == 1 && minimal.schedule.steps <= 2 && minimal.timestep == 1, "\(counterexample)")
    }

    @Test("A DenoisedCase is checked: 1 ≤ t ≤ T, σ > 0, d ≥ 1, matching shapes and finite values, with the field named")
    func denoisedCaseShapes() throws {
        let schedule = try NoiseSchedule(.custom(betas: [0.5]), steps: 1)
        func make(timestep: Int = 1, sigma: Double = 1, x0: [Double] = [1], predicted: [Double] = [0]) throws -> DenoisedCase {
            try DenoisedCase(schedule: schedule, timestep: timestep, sigma: sigma, x0: x0, epsilon: x0.map { _ in 1 }, predicted: predicted)
        }
        _ = try make()
        #expect { try make(timestep: 0) } throws: { "\($0)".contains("timestep") }
        #expect { try make(timestep: 2) } throws: { "\($0)".contains("timestep") }
        #expect { try make(sigma: 0) } throws: { "\($0)".contains("sigma") }
        #expect { try make(x0: [], predicted: []) } throws: { "\($0)".contains("x0") }
        #expect { try make(predicted: [0, 0]) } throws: { "\($0)".contains("predicted") }
        #expect { try make(predicted: [.nan]) } throws: { "\($0)".contains("predicted") }
    }

    @Test("A DenoisedCase with r_t > 10 is outside S9/D1: it passes whatever the implementation")
    func denoisedOutsideDomain() throws {
        // β = 0.995: ᾱ_1 = 0.005, r_1 = √199 > 10.
        let c = try DenoisedCase(schedule: try NoiseSchedule(.custom(betas: [0.995]), steps: 1), timestep: 1, sigma: 2,
                                 x0: [1], epsilon: [1], predicted: [0])
        #expect(try TauChecks.checkDenoised(on: c, implementation: BrokenDenoised.withoutSigma.implementation).passed)
    }
}
