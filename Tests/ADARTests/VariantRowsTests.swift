import ADAR
import ADARCore
import ADARData
import ADAREvaluation
import ADARReference
import ADARReport
import ADARStore
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The rows of the final table (issue 10 §3): rows declared in the grid file (name, base sampler,
/// settings, grid), equal budgets across them, the store identity of the five samplers' rows, the
/// w = 0 ablation's loss (S7), the verdict lines and the calibration plot of the report, and
/// `adar tune` + `adar report` end to end with every variant row (docs/PROTOCOL.md "Rows").
@Suite("ADAR variant rows")
struct VariantRowsTests {
    // MARK: Rows in the grid file

    /// GridTests' minimal document with `rows` (JSON members) added after the five samplers' rows.
    static func document(rows: String) -> String {
        let find = #""mixgcf": {"pool": [16], "positiveMixingMax": [1]}"#
        precondition(GridTests.minimalDocument.components(separatedBy: find).count == 2)
        return GridTests.minimalDocument.replacingOccurrences(of: find, with: find + ", " + rows)
    }

    static let variantRows = """
        "adar-forward": {"sampler": "adar", "settings": {"fallback": "skip", "gradientFlow": "detach"},
                         "rho": [0.3, 0.7], "weight": [0.5, 1]},
        "adar-w0": {"sampler": "adar", "settings": {"fallback": "hardest", "gradientFlow": "through", "syntheticWeight": 0},
                    "rho": [0.3, 0.7], "weight": [0.5, 1]},
        "adar-denoised": {"sampler": "adar", "settings": {"generator": "denoised"}, "rho": [0.3, 0.7], "weight": [0.5, 1],
                          "rMax": [1, 10]},
        "dns-wide": {"sampler": "dns", "pool": [32, 64]}
        """

    static func row(_ name: String, of evaluationProtocol: EvaluationProtocol) throws -> TuningRow {
        try GridTests.row(name, of: evaluationProtocol)
    }

    @Test("a row is a name, a base sampler, settings held by every point and a grid; settings change neither the size nor the draw")
    func rowsLoad() throws {
        let p = try GridFile.parse(Self.document(rows: Self.variantRows), source: "t").evaluationProtocol(named: "p")
        #expect(p.rows.map(\.name) == ["uniform", "dns", "ahns", "adar", "mixgcf", "adar-forward", "adar-w0", "adar-denoised", "dns-wide"])
        #expect(p.rows.map(\.sampler) == [.uniform, .dns, .ahns, .adar, .mixgcf, .adar, .adar, .adar, .dns])
        let forward = try Self.row("adar-forward", of: p), w0 = try Self.row("adar-w0", of: p)
        #expect(w0.settings.canonicalText == #"{"fallback":"hardest","gradientFlow":"through","syntheticWeight":0}"#)
        // 4 common points × 2 ρ × 2 w = 16 for both; budget 2 draws the same two (ρ, w, lr, l2) points.
        #expect(p.grid(for: forward).size == 16 && p.grid(for: w0).size == 16)
        let forwardPlan = p.tuningPlan(for: forward), w0Plan = p.tuningPlan(for: w0)
        #expect(forwardPlan.row == "adar-forward" && forwardPlan.budgetUsed == 2 && w0Plan.budgetUsed == 2)
        func withoutSettings(_ point: RunConfiguration, _ row: TuningRow) -> RunConfiguration {
            RunConfiguration(validated: point.values.filter { row.settings[$0.key] == nil })
        }
        #expect(forwardPlan.configurations.map { withoutSettings($0, forward) } == w0Plan.configurations.map { withoutSettings($0, w0) })
        for point in w0Plan.configurations {
            #expect(point["syntheticWeight"] == .number(0) && point["fallback"] == .string("hardest") && point["gradientFlow"] == .string("through"))
            // The run's configuration: the fixed block, the row's settings and the point.
            #expect(p.runConfiguration(point)["pool"] == .number(4) && p.runConfiguration(point)["syntheticWeight"] == .number(0))
        }
        let denoised = try Self.row("adar-denoised", of: p)
        #expect(p.tuningPlan(for: denoised).configurations.allSatisfy { $0["generator"] == .string("denoised") && $0["rMax"] != nil })
        #expect(try Self.row("dns-wide", of: p).sampler == .dns && p.grid(for: try Self.row("dns-wide", of: p)).size == 8)
    }

    /// (rows added to the minimal document) → (JSON path, part of the reason).
    static let invalidRows: [(String, String, String)] = [
        (#""adar-x": {"sampler": "bpr", "rho": [0.5]}"#, "adar-x.sampler", #"row "adar-x": "bpr" is not a sampler; choose from uniform, dns, ahns, adar, mixgcf"#),
        (#""adar-x": {"sampler": 3}"#, "adar-x.sampler", "must be a string"),
        (#""forward": {"rho": [0.5]}"#, "forward", #"row "forward" is not a sampler's name, so it must declare its base sampler: "sampler": one of"#),
        (#""adar-x": {"rho": [0.5]}"#, "adar-x", "must declare its base sampler"),
        (#""forward": {"sampler": "adar", "rho": [0.5]}"#, "forward", #"row "forward" trains the adar sampler: name it "adar" or "adar-…""#),
        (#""adar-dns": {"sampler": "dns", "pool": [8]}"#, "adar-dns", #"a name beginning with "adar" marks an ADAR row in reports; rename it"#),
        (#""Adar_X": {"sampler": "adar"}"#, "Adar_X", "must begin with a lower-case letter and use only a–z, 0–9 and \"-\""),
        (#""adar-x": {"sampler": "adar", "settings": {"fallback": "sometimes"}}"#, "adar-x.settings.fallback", #""sometimes" is not one of "skip", "hardest""#),
        (#""adar-x": {"sampler": "adar", "settings": {"weight": 0}}"#, "adar-x.settings.weight", "0.0 is out of range: must be > 0"),
        (#""adar-x": {"sampler": "adar", "settings": {"syntheticWeight": -1, "fallback": "hardest"}}"#, "adar-x.settings.syntheticWeight", "must be ≥ 0"),
        (#""adar-x": {"sampler": "adar", "settings": {"pool": 8}}"#, "adar-x.settings.pool", #"row "adar-x": unknown key "pool" (allowed here: rho, weight"#),
        (#""adar-x": {"sampler": "adar", "settings": {"lr": 0.1}}"#, "adar-x.settings.lr", "in the common grid already"),
        (#""adar-x": {"sampler": "adar", "settings": {"rho": 0.5}, "rho": [0.3]}"#, "adar-x.settings.rho", #"row "adar-x": "rho" is both a setting and an axis of the row"#),
        (#""adar-x": {"sampler": "adar", "settings": [1]}"#, "adar-x.settings", "must be an object of single values"),
        (#""adar-x": {"sampler": "adar", "temperature": [1]}"#, "adar-x.temperature", #"a row may also declare "sampler" and "settings""#),
        (#""adar-x": {"sampler": "adar", "settings": {"rMax": 2}}"#, "adar-x.settings.rMax", "applies only with the denoised generator"),
        (#""adar-x": {"sampler": "adar", "settings": {"syntheticWeight": 0}}"#, "adar-x.settings.syntheticWeight",
         #"0 with fallback "skip" leaves no augmentation term on any row (S7), which is uniform BPR"#),
        (#""adar-x": {"sampler": "adar", "settings": {"syntheticWeight": 0}, "fallback": ["hardest", "skip"]}"#, "adar-x.settings.syntheticWeight", "uniform BPR"),
        (#""adar-x": {"sampler": "adar", "syntheticWeight": [0.5, 0], "settings": {"fallback": "skip"}}"#, "adar-x.syntheticWeight", "uniform BPR"),
        (#""dns": {"sampler": "ahns", "pool": [4]}"#, "dns.sampler", #"row "dns" is named after the sampler dns but declares "ahns""#),
    ]

    @Test("Bad rows are refused with the row, the JSON path and the reason", arguments: invalidRows.indices)
    func refusesBadRows(_ index: Int) {
        let (rows, path, reason) = Self.invalidRows[index]
        var document = Self.document(rows: rows)
        if rows.hasPrefix(#""dns""#) {  // replaces the minimal document's own dns row
            document = GridTests.minimalDocument.replacingOccurrences(of: #""dns": {"pool": [4]}"#, with: rows)
        }
        let error = #expect(throws: GridFileError.self) { try GridFile.parse(document, source: "grids.json") }
        #expect(error?.path == "$.protocols.p.grids." + path, "case \(index): \(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "case \(index): \(String(describing: error))")
    }

    @Test("A duplicate row name, and a protocol without rows, are refused naming the row and the field")
    func duplicateAndMissingRows() throws {
        let twice = Self.document(rows: #""adar-x": {"sampler": "adar"}, "adar-x": {"sampler": "adar", "rho": [0.5]}"#)
        let duplicate = #expect(throws: GridFileError.self) { try GridFile.parse(twice, source: "grids.json") }
        #expect(duplicate?.description.contains(#"duplicate key "adar-x""#) == true, "\(String(describing: duplicate))")
        let doc = GridTests.minimalDocument
        let rowsStart = try #require(doc.range(of: #", "uniform": {}"#)), rowsEnd = try #require(doc.range(of: "}}}}", options: .backwards))
        let bare = String(doc[..<rowsStart.lowerBound]) + String(doc[rowsEnd.lowerBound...])
        let empty = #expect(throws: GridFileError.self) { try GridFile.parse(bare, source: "grids.json") }
        #expect(empty?.path == "$.protocols.p.grids" && empty?.reason.hasPrefix("declares no row") == true, "\(String(describing: empty))")
        // A valid variant beside them is accepted (the cases above fail for their own reason).
        _ = try GridFile.parse(Self.document(rows: #""adar-x": {"sampler": "adar", "settings": {"syntheticWeight": 0, "fallback": "hardest"}}"#),
                               source: "grids.json")
    }

    // MARK: Equal budgets

    @Test("The committed full protocol: every row with at least N points is tuned with N; the forward variants draw the same points")
    func equalBudgets() throws {
        let full = try GridTests.committed().evaluationProtocol(named: "full")
        for row in full.rows {
            let plan = full.tuningPlan(for: row)
            #expect(plan.budgetUsed == min(full.budget, plan.gridSize), "\(row.name)")
            #expect(row.name == "uniform" ? plan.budgetUsed == 4 : plan.budgetUsed == 12, "\(row.name): \(plan.summary)")
        }
        // adar-forward, adar-hardest-through and adar-w0 share their axes: the same 12 (lr, l2, ρ, w, σ),
        // so the ablation compares with adar-hardest-through configuration by configuration.
        let shared = try ["adar-forward", "adar-hardest-through", "adar-w0"].map { name in
            let row = try Self.row(name, of: full)
            return full.tuningPlan(for: row).configurations.map { point in
                RunConfiguration(validated: point.values.filter { row.settings[$0.key] == nil }).canonicalText
            }
        }
        #expect(shared[0] == shared[1] && shared[1] == shared[2] && Set(shared[0]).count == 12)
        let denoised = try Self.row("adar-denoised", of: full)
        #expect(denoised.settings.canonicalText == #"{"fallback":"skip","generator":"denoised","gradientFlow":"detach"}"#)
        #expect(Set(denoised.axes.map(\.key)) == ["rho", "weight", "sigma", "rMax", "tauWarmup", "tauLearningRate"])
    }

    // MARK: Store identity of the five samplers' rows

    /// Every tuning RunSpec of the committed protocols' five samplers, as `RunSpec.description`
    /// (the store's key: phase, dataset, backbone, sampler, canonical configuration, seeds, protocol),
    /// for ML-100K × MF, split seed 2026, model seed 1: 52 of full and 15 of reduced.
    ///
    /// The literals were produced by the code on main BEFORE rows existed (commit 14f513e2, a throwaway
    /// test iterating `SamplerKind.allCases` with `tuningPlan(for: sampler)` and
    /// `runConfiguration(point)`), written to a file and hashed with `sha256sum`.
    static let preRowsSpecsSHA256 = "d5a276a8258d8de2fa5920af48057c104e2044c746de3d23f2789f2e6f1248d7"
    static let preRowsFirstADARSpec = #"tune ml-100k/mf/adar {"batchSize":2048,"dimension":64,"fallback":"skip","gradientFlow":"through","initialScale":0.1,"l2":0.0001,"layers":3,"lr":0.001,"policy":"max","pool":16,"rho":0.3,"schedule":"cosine","scheduleSteps":1000,"sigma":0.05,"weight":1} split seed 2026, model seed 1, protocol full"#

    @Test("The five samplers' rows key their runs exactly as before rows existed, so stored runs are reused")
    func storeIdentityUnchanged() throws {
        var lines: [String] = []
        // The protocols of that commit (later ones share their key format).
        for evaluationProtocol in try GridTests.committed().protocols where ["full", "reduced"].contains(evaluationProtocol.name) {
            for sampler in SamplerKind.allCases {
                let row = try Self.row(sampler.rawValue, of: evaluationProtocol)
                #expect(row.sampler == sampler && row.settings.values.isEmpty)
                for point in evaluationProtocol.tuningPlan(for: row).configurations {
                    lines.append(try RunSpec(phase: .tune, dataset: "ml-100k", backbone: "mf", sampler: row.name,
                                             configuration: evaluationProtocol.runConfiguration(point), splitSeed: 2026, modelSeed: 1,
                                             protocol: evaluationProtocol.name).description)
                }
            }
        }
        #expect(lines.count == 67)
        #expect(lines.first { $0.hasPrefix("tune ml-100k/mf/adar ") } == Self.preRowsFirstADARSpec)
        #expect(SHA256.hex(Array((lines.joined(separator: "\n") + "\n").utf8)) == Self.preRowsSpecsSHA256)
        // The check can fail: one changed key (a setting added to adar) changes the hash.
        let altered = lines.map { $0.replacingOccurrences(of: #""fallback":"skip""#, with: #""fallback":"skip","syntheticWeight":1"#) }
        #expect(SHA256.hex(Array((altered.joined(separator: "\n") + "\n").utf8)) != Self.preRowsSpecsSHA256)
    }

    // MARK: The w = 0 ablation (S7)

    /// BPR alone for one row, binary64, written from S7 here: `softplus(−(s_0 − s_uj)) + λ/2·(‖e_u‖² + ‖e_i‖² + ‖e_j‖²)`
    /// and its gradients with respect to `e_u`, `e_i` and `e_j`.
    static func bprOnly(user u: [Double], positive x: [Double], negative j: [Double], l2 lambda: Double)
        -> (loss: Double, user: [Double], positive: [Double], negative: [Double]) {
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let margin = dot(u, x) - dot(u, j)
        let loss = max(-margin, 0) + log1p(exp(-abs(margin))) + lambda / 2 * (dot(u, u) + dot(x, x) + dot(j, j))
        let g = 1 / (1 + exp(margin))  // d softplus(−m)/d(−m)
        return (loss, u.indices.map { -g * (x[$0] - j[$0]) + lambda * u[$0] }, u.indices.map { -g * u[$0] + lambda * x[$0] },
                u.indices.map { g * u[$0] + lambda * j[$0] })
    }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    /// A binary64 batch with transition, saturated and fallback rows (WhiteBoxTests' layout), its outcomes under
    /// `hardest`, and the row-loss function of the reference.
    static func referenceBatch() throws -> (ADARBatch, [RowOutcome], NoiseSchedule) {
        let (input, epsilon) = try WhiteBoxTests.batch(rows: 64, dimension: 11, poolSize: 4)
        let batch = try ADARBatch(rows: input.rows, dimension: 11, poolSize: 4, users: input.users.map(Double.init),
                                  positives: input.positives.map(Double.init), pool: input.pool.map(Double.init),
                                  noise: .explicit(epsilon.map(Double.init)))
        let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
        let outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule,
                                                    configuration: try ADARConfiguration(rho: 0.3, sigma: 0.2, fallback: .hardest))
        return (batch, outcomes, schedule)
    }

    @Test("Reference (binary64): literal w = 0 is BPR alone on every row, fallback rows included; the ablation is BPR on synthesised rows and the hardest term on fallback rows")
    func referenceAblation() throws {
        let (batch, outcomes, schedule) = try Self.referenceBatch()
        let d = batch.dimension, lambda = 0.01
        let literal = try ADARConfiguration(rho: 0.3, sigma: 0.2, fallback: .hardest, augmentationWeight: 0, gradientFlow: .through, l2: lambda)
        let hardest = try ADARConfiguration(rho: 0.3, sigma: 0.2, fallback: .hardest, augmentationWeight: 0.8, gradientFlow: .through, l2: lambda)
        var ablation = hardest
        ablation.syntheticWeight = 0
        var fallbackRows = 0, synthesisedRows = 0
        for b in 0..<batch.rows {
            let outcome = outcomes[b]
            let bpr = Self.bprOnly(user: Array(batch.user(b)), positive: Array(batch.positive(b)), negative: Array(batch.candidate(b, 0)), l2: lambda)
            func isBPR(_ row: RowLoss) -> Bool {
                abs(row.loss - bpr.loss) <= 1e-12 * max(1, bpr.loss) && Self.close(row.userGradient, bpr.user, 1e-12)
                    && Self.close(row.positiveGradient, bpr.positive, 1e-12) && Self.close(Array(row.poolGradient[0..<d]), bpr.negative, 1e-12)
                    && row.poolGradient[d...].allSatisfy { $0 == 0 }
            }
            let full = ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: hardest)
            // (1) w = 0 removes the augmentation term from every row: the hardest candidate gets no gradient either.
            #expect(isBPR(ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: literal)), "row \(b) \(outcome.status)")
            let ablated = ReferenceADAR.loss(batch, row: b, outcome: outcome, schedule: schedule, configuration: ablation)
            if outcome.status.isFallback {
                fallbackRows += 1
                // (2b) fallback rows keep w·softplus(−(s_0 − s_uh)) with the gradient into the hardest candidate h.
                #expect(ablated == full, "row \(b)")
                #expect(!isBPR(ablated) && ablated.poolGradient[outcome.hardestCandidate * d ..< (outcome.hardestCandidate + 1) * d].contains { $0 != 0 })
            } else {
                synthesisedRows += 1
                // (2a) synthesised rows: BPR alone, unlike the full hardest/through loss.
                #expect(isBPR(ablated) && !isBPR(full), "row \(b) \(outcome.status)")
            }
        }
        #expect(fallbackRows > 0 && synthesisedRows > 0, "\(fallbackRows) fallback, \(synthesisedRows) synthesised rows")
    }

    @Test("Optimised (binary32): the same two facts, with the reference's weights; the batched loss agrees with the per-row weight rule")
    func optimisedAblation() throws {
        let (input, epsilon) = try WhiteBoxTests.batch(rows: 96, dimension: 19, poolSize: 4)
        let d = input.dimension, poolSize = 4, lambda: Float = 0.01
        let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
        func losses(weight: Double, syntheticWeight: Double?) throws -> (SynthesisBuffers, LossBuffers) {
            let configuration = try ADARConfiguration(rho: 0.3, sigma: 0.2, fallback: .hardest, augmentationWeight: weight,
                                                      syntheticWeight: syntheticWeight, gradientFlow: .through, l2: Double(lambda))
            let synthesizer = ADARSynthesizer(schedule: schedule, configuration: configuration)
            let synthesis = SynthesisBuffers(), output = LossBuffers()
            try synthesizer.synthesize(input, noise: .explicit(epsilon), into: synthesis, threads: 2)
            try synthesizer.loss(input, synthesis: synthesis, into: output, threads: 2)
            return (synthesis, output)
        }
        let (synthesis, literal) = try losses(weight: 0, syntheticWeight: nil)
        let (_, full) = try losses(weight: 0.8, syntheticWeight: nil)
        let (_, ablation) = try losses(weight: 0.8, syntheticWeight: 0)
        func slice(_ buffer: UnsafeBufferPointer<Float>, _ b: Int) -> [Double] { buffer[b * d ..< (b + 1) * d].map(Double.init) }
        var fallbackRows = 0
        for b in 0..<input.rows {
            let user = input.users[b * d ..< (b + 1) * d].map(Double.init), positive = input.positives[b * d ..< (b + 1) * d].map(Double.init)
            let negative = input.pool[b * poolSize * d ..< (b * poolSize + 1) * d].map(Double.init)
            let bpr = Self.bprOnly(user: user, positive: positive, negative: negative, l2: Double(lambda))
            func isBPR(_ out: LossBuffers) -> Bool {
                abs(Double(out.losses[b]) - bpr.loss) <= 1e-5 * max(1, bpr.loss) && Self.close(slice(out.userGradients, b), bpr.user, 1e-5)
                    && Self.close(slice(out.positiveGradients, b), bpr.positive, 1e-5) && Self.close(slice(out.negativeGradients, b), bpr.negative, 1e-5)
                    && out.fallbackGradients[b * d ..< (b + 1) * d].allSatisfy { $0 == 0 }
            }
            #expect(isBPR(literal), "row \(b) \(synthesis.statuses[b])")
            if synthesis.statuses[b].isFallback {
                fallbackRows += 1
                // Bit for bit the hardest/through loss: the same code path with the same w.
                #expect(ablation.losses[b].bitPattern == full.losses[b].bitPattern, "row \(b)")
                for (a, f) in [(ablation.userGradients, full.userGradients), (ablation.positiveGradients, full.positiveGradients),
                               (ablation.negativeGradients, full.negativeGradients), (ablation.fallbackGradients, full.fallbackGradients)] {
                    #expect(a[b * d ..< (b + 1) * d].elementsEqual(f[b * d ..< (b + 1) * d]) { $0.bitPattern == $1.bitPattern }, "row \(b)")
                }
                #expect(!isBPR(ablation))
            } else {
                #expect(isBPR(ablation) && !isBPR(full), "row \(b) \(synthesis.statuses[b])")
            }
        }
        #expect(fallbackRows > 0 && fallbackRows < input.rows)
    }

    @Test("ADARConfiguration's row weight: syntheticWeight on synthesised rows, w or 0 on fallback rows; a negative syntheticWeight is refused")
    func rowWeights() throws {
        let ablation = try ADARConfiguration(fallback: .hardest, augmentationWeight: 0.8, syntheticWeight: 0)
        #expect(ablation.augmentationWeight(fallbackRow: false) == 0 && ablation.augmentationWeight(fallbackRow: true) == 0.8)
        let skip = try ADARConfiguration(fallback: .skip, augmentationWeight: 0.8)
        #expect(skip.augmentationWeight(fallbackRow: false) == 0.8 && skip.augmentationWeight(fallbackRow: true) == 0)
        #expect(throws: ADARError.invalidConfiguration(field: "syntheticWeight", reason: "-0.1 must be finite and ≥ 0")) {
            try ADARConfiguration(syntheticWeight: -0.1)
        }
        #expect(throws: ADARError.self) { try ADARConfiguration(syntheticWeight: .infinity) }
    }

    // MARK: The report: verdict lines and the calibration plot

    @Test("Each ADAR row gets a verdict line in words against the best baseline and uniform; Holm runs over every comparison")
    func verdictLines() throws {
        let flatRecall = Array(repeating: 0.2, count: 6)
        // NDCG@20 planted; the expected numbers come from scipy.stats.ttest_rel (and its confidence_interval) run once on them.
        let rows = [
            ReportTests.Planted(name: "uniform", configuration: ["lr": 0.001],
                                runs: ReportTests.runs([0.3859, 0.3862, 0.3855, 0.3866, 0.3851, 0.3860], flatRecall, validation: Array(repeating: 0.40, count: 6))),
            ReportTests.Planted(name: "dns", configuration: ["lr": 0.001, "pool": 16],
                                runs: ReportTests.runs([0.3961, 0.3961, 0.3958, 0.3964, 0.3952, 0.3960], flatRecall, validation: Array(repeating: 0.41, count: 6))),
            ReportTests.Planted(name: "adar-forward", configuration: ["lr": 0.001, "rho": 0.5],
                                runs: ReportTests.runs([0.3762, 0.3759, 0.3760, 0.3764, 0.3751, 0.3763], flatRecall, validation: Array(repeating: 0.45, count: 6))),
            ReportTests.Planted(name: "adar-denoised", configuration: ["lr": 0.001, "rho": 0.5, "generator": "denoised"],
                                runs: ReportTests.runs([0.3971, 0.3949, 0.3966, 0.3955, 0.3963, 0.3950], flatRecall, validation: Array(repeating: 0.45, count: 6))),
            ReportTests.Planted(name: "adar-w0", configuration: ["lr": 0.001, "rho": 0.5, "syntheticWeight": 0],
                                runs: ReportTests.runs([0.4113, 0.4112, 0.4106, 0.4114, 0.4105, 0.4109], flatRecall, validation: Array(repeating: 0.45, count: 6))),
        ]
        let report = try CellReport(cell: ReportTests.cell, store: ReportTests.plantedStore(rows))
        // The best baseline is chosen among the non-ADAR rows on validation, although the ADAR rows validate higher.
        #expect(report.bestBaseline?.sampler == "dns")
        #expect(report.rows.map(\.sampler) == ["uniform", "dns", "adar-denoised", "adar-forward", "adar-w0"])
        // 4 rows vs uniform + 3 ADAR rows vs dns, on both metrics.
        #expect(report.comparisons.count == 14)
        let markdown = CellMarkdown.render(report)
        #expect(markdown.contains("all **m = 14** comparisons"))
        let verdicts = markdown.split(separator: "\n").filter { $0.hasPrefix("adar") }.map(String.init)
        #expect(verdicts == [
            "adar-denoised: not significantly different from the best baseline (dns) in NDCG@20 (0.0 %, Δ 0.0000 [-0.0012, +0.0011], Holm p 1.000); "
                + "2.6 % above uniform in NDCG@20 (Holm p <0.001).",
            "adar-forward: 5.0 % below the best baseline (dns) in NDCG@20 (Δ -0.0199 [-0.0201, -0.0198], Holm p <0.001); "
                + "2.6 % below uniform in NDCG@20 (Holm p <0.001).",
            "adar-w0: 3.8 % above the best baseline (dns) in NDCG@20 (Δ +0.0150 [+0.0149, +0.0152], Holm p <0.001); "
                + "6.5 % above uniform in NDCG@20 (Holm p <0.001).",
        ], "\(verdicts)")
    }

    /// A store with final runs of uniform and two ADAR rows at one pair, the ADAR ones with S9's calibration
    /// extras per evaluation (as ProtocolSweep records them); `calibration: false` records none.
    static func calibrationStore(calibration: Bool = true) throws -> RunStore {
        let store = try RunStore.inMemory()
        let planted: [(String, [(z: Double, share: Double, retention: Double)])] = [
            ("uniform", []),
            ("adar-forward", [(0.3, 0.49, 0.49), (-0.8, 0.50, 0.49), (1.1, 0.47, 0.48)]),
            ("adar-denoised", [(21.4, 0.64, 0.49), (147.9, 0.92, 0.49), (193.8, 0.99, 0.48)]),
        ]
        for (name, statistics) in planted {
            for pair in ReportTests.pairs.prefix(2) {
                let id = try ReportTests.started(store.begin(ReportTests.spec(.final, name, ["lr": 0.001], split: pair.split, model: pair.model),
                                                             codeVersion: "test"))
                for (k, epoch) in [5, 10, 15].enumerated() {
                    var extra = ["meanLoss": 0.5]
                    if calibration, k < statistics.count {
                        extra.merge(["calibration.z": statistics[k].z, "calibration.share": statistics[k].share,
                                     "calibration.meanRetention": statistics[k].retention, "calibration.rows": 1000]) { $1 }
                    }
                    try store.recordEvaluation(id, epoch: epoch, split: .validation, metrics: ["ndcg@20": 0.3 + Double(k) / 100], extra: extra)
                }
                try store.finish(id, bestEpoch: 15, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.2], seconds: 1)
            }
        }
        return store
    }

    /// The points of every `<polyline>` of an SVG, in document order.
    static func polylines(_ svg: String) -> [[(x: Double, y: Double)]] {
        svg.components(separatedBy: "<polyline").dropFirst().map { element in
            let points = element.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0]
            return points.split(separator: " ").map { pair in
                let xy = pair.split(separator: ",").map { Double($0)! }
                return (xy[0], xy[1])
            }
        }
    }

    @Test("The calibration plot: Z and the share above s⁻ against mean π of each ADAR row's final run at the first pair; referenced by the report")
    func calibrationPlot() throws {
        let report = try CellReport(cell: ReportTests.cell, store: Self.calibrationStore())
        #expect(report.calibrationCurves.map(\.sampler) == ["adar-denoised", "adar-forward"])
        let denoised = try #require(report.calibrationCurves.first)
        #expect(denoised.points.map(\.epoch) == [5, 10, 15] && denoised.points.map(\.z) == [21.4, 147.9, 193.8])
        #expect(denoised.points.map(\.share) == [0.64, 0.92, 0.99] && denoised.points.map(\.meanRetention) == [0.49, 0.49, 0.48])
        let svg = try #require(CellPlots.calibration(report))
        #if canImport(FoundationXML) || canImport(Darwin)
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        #endif
        #expect(svg.contains(">adar-denoised</text>") && svg.contains(">adar-forward</text>") && !svg.contains(">uniform</text>"))
        #expect(svg.contains(">Z (S9)</text>") && svg.contains(">share of Y = 1</text>") && !svg.contains("nan"))
        // The ±1.96 band, then Z per row, then per row its share (solid) and mean π (dashed).
        let lines = Self.polylines(svg)
        try #require(lines.count == 2 + 2 + 4)
        #expect(lines[0][0].y > lines[1][0].y)  // −1.96 lies below +1.96
        let (denoisedZ, forwardZ) = (lines[2], lines[3])
        #expect(denoisedZ.count == 3 && forwardZ.count == 3)
        #expect(denoisedZ.last!.y < forwardZ.last!.y && denoisedZ.map(\.y) == denoisedZ.map(\.y).sorted(by: >))
        // Forward's Z stays inside the band: between the two dashed lines.
        #expect(forwardZ.allSatisfy { $0.y < lines[0][0].y && $0.y > lines[1][0].y })
        let (denoisedShare, denoisedPi, forwardShare, forwardPi) = (lines[4], lines[5], lines[6], lines[7])
        #expect(denoisedShare.last!.y < denoisedPi.last!.y - 100, "0.99 sits far above 0.48 on a 300-pixel axis from 0 to 1")
        #expect(abs(forwardShare.last!.y - forwardPi.last!.y) < 10)

        let files = try Report(store: Self.calibrationStore(), filter: .init(), commandLine: "adar report").files(markdownOnly: false)
        let stem = ReportTests.cell.fileStem
        #expect(files.contains { $0.name == "\(stem)-calibration.svg" && $0.contents == svg })
        let markdown = try #require(files.first { $0.name == "\(stem).md" }?.contents)
        #expect(markdown.contains("![calibration](\(stem)-calibration.svg)") && markdown.contains("one run, not a mean over seeds"))

        // Without calibration statistics (no ADAR row recorded any): no plot and no reference.
        let plain = try CellReport(cell: ReportTests.cell, store: Self.calibrationStore(calibration: false))
        #expect(plain.calibrationCurves.isEmpty && CellPlots.calibration(plain) == nil)
        let plainFiles = try Report(store: Self.calibrationStore(calibration: false), filter: .init(), commandLine: "adar report").files(markdownOnly: false)
        #expect(!plainFiles.contains { $0.name.hasSuffix("-calibration.svg") })
        #expect(plainFiles.allSatisfy { !$0.contents.contains("![calibration]") })
    }

    // MARK: End to end

    /// Every row of the full protocol, shrunk: TuneCommandTests' tiny protocol with budget 1, two epochs, two model
    /// seeds on one split seed, and the four variant rows added.
    static let everyRowGrid = [
        (#""budget": 2"#, #""budget": 1"#),
        (#""evaluateEvery": 2, "patience": 5, "maxEpochs": 10"#, #""evaluateEvery": 1, "patience": 1, "maxEpochs": 2"#),
        (#""splitSeeds": [5, 6]"#, #""splitSeeds": [5]"#), (#""lr": [0.01, 0.003]"#, #""lr": [0.01]"#),
        (#""dns": {"pool": [4, 8]}"#, #""dns": {"pool": [4]}"#),
        (#""positiveMixingMax": [0.5]}"#, #"""
            "positiveMixingMax": [0.5]},
            "adar-forward": {"sampler": "adar", "settings": {"fallback": "skip", "gradientFlow": "detach"},
                             "rho": [0.5], "weight": [1], "sigma": [0.1]},
            "adar-hardest-through": {"sampler": "adar", "settings": {"fallback": "hardest", "gradientFlow": "through"},
                                     "rho": [0.5], "weight": [1], "sigma": [0.1]},
            "adar-denoised": {"sampler": "adar", "settings": {"generator": "denoised", "fallback": "skip", "gradientFlow": "detach"},
                              "rho": [0.5], "weight": [1], "sigma": [0.1], "rMax": [10], "tauWarmup": [1], "tauLearningRate": [0.01]},
            "adar-w0": {"sampler": "adar", "settings": {"fallback": "hardest", "gradientFlow": "through", "syntheticWeight": 0},
                        "rho": [0.5], "weight": [1], "sigma": [0.1]}
            """#),
    ].reduce(TuneCommandTests.grid) { document, edit in
        precondition(document.components(separatedBy: edit.0).count == 2, "\(edit.0) must occur once")
        return document.replacingOccurrences(of: edit.0, with: edit.1)
    }

    static let rowNames = ["uniform", "dns", "ahns", "adar", "mixgcf", "adar-forward", "adar-hardest-through", "adar-denoised", "adar-w0"]

    @Test("adar tune runs every row of the grid file by default (denoised and the ablation included), --samplers picks rows, adar report writes a verdict per ADAR row and the calibration plot")
    func tuneAndReportEveryRow() throws {
        let folder = try TuneCommandTests.folder(grid: Self.everyRowGrid)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tune = ["tune", "--dataset", "synthetic", "--synthetic-users", "60", "--synthetic-items", "120",
                    "--grids", "tiny.json", "--protocol", "tiny", "--store", "runs.sqlite", "--threads", "1"]
        let result = try ADARExecutable.run(tune, in: folder)
        #expect(result.status == 0 && !result.endedBySignal, "\(result.status): \(result.standardError)")
        let chosen = result.standardOutput.split(separator: "\n").filter { $0.hasPrefix("  ") }.map { $0.split(separator: " ")[0] }
        #expect(chosen.map(String.init) == Self.rowNames, "\(result.standardOutput)")

        let store = try TuneCommandTests.store(in: folder)
        let finals = try store.finishedRuns(phase: .final)
        #expect(finals.count == 9 * 2 && Set(finals.map(\.spec.sampler)) == Set(Self.rowNames))
        #expect(try store.failedRuns().isEmpty)
        for run in finals where run.spec.sampler == "adar-w0" {
            #expect(run.spec.configuration["syntheticWeight"] == .number(0) && run.spec.configuration["fallback"] == .string("hardest"))
        }
        let denoised = try #require(finals.first { $0.spec.sampler == "adar-denoised" })
        #expect(try store.evaluations(denoised.id).contains { $0.extra["tau.loss"] != nil })

        // --samplers takes row names: the stored runs are found again, nothing is retrained.
        let picked = try ADARExecutable.run(tune.map { $0 } + ["--samplers", "adar-w0,uniform"], in: folder)
        #expect(picked.status == 0 && !picked.endedBySignal, "\(picked.standardError)")
        #expect(picked.standardOutput.split(separator: "\n").filter { $0.hasPrefix("  ") }.map { String($0.split(separator: " ")[0]) }
            == ["adar-w0", "uniform"])
        #expect(!picked.standardError.contains("done in"), "every run was in the store: \(picked.standardError)")
        let unknown = try ADARExecutable.run(tune + ["--samplers", "adar-x"], in: folder)
        #expect(unknown.status == 64 && !unknown.endedBySignal)
        #expect(unknown.standardError.contains(#"adar tune: error: --samplers: "adar-x" is not a row of protocol tiny in tiny.json (its rows: "#
            + Self.rowNames.joined(separator: ", ") + ")"), "\(unknown.standardError)")

        let report = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "out"], in: folder)
        #expect(report.status == 0 && !report.endedBySignal, "\(report.standardError)")
        let stem = Cell(dataset: "synthetic", backbone: "mf", protocol: "tiny").fileStem
        let markdown = try String(contentsOf: folder.appendingPathComponent("out/\(stem).md"), encoding: .utf8)
        for name in Self.rowNames where name.hasPrefix("adar") {
            #expect(markdown.split(separator: "\n").contains { $0.hasPrefix("\(name): ") }, "no verdict line for \(name)")
        }
        #expect(markdown.contains("![calibration](\(stem)-calibration.svg)"))
        let svg = try String(contentsOf: folder.appendingPathComponent("out/\(stem)-calibration.svg"), encoding: .utf8)
        for name in Self.rowNames where name.hasPrefix("adar") { #expect(svg.contains(">\(name)</text>"), "\(name)") }
    }
}
