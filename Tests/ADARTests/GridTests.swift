import ADARCore
import ADAREvaluation
import Foundation
import Testing

/// The grid file protocol/grids.json: strict loading, enumeration, equal-budget
/// selection, and choosing each sampler's configuration on validation
/// (docs/PROTOCOL.md "The grid file", "Selection").
@Suite("Protocol grid file, budgets and selection")
struct GridTests {
    static let gridFileURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/grids.json")

    static func committed() throws -> GridFile { try GridFile.load(contentsOf: gridFileURL) }

    // MARK: The committed file

    @Test("protocol/grids.json loads: full, full-fixed-split, limited-fixed-split and reduced, with the declared budgets and settings")
    func committedFileLoads() throws {
        let file = try Self.committed()
        #expect(file.protocols.map(\.name) == ["full", "full-fixed-split", "limited-fixed-split", "reduced", "full-sequential", "limited-sequential", "smoke-sequential"])
        let full = try file.evaluationProtocol(named: "full"), reduced = try file.evaluationProtocol(named: "reduced")
        let fixedSplit = try file.evaluationProtocol(named: "full-fixed-split")
        let limited = try file.evaluationProtocol(named: "limited-fixed-split")
        #expect(full.budget == 12 && fixedSplit.budget == 12 && limited.budget == 2 && reduced.budget == 3)
        #expect(full.earlyStopping == (try EarlyStoppingSettings(evaluateEvery: 5, patience: 5, maxEpochs: 300)))
        #expect(fixedSplit.earlyStopping == full.earlyStopping)
        #expect(limited.earlyStopping == (try EarlyStoppingSettings(evaluateEvery: 5, patience: 3, maxEpochs: 100)))
        #expect(reduced.earlyStopping == (try EarlyStoppingSettings(evaluateEvery: 5, patience: 3, maxEpochs: 60)))
        #expect(reduced.description.hasPrefix("REDUCED") && limited.description.hasPrefix("LIMITED"))
        for evaluationProtocol in [full, reduced] {
            #expect(evaluationProtocol.modelSeeds == [1, 2, 3] && evaluationProtocol.splitSeeds == [2026, 2027])
        }
        // ML-1M's one split: as many final runs per row (6) as full's 3 × 2.
        #expect(fixedSplit.modelSeeds == [1, 2, 3, 4, 5, 6] && fixedSplit.splitSeeds == [0])
        #expect(limited.modelSeeds == [1, 2, 3] && limited.splitSeeds == [0])
        // Full and full-fixed-split tune the same rows on the same grids; limited too, with a smaller budget.
        for other in [fixedSplit, limited] {
            #expect(other.rows == full.rows)
            #expect(other.commonGrid == full.commonGrid && other.selectionSeed == full.selectionSeed)
        }
        // The settings no grid tunes, declared in the file (docs/PROTOCOL.md "Fixed settings"); the sequential
        // protocols' are SASRec's (SequentialProtocolTests).
        for evaluationProtocol in file.protocols where evaluationProtocol.models == .collaborative {
            #expect(evaluationProtocol.fixed.canonicalText
                == #"{"batchSize":2048,"dimension":64,"initialScale":0.1,"layers":3,"policy":"max","pool":16,"schedule":"cosine","scheduleSteps":1000}"#)
        }
        // A grid's own pool replaces the fixed one; the other fixed settings stay.
        let dnsPoint = full.tuningPlan(for: try Self.row("dns", of: full)).configurations[0]
        #expect(full.runConfiguration(dnsPoint)["pool"] == dnsPoint["pool"] && full.runConfiguration(dnsPoint)["dimension"] == .number(64))
        #expect(full.runConfiguration(full.tuningPlan(for: try Self.row("adar", of: full)).configurations[0])["pool"] == .number(16))
        let unknown = #expect(throws: GridFileError.self) { try file.evaluationProtocol(named: "fast") }
        #expect(unknown?.description == "\(Self.gridFileURL.path): $.protocols: no protocol named \"fast\" (there are: full, full-fixed-split, limited-fixed-split, reduced, full-sequential, limited-sequential, smoke-sequential)")
    }

    @Test("Grid sizes and budgets: every row gets N when its grid has ≥ N points; uniform gets all 4")
    func gridSizesAndBudgets() throws {
        let file = try Self.committed()
        // Sizes by hand: common 2 lr × 2 l2 = 4; dns ×3 pools = 12; ahns ×2·2·2 = 32;
        // adar ×3 ρ·2 w·3 σ·2 fallbacks·2 flows = 288; mixgcf ×3 pools·2 ranges = 24;
        // the forward variants ×3 ρ·2 w·3 σ = 72 (their settings are one value each);
        // adar-denoised 72 ×2 r_max·2 warm-ups·2 τ learning rates = 576.
        let sizes = ["uniform": 4, "dns": 12, "ahns": 32, "adar": 288, "mixgcf": 24,
                     "adar-forward": 72, "adar-hardest-through": 72, "adar-denoised": 576, "adar-w0": 72]
        let full = try file.evaluationProtocol(named: "full"), reduced = try file.evaluationProtocol(named: "reduced")
        #expect(full.rows.map(\.name) == ["uniform", "dns", "ahns", "adar", "mixgcf",
                                         "adar-forward", "adar-hardest-through", "adar-denoised", "adar-w0"])
        // The reduced protocol (`adar demo`) keeps the five samplers' rows only.
        #expect(reduced.rows.map(\.name) == ["uniform", "dns", "ahns", "adar", "mixgcf"])
        // (The sequential protocols' sizes: SequentialProtocolTests.)
        for evaluationProtocol in file.protocols where evaluationProtocol.models == .collaborative {
            for row in evaluationProtocol.rows {
                let plan = evaluationProtocol.tuningPlan(for: row)
                #expect(plan.gridSize == sizes[row.name], "\(evaluationProtocol.name) \(row.name)")
                #expect(evaluationProtocol.grid(for: row).size == sizes[row.name], "\(evaluationProtocol.name) \(row.name)")
                #expect(plan.budgetUsed == min(evaluationProtocol.budget, sizes[row.name]!), "\(evaluationProtocol.name) \(row.name)")
            }
        }
        #expect(full.tuningPlan(for: try Self.row("dns", of: full)).summary == "dns: 12 of a 12-point grid (budget N = 12)")
        let uniform = try Self.row("uniform", of: full)
        #expect(full.tuningPlan(for: uniform).summary.hasPrefix("uniform: 4 of a 4-point grid (budget N = 12); the grid is smaller than N"))
        #expect(full.tuningPlan(for: uniform).configurations == full.grid(for: uniform).configurations)
    }

    /// The protocol's row `name` (the test fails when it has none).
    static func row(_ name: String, of evaluationProtocol: EvaluationProtocol) throws -> TuningRow {
        try #require(evaluationProtocol.row(named: name), "protocol \(evaluationProtocol.name) has no row \(name)")
    }

    /// Computed independently with a Python replica of the rule in docs/PROTOCOL.md
    /// (SplitMix64 from the seed, partial Fisher–Yates, chosen indices sorted;
    /// grid order = itertools.product over sorted keys), run once and pasted here.
    @Test("The selected configurations match an independent replica of the documented rule")
    func selectionMatchesIndependentReplica() throws {
        let file = try Self.committed()
        let reduced = try file.evaluationProtocol(named: "reduced"), full = try file.evaluationProtocol(named: "full")
        let expectedReduced: [String: [String]] = [
            "uniform": ["{\"l2\":0.0001,\"lr\":0.001}", "{\"l2\":0.001,\"lr\":0.001}", "{\"l2\":0.001,\"lr\":0.003}"],
            "dns": ["{\"l2\":0.001,\"lr\":0.001,\"pool\":4}", "{\"l2\":0.001,\"lr\":0.001,\"pool\":64}", "{\"l2\":0.001,\"lr\":0.003,\"pool\":16}"],
            "ahns": ["{\"alpha\":0.5,\"beta\":0.5,\"l2\":0.001,\"lr\":0.003,\"p\":-1}", "{\"alpha\":1,\"beta\":0.1,\"l2\":0.001,\"lr\":0.003,\"p\":-2}",
                    "{\"alpha\":1,\"beta\":0.5,\"l2\":0.0001,\"lr\":0.003,\"p\":-1}"],
            "adar": ["{\"fallback\":\"skip\",\"gradientFlow\":\"through\",\"l2\":0.001,\"lr\":0.003,\"rho\":0.5,\"sigma\":0.2,\"weight\":0.5}",
                    "{\"fallback\":\"hardest\",\"gradientFlow\":\"detach\",\"l2\":0.001,\"lr\":0.001,\"rho\":0.7,\"sigma\":0.05,\"weight\":0.5}",
                    "{\"fallback\":\"hardest\",\"gradientFlow\":\"through\",\"l2\":0.0001,\"lr\":0.003,\"rho\":0.7,\"sigma\":0.05,\"weight\":1}"],
            "mixgcf": ["{\"l2\":0.0001,\"lr\":0.003,\"pool\":64,\"positiveMixingMax\":1}", "{\"l2\":0.001,\"lr\":0.001,\"pool\":64,\"positiveMixingMax\":0.5}",
                      "{\"l2\":0.001,\"lr\":0.003,\"pool\":32,\"positiveMixingMax\":0.5}"],
        ]
        for (name, expected) in expectedReduced {
            #expect(reduced.tuningPlan(for: try Self.row(name, of: reduced)).configurations.map(\.canonicalText) == expected, "\(name)")
        }
        let expectedFullIndices: [String: [Int]] = [
            "ahns": [0, 3, 14, 15, 16, 17, 22, 24, 26, 27, 29, 30],
            "adar": [73, 101, 103, 112, 136, 192, 210, 228, 233, 247, 260, 274],
            "mixgcf": [0, 1, 11, 12, 13, 14, 16, 18, 19, 20, 22, 23],
        ]
        for (name, indices) in expectedFullIndices {
            let row = try Self.row(name, of: full)
            let grid = full.grid(for: row).configurations
            #expect(full.tuningPlan(for: row).configurations == indices.map { grid[$0] }, "\(name)")
        }
    }

    @Test("Selection: deterministic, a subset of the grid in grid order, no repeats; the seed matters")
    func selectionProperties() throws {
        let full = try Self.committed().evaluationProtocol(named: "full")
        let adar = try Self.row("adar", of: full)
        let grid = full.grid(for: adar).configurations
        let plan = full.tuningPlan(for: adar)
        #expect(plan == full.tuningPlan(for: adar))
        let positions = plan.configurations.map { grid.firstIndex(of: $0)! }
        #expect(positions == positions.sorted() && Set(positions).count == 12)
        #expect(Set(grid).count == 288)
    }

    // MARK: Enumeration and canonical text

    @Test("Canonical text: a grid point is a RunConfiguration, in RFC 8785 canonical JSON")
    func canonicalText() throws {
        let configuration = try RunConfiguration(["pool": 16, "lr": 0.001, "l2": 1e-5, "fallback": "skip", "weight": 1])
        #expect(configuration.canonicalText == "{\"fallback\":\"skip\",\"l2\":0.00001,\"lr\":0.001,\"pool\":16,\"weight\":1}")
        #expect(configuration["pool"] == .number(16) && configuration["rho"] == nil)
    }

    @Test("Enumeration is the cartesian product over sorted keys, first key slowest, values in file order")
    func enumerationOrder() throws {
        let file = try GridFile.parse(Self.minimalDocument.replacingOccurrences(
            of: #""dns": {"pool": [4]}"#, with: #""dns": {"pool": [64, 4]}"#), source: "t")
        let p = try file.evaluationProtocol(named: "p")
        let dns = p.grid(for: try Self.row("dns", of: p)).configurations.map(\.canonicalText)
        // Keys sorted: l2, lr, pool; the file lists lr as [0.1, 0.01] and pool as [64, 4].
        #expect(dns == ["{\"l2\":0,\"lr\":0.1,\"pool\":64}", "{\"l2\":0,\"lr\":0.1,\"pool\":4}",
                        "{\"l2\":0,\"lr\":0.01,\"pool\":64}", "{\"l2\":0,\"lr\":0.01,\"pool\":4}",
                        "{\"l2\":0.001,\"lr\":0.1,\"pool\":64}", "{\"l2\":0.001,\"lr\":0.1,\"pool\":4}",
                        "{\"l2\":0.001,\"lr\":0.01,\"pool\":64}", "{\"l2\":0.001,\"lr\":0.01,\"pool\":4}"])
    }

    // MARK: Strict validation

    /// A small valid document: common 2 × 2, every sampler declared.
    static let minimalDocument = """
        {"version": 1, "protocols": {"p": {
          "description": "test", "budget": 2, "selectionSeed": 7,
          "earlyStopping": {"evaluateEvery": 5, "patience": 2, "maxEpochs": 20},
          "finalRuns": {"modelSeeds": [1, 2], "splitSeeds": [9]},
          "fixed": {"dimension": 8, "batchSize": 64, "initialScale": 0.1, "layers": 2, "pool": 4, "policy": "max",
                    "schedule": "cosine", "scheduleSteps": 100},
          "grids": {"common": {"lr": [0.1, 0.01], "l2": [0, 0.001]}, "uniform": {}, "dns": {"pool": [4]},
                    "ahns": {"p": [-2], "alpha": [1], "beta": [0.1]},
                    "adar": {"rho": [0.5], "weight": [1], "sigma": [0.1], "fallback": ["skip"], "gradientFlow": ["detach"]},
                    "mixgcf": {"pool": [16], "positiveMixingMax": [1]}}}}}
        """

    @Test("The minimal document is valid")
    func minimalDocumentIsValid() throws {
        let p = try GridFile.parse(Self.minimalDocument, source: "t").evaluationProtocol(named: "p")
        #expect(p.tuningPlan(for: try Self.row("adar", of: p)).gridSize == 4)
    }

    /// (replace this, with this) in the minimal document → (JSON path, part of the reason).
    static let invalidCases: [(String, String, String, String)] = [
        (#""version": 1"#, #""version": 2"#, "$.version", "must be 1"),
        (#""version": 1, "#, #""version": 1, "extra": 0, "#, "$.extra", "unknown key \"extra\""),
        (#""budget": 2"#, #""budjet": 2"#, "$.protocols.p.budjet", "unknown key \"budjet\""),
        (#""description": "test", "#, "", "$.protocols.p", "missing key \"description\""),
        (#""budget": 2"#, #""budget": 0"#, "$.protocols.p.budget", "0 is out of range: must be ≥ 1"),
        (#""budget": 2"#, #""budget": 2.5"#, "$.protocols.p.budget", "must be an integer"),
        (#""budget": 2"#, #""budget": "2""#, "$.protocols.p.budget", "found the string \"2\""),
        (#""selectionSeed": 7"#, #""selectionSeed": -7"#, "$.protocols.p.selectionSeed", "must be ≥ 0"),
        (#""patience": 2"#, #""patience": 0"#, "$.protocols.p.earlyStopping.patience", "must be ≥ 1"),
        (#""evaluateEvery": 5"#, #""evaluateEvery": 50"#, "$.protocols.p.earlyStopping.evaluateEvery", "exceeds maxEpochs 20"),
        (#""maxEpochs": 20"#, #""maxEpochs": 20, "minEpochs": 3"#, "$.protocols.p.earlyStopping.minEpochs", "unknown key"),
        (#""modelSeeds": [1, 2]"#, #""modelSeeds": []"#, "$.protocols.p.finalRuns.modelSeeds", "empty list"),
        (#""modelSeeds": [1, 2]"#, #""modelSeeds": [1, 1]"#, "$.protocols.p.finalRuns.modelSeeds[1]", "listed twice"),
        (#""splitSeeds": [9]"#, #""splitSeeds": [9.0]"#, "$.protocols.p.finalRuns.splitSeeds[0]", "must be an integer"),
        (#""common": {"lr": [0.1, 0.01], "l2": [0, 0.001]}, "#, "", "$.protocols.p.grids", "missing key \"common\""),
        (#""uniform": {}"#, #""uniform": {}, "bpr": {}"#, "$.protocols.p.grids.bpr", "row \"bpr\" is not a sampler's name, so it must declare its base sampler"),
        (#""uniform": {}"#, #""uniform": {"pool": [4]}"#, "$.protocols.p.grids.uniform.pool", "allowed here: none"),
        (#""dns": {"pool": [4]}"#, #""dns": {"pool": []}"#, "$.protocols.p.grids.dns.pool", "empty list"),
        (#""dns": {"pool": [4]}"#, #""dns": {"pool": [4, 0]}"#, "$.protocols.p.grids.dns.pool[1]", "0 is out of range"),
        (#""dns": {"pool": [4]}"#, #""dns": {"pool": [16.5]}"#, "$.protocols.p.grids.dns.pool[0]", "must be an integer"),
        (#""dns": {"pool": [4]}"#, #""dns": {"pool": 4}"#, "$.protocols.p.grids.dns.pool", "must be a list"),
        (#""dns": {"pool": [4]}"#, #""dns": {"lr": [0.5]}"#, "$.protocols.p.grids.dns.lr", "in the common grid already"),
        (#""lr": [0.1, 0.01]"#, #""lr": [0.1, 0]"#, "$.protocols.p.grids.common.lr[1]", "0.0 is out of range: must be > 0"),
        (#""lr": [0.1, 0.01]"#, #""lr": [1e999]"#, "$.protocols.p.grids.common.lr[0]", "inf is not finite"),
        (#""lr": [0.1, 0.01]"#, #""lr": [null]"#, "$.protocols.p.grids.common.lr[0]", "must be a number, found null"),
        (#""lr": [0.1, 0.01]"#, #""lr": [true]"#, "$.protocols.p.grids.common.lr[0]", "must be a number, found true"),
        (#""lr": [0.1, 0.01]"#, #""lr": [0.1, 0.1]"#, "$.protocols.p.grids.common.lr[1]", "listed twice"),
        (#""lr": [0.1, 0.01]"#, #""learningRate": [0.1]"#, "$.protocols.p.grids.common.learningRate", "allowed here: lr, l2"),
        (#""l2": [0, 0.001]"#, #""l2": [-1e-4]"#, "$.protocols.p.grids.common.l2[0]", "must be ≥ 0"),
        (#""rho": [0.5]"#, #""rho": [1]"#, "$.protocols.p.grids.adar.rho[0]", "must be in (0, 1)"),
        (#""weight": [1]"#, #""weight": [0]"#, "$.protocols.p.grids.adar.weight[0]", "must be > 0"),
        (#""fallback": ["skip"]"#, #""fallback": ["sometimes"]"#, "$.protocols.p.grids.adar.fallback[0]", "not one of \"skip\", \"hardest\""),
        (#""gradientFlow": ["detach"]"#, #""gradientFlow": [1]"#, "$.protocols.p.grids.adar.gradientFlow[0]", "must be a string"),
        (#""beta": [0.1]"#, #""beta": [-0.1]"#, "$.protocols.p.grids.ahns.beta[0]", "must be > 0"),
        (#""positiveMixingMax": [1]"#, #""positiveMixingMax": [1.5]"#, "$.protocols.p.grids.mixgcf.positiveMixingMax[0]", "in (0, 1]"),
        (#""dimension": 8"#, #""dimension": 0"#, "$.protocols.p.fixed.dimension", "0 is out of range: must be ≥ 1"),
        (#""policy": "max""#, #""policy": "min""#, "$.protocols.p.fixed.policy", "not one of \"max\", \"mean\", \"first\""),
        (#""schedule": "cosine", "scheduleSteps": 100"#, #""schedule": "cosine""#, "$.protocols.p.fixed", "missing key \"scheduleSteps\""),
        (#""layers": 2, "#, #""layers": 2, "epochs": 5, "#, "$.protocols.p.fixed.epochs", "unknown key \"epochs\""),
        (#""initialScale": 0.1"#, #""initialScale": [0.1]"#, "$.protocols.p.fixed.initialScale", "must be a number"),
        (#""fixed": {"#, #""fixed": {"lr": 0.1, "#, "$.protocols.p.fixed.lr", "unknown key \"lr\""),
        (#""version": 1, "#, #""version": 1, "version": 1, "#, "$", "duplicate key \"version\""),
        (#"}}}}"#, #"}}}"#, "$", "not valid JSON"),
    ]

    @Test("Invalid grid files are refused with the JSON path and the reason", arguments: invalidCases.indices)
    func refusesInvalidFiles(_ index: Int) {
        let (find, replacement, path, reason) = Self.invalidCases[index]
        let document = Self.minimalDocument
        #expect(document.components(separatedBy: find).count == 2, "case \(index): \(find) must occur once")
        let broken = document.replacingOccurrences(of: find, with: replacement)
        let error = #expect(throws: GridFileError.self) { try GridFile.parse(broken, source: "grids.json") }
        #expect(error?.source == "grids.json", "case \(index)")
        #expect(error?.path == path, "case \(index): \(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "case \(index): \(String(describing: error))")
    }

    @Test("A missing file is refused with its path")
    func refusesMissingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/grids.json")
        let error = #expect(throws: GridFileError.self) { try GridFile.load(contentsOf: url) }
        #expect(error?.description.hasPrefix("/nonexistent/grids.json: $: cannot read the file") == true)
    }

    // MARK: Selecting the configuration on validation

    static func plan() throws -> TuningPlan {
        let p = try GridFile.parse(Self.minimalDocument, source: "t").evaluationProtocol(named: "p")
        return p.tuningPlan(for: try row("uniform", of: p))
    }

    @Test("The highest best-validation configuration is chosen; ties go to the first in grid order")
    func selectsTheBest() throws {
        let plan = try Self.plan()
        let c = plan.configurations
        #expect(c.count == 2)  // budget 2 of the 4 common points
        let best = try plan.selectBest([c[0]: .finished(bestValidation: 0.30), c[1]: .finished(bestValidation: 0.31)])
        #expect(best.configuration == c[1] && best.bestValidation == 0.31 && best.planIndex == 1)
        // A tie: the first in grid order, whatever the dictionary's order.
        let tie = try plan.selectBest([c[1]: .finished(bestValidation: 0.3), c[0]: .finished(bestValidation: 0.3)])
        #expect(tie.planIndex == 0)
        // A failed run is never chosen.
        let withFailure = try plan.selectBest([c[0]: .failed(reason: "diverged"), c[1]: .finished(bestValidation: 0.01)])
        #expect(withFailure.planIndex == 1)
    }

    @Test("Selection refuses missing, stray and non-finite results, and a row whose every run failed")
    func selectionRefusals() throws {
        let plan = try Self.plan()
        let c = plan.configurations
        #expect(throws: SelectionError.missingResult(row: "uniform", configuration: c[1].canonicalText)) {
            try plan.selectBest([c[0]: .finished(bestValidation: 0.3)])
        }
        let stray = try RunConfiguration(["lr": 9, "l2": 0])
        #expect(throws: SelectionError.notInPlan(row: "uniform", configuration: "{\"l2\":0,\"lr\":9}")) {
            try plan.selectBest([c[0]: .finished(bestValidation: 0.3), c[1]: .finished(bestValidation: 0.3), stray: .finished(bestValidation: 0.9)])
        }
        let nan = #expect(throws: SelectionError.self) {
            try plan.selectBest([c[0]: .finished(bestValidation: .nan), c[1]: .finished(bestValidation: 0.3)])
        }
        #expect(nan?.description.contains("record a diverged run as failed") == true)
        #expect(throws: SelectionError.everyRunFailed(row: "uniform", failures: [
            "\(c[0].canonicalText): diverged", "\(c[1].canonicalText): out of memory"])) {
            try plan.selectBest([c[0]: .failed(reason: "diverged"), c[1]: .failed(reason: "out of memory")])
        }
    }
}
