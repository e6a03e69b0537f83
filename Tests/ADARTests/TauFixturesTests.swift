import Foundation
import Testing
import ADARCore
import ADARFixtures
import ADARProtocol
import ADARConformance
import ADARVerification

/// S9's τ in the conformance set: positional_encoding.json, tau_init.json,
/// tau_forward.json, denoise.json and the τ cases of invalid_inputs.json.
@Suite("Fixtures: S9 τ")
struct TauFixturesTests {
    static let tauOperations: Set<FixtureOperation> = [.pe, .tauInit, .tauForward, .denoise, .tauStep]
    static var files: [FixtureFile] { FixtureGenerator.generateAll() }

    static func replacingExpected(
        in fixtures: [FixtureFile], file name: String, group: Int, test: Int, field: String, _ change: (Double) -> Double
    ) -> [FixtureFile] {
        var fixtures = fixtures
        let index = fixtures.firstIndex { $0.name == name }!
        var item = fixtures[index].testGroups[group].tests[test]
        var fields = item.expected.objectFields!
        let k = fields.firstIndex { $0.0 == field }!
        var values = fields[k].1.doubleArray!
        values[0] = change(values[0])
        fields[k].1 = .reals(values)
        item.expected = .object(fields)
        fixtures[index].testGroups[group].tests[test] = item
        return fixtures
    }

    @Test("every τ operation has binary64 and binary32 cases, each file stays under 100 KB")
    func coverageAndSize() throws {
        for name in ["positional_encoding.json", "tau_init.json", "tau_forward.json", "denoise.json"] {
            let file = try #require(Self.files.first { $0.name == name })
            #expect(file.text.utf8.count <= 100_000, "\(name) is \(file.text.utf8.count) bytes")
            #expect(Set(file.testGroups.map(\.precision)) == [.binary64, .binary32])
            #expect(file.testGroups.allSatisfy { !$0.tests.isEmpty })
        }
        let flags = Set(Self.files.flatMap { $0.testGroups.flatMap { $0.tests.flatMap(\.flags) } })
        for flag in ["PEOrder", "PEExponent", "PEBinary64", "CleanTimestep", "XavierInit", "InitCounter", "Concatenation", "RowMajor",
                     "SiLU", "TauBiases", "Reconstruction", "LargeRatio", "TimestepOutOfRange", "InitCounterOverflow"] {
            #expect(flags.contains(flag), "no test flagged \(flag)")
        }
        let invalid = try #require(Self.files.first { $0.name == "invalid_inputs.json" })
        #expect(Set(invalid.cases.map(\.operation)).isSuperset(of: Self.tauOperations))
    }

    @Test("closed forms: PE(0) = (0, 1, 0, 1), x̂_0 = x_0 at t = 0, τ's initial biases are 0")
    func closedForms() throws {
        let cases = Self.files.flatMap(\.cases).filter { $0.precision == .binary64 && $0.result == .valid }
        let pe = try #require(cases.first { $0.operation == .pe && $0.test.input["timestep"]?.intValue == 0 })
        #expect(pe.test.expected["encoding"]?.doubleArray == [0, 1, 0, 1])
        let clean = try #require(cases.first { $0.operation == .denoise && $0.test.input["timestep"]?.intValue == 0 })
        #expect(clean.test.expected["reconstruction"]?.doubleArray == clean.test.input["x0"]?.doubleArray)
        #expect(clean.test.expected["ratio"]?.doubleValue == 0)
        for initial in cases where initial.operation == .tauInit {
            #expect(initial.test.expected["b1"]!.doubleArray!.allSatisfy { $0 == 0 } && initial.test.expected["b2"]!.doubleArray!.allSatisfy { $0 == 0 })
        }
    }

    @Test("both in-process ports refuse every invalid τ case with the fixture's kind and field")
    func invalidCasesRefused() throws {
        let invalid = try #require(Self.files.first { $0.name == "invalid_inputs.json" })
        let ports: [any ConformancePort] = [ReferencePort(), OptimisedPort()]
        var checked = 0
        for test in invalid.cases where Self.tauOperations.contains(test.operation) {
            for port in ports {
                checked += 1
                do {
                    let output = try port.answer(operation: test.operation, input: test.test.input)
                    Issue.record("\(port.name) accepted \(test.id) (\(test.test.comment)): \(output.rendered.prefix(80))")
                } catch {
                    #expect(error.kind == test.test.expected["error"]?["kind"]?.stringValue, "\(port.name) \(test.id): \(error)")
                    #expect(error.field == test.test.expected["error"]?["field"]?.stringValue, "\(port.name) \(test.id): \(error)")
                }
            }
        }
        #expect(checked >= 20)
    }

    @Test("S6/F2 covers τ: a denoise expectation off by 1e-9 relative is rejected by the Float80 cross-check")
    func crossCheckRejectsCorruptedTau() {
        expectRejected(ConformanceToleranceChecks.checkBinary64Expectations(
            fixtures: Self.replacingExpected(in: Self.files, file: "denoise.json", group: 0, test: 0, field: "reconstruction") { $0 * (1 + 1e-9) }))
        expectRejected(ConformanceToleranceChecks.checkBinary64Expectations(
            fixtures: Self.replacingExpected(in: Self.files, file: "tau_init.json", group: 0, test: 1, field: "b1") { $0 + 1e-12 }))
    }

    @Test("S9/K1 the binary32 τ tolerances cover the derived S9/E1, S9/E3 bounds")
    func derivedBounds() throws { try expectClaim("S9/K1") }

    @Test("S9/K1 rejects a tolerance tightened 16-fold")
    func derivedBoundsRejectTighterTolerance() {
        var fixtures = Self.files
        for f in fixtures.indices {
            for g in fixtures[f].testGroups.indices where fixtures[f].testGroups[g].operation == .denoise {
                fixtures[f].testGroups[g].tolerance.relative /= 16
                fixtures[f].testGroups[g].tolerance.absolute /= 16
            }
        }
        expectRejected(TauToleranceChecks.checkDerivedBounds(fixtures: fixtures))
    }

    @Test("S6/F1 rejects a binary32 τ with PE computed in binary32")
    func binary32PERejected() {
        let broken: ConformanceToleranceChecks.Implementation = { operation, input in
            guard operation == .pe else { return try ConformanceToleranceChecks.optimisedModule(operation, input) }
            let t = Float(input["timestep"]!.intValue!), d = input["dimension"]!.intValue!
            let encoding = (0..<d).map { k -> Double in
                let angle = t * Foundation.exp(-Float(k - k % 2) / Float(d) * Foundation.log(Float(10_000)))
                return Double(k % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle))
            }
            return .object([("encoding", .reals(encoding))])
        }
        expectRejected(ConformanceToleranceChecks.checkBinary32Tolerances(implementation: broken))
    }
}

/// Sizes beyond adar's limits get `limitExceeded` before anything is allocated (docs/CLI.md, "Limits").
@Suite("Fixtures: S9 τ limits")
struct TauLimitTests {
    @Test("tauInit at d = 37 837 and pe at t = 100 000, d = 65 536 are refused with limitExceeded, not allocated")
    func oversizedRequestsAreRefused() {
        let ports: [any ConformancePort] = [ReferencePort(), OptimisedPort()]
        for port in ports {
            do {
                _ = try port.answer(operation: .tauInit, input: .object([("seed", .string("1")), ("dimension", .integer(37_837))]))
                Issue.record("\(port.name) initialised τ with 12·37 837² weights")
            } catch {
                #expect(error.kind == "limitExceeded" && error.field == "12·d²", "\(port.name): \(error)")
            }
        }
        do {
            _ = try OptimisedPort().answer(operation: .pe, input: .object([("timestep", .integer(100_000)), ("dimension", .integer(65_536))]))
            Issue.record("the optimised port tabulated PE for 100 001 × 65 536 values")
        } catch {
            #expect(error.kind == "limitExceeded", "\(error)")
        }
    }
}
