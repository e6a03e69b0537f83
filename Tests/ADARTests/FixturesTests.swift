import Foundation
import Testing
import ADARCore
import ADARFixtures
import ADARProtocol
import ADARVerification

/// fixtures/: reproducible, well formed, and every expected value checked independently.
@Suite("Fixtures")
struct FixturesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let committed = root.appendingPathComponent("fixtures")

    @Test("regenerating the fixtures gives byte-identical files")
    func regenerationIsByteIdentical() throws {
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("adar-fixtures-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let written = try FixtureWriter.write(to: temporary)
        for path in written {
            let fresh = try Data(contentsOf: temporary.appendingPathComponent(path))
            let stored = try Data(contentsOf: Self.committed.appendingPathComponent(path))
            #expect(fresh == stored, "fixtures/\(path) differs from `adar fixtures generate`; regenerate and commit")
        }
        let storedNames = try FileManager.default.contentsOfDirectory(atPath: Self.committed.path).filter { $0.hasSuffix(".json") }
        let schemaNames = try FileManager.default.contentsOfDirectory(atPath: Self.committed.appendingPathComponent("schema").path)
        #expect(Set(storedNames + schemaNames.map { "schema/" + $0 }) == Set(written), "stale or missing files in fixtures/")
    }

    @Test("the committed fixtures lint clean and stay small")
    func committedFixturesLint() throws {
        let issues = try FixtureLinter.lint(directory: Self.committed)
        #expect(issues.isEmpty, "\(issues)")
        let total = FixtureWriter.allFiles().reduce(0) { $0 + $1.text.utf8.count }
        #expect(total < 2_000_000, "fixtures total \(total) bytes")
    }

    @Test("the committed fixtures are the complete set adar generates (FixtureManifest), and an emptied group is a gap")
    func committedSetIsComplete() throws {
        let files = try FixtureFile.load(directory: Self.committed)
        #expect(FixtureManifest.gaps(in: files).isEmpty, "fixtures/ differs from `adar fixtures generate`; regenerate and commit")
        var emptied = files
        let index = try #require(emptied.firstIndex { $0.name == "loss.json" })
        emptied[index].testGroups[1].tests.removeAll()
        let gaps = FixtureManifest.gaps(in: emptied)
        #expect(gaps.map(\.description) == ["loss.json: 20 of 20 binary32 loss cases absent (tcIds 21–40)"])
        #expect(FixtureManifest.uncheckedOperations(gaps, precision: .binary32) == [])
        #expect(FixtureManifest.uncheckedOperations(FixtureManifest.gaps(in: files.filter { $0.name != "noise.json" }), precision: .binary64)
            == [.philox, .normals])
    }

    @Test("every file parses back to the value it was rendered from (shortest round-trip numbers)")
    func renderingRoundTrips() throws {
        for file in FixtureGenerator.generateAll() {
            #expect(try JSONValue.parse(file.text) == file.json, "\(file.name)")
        }
        #expect(JSONValue.number(0.1).rendered == "0.1")
        #expect(JSONValue.number(1e-5).rendered == "1e-05")
        #expect(JSONValue.number(.nan).rendered == "null")
    }

    @Test("coverage: every status, every schedule kind, the traps, and both precisions per operation")
    func coverage() {
        let files = FixtureGenerator.generateAll()
        let tests = files.flatMap { $0.testGroups.flatMap(\.tests) }
        let flags = Set(tests.flatMap(\.flags))
        for flag in ["OneBasedTimesteps", "LinearNotRescaled", "DdpmLinearRescaled", "CosineClipped", "Float32Accumulation",
                     "Cancellation", "Boundary", "RetentionNearZero", "RetentionNearOne", "NoiseScale", "OddDimension", "ZeroNoise",
                     "SoftplusOverflow", "OtherRoot", "FallbackSkip", "FallbackHardest", "GradientDetach", "GradientThrough",
                     "PolicyMax", "PolicyMean", "PolicyFirst", "Precedence", "NoCrossing", "KnownAnswer"] {
            #expect(flags.contains(flag), "no test flagged \(flag)")
        }
        let statuses = Set(tests.compactMap { $0.expected["status"]?.stringValue })
        #expect(statuses == Set(RowStatus.allCases.map(\.rawValue)))
        let kinds = Set(tests.compactMap { $0.input["schedule"]?["kind"]?.stringValue })
        #expect(kinds == ["linear", "ddpm-linear", "scaled-linear", "cosine", "linear-variance", "custom"])
        for file in files {
            for operation in Set(file.testGroups.map(\.operation)) {
                #expect(Set(file.testGroups.filter { $0.operation == operation }.map(\.precision)) == [.binary64, .binary32])
            }
        }
        #expect(tests.contains { $0.result == .acceptable } && tests.contains { $0.result == .invalid })
    }

    @Test("binary32 groups carry the binary64 inputs, all binary32 values")
    func binary32InputsMatch() {
        func reals(_ value: JSONValue) -> [Double] {
            switch value {
            case let .number(x): [x]
            case let .array(items): items.flatMap(reals)
            case let .object(fields): fields.filter { $0.0 != "schedule" && $0.0 != "rho" }.flatMap { reals($0.1) }
            default: []
            }
        }
        for file in FixtureGenerator.generateAll() where file.topic != "invalid" {
            let b64 = file.testGroups.filter { $0.precision == .binary64 }.flatMap(\.tests)
            let b32 = file.testGroups.filter { $0.precision == .binary32 }.flatMap(\.tests)
            #expect(b64.map(\.input) == b32.map(\.input), "\(file.name)")
            for test in b32 where file.topic != "noise" {
                #expect(reals(test.input).allSatisfy { Double(Float($0)) == $0 }, "\(file.name) tcId \(test.tcId)")
            }
        }
    }

    // MARK: - Independent cross-checks beyond S6/F2

    @Test("closed forms: ρ = ½ rows have a* = s⁻/s_0; spec Philox known answers; invalid cases name their error")
    func closedForms() throws {
        let files = FixtureGenerator.generateAll()
        let transition = files.first { $0.name == "transition.json" }!
        for test in transition.testGroups[0].tests where test.flags.contains("HalfRetention") && test.expected["status"]?.stringValue == "transition" {
            let expected = test.expected["aStar"]!.doubleValue!
            #expect(expected == test.input["sNeg"]!.doubleValue! / test.input["s0"]!.doubleValue!, "tcId \(test.tcId)")
        }
        let noise = files.first { $0.name == "noise.json" }!
        let known: [[Int]] = [[0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8], [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD],
                              [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1]]
        let answers = noise.testGroups[0].tests.filter { $0.flags.contains("KnownAnswer") }.map { $0.expected["words"]!.arrayValue!.map { $0.intValue! } }
        #expect(answers == known)
        let invalid = files.first { $0.name == "invalid_inputs.json" }!
        for group in invalid.testGroups {
            for test in group.tests {
                #expect(throws: EvaluationError.self) { try ReferenceEvaluator.evaluate(group.operation!, input: test.input) }
            }
        }
    }

    // MARK: - Lint rejects broken files

    static func brokenCopy(_ edit: (inout [String: Any]) -> Void) throws -> String {
        let text = FixtureGenerator.generateAll().first { $0.name == "transition.json" }!.text
        var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        edit(&object)
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    static func editFirstTest(_ object: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var groups = object["testGroups"] as! [[String: Any]]
        var tests = groups[0]["tests"] as! [[String: Any]]
        edit(&tests[0])
        groups[0]["tests"] = tests
        object["testGroups"] = groups
    }

    static func expectLintRejects(_ text: String, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let issues = FixtureLinter.lint(text: text, file: "broken.json")
        #expect(issues.contains { $0.description.contains(fragment) }, "lint missed '\(fragment)': \(issues)", sourceLocation: sourceLocation)
    }

    @Test("lint rejects a duplicate tcId, a wrong numberOfTests, a flag without a note, bad result and precision")
    func lintRejectsBrokenFiles() throws {
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) { $0["tcId"] = 2 } }, mentioning: "duplicate tcId")
        Self.expectLintRejects(try Self.brokenCopy { $0["numberOfTests"] = 3 }, mentioning: "numberOfTests")
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) { $0["flags"] = ["NoSuchFlag"] } }, mentioning: "flag NoSuchFlag has no entry")
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) { $0["result"] = "maybe" } }, mentioning: "result")
        Self.expectLintRejects(try Self.brokenCopy {
            var groups = $0["testGroups"] as! [[String: Any]]
            groups[0]["precision"] = "binary16"
            $0["testGroups"] = groups
        }, mentioning: "precision")
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) { $0["result"] = "acceptable" } }, mentioning: "alternative")
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) {
            var expected = $0["expected"] as! [String: Any]
            expected.removeValue(forKey: "aStar")
            $0["expected"] = expected
        } }, mentioning: "expected.aStar")
        Self.expectLintRejects(try Self.brokenCopy { Self.editFirstTest(&$0) { $0["result"] = "invalid" } }, mentioning: "expected.error.kind")
        Self.expectLintRejects(try Self.brokenCopy { $0["schema"] = "other" }, mentioning: "schema")
        Self.expectLintRejects("{\"schema\": ", mentioning: "not JSON")
        Self.expectLintRejects("{\"a\": 1, \"a\": 2}", mentioning: "duplicate key")
    }

    @Test("the JSON Schemas accept every fixture and reject a broken one (python jsonschema)")
    func jsonSchemasValidate() throws {
        let script = """
            import json, sys, pathlib
            try:
                import jsonschema
            except ImportError:
                print("SKIP: python jsonschema is not installed"); sys.exit(0)
            root = pathlib.Path(sys.argv[1]); bad = 0
            for f in sorted(root.glob("*.json")):
                schema = json.loads((root / "schema" / f.name.replace(".json", ".schema.json")).read_text())
                jsonschema.Draft202012Validator.check_schema(schema)
                doc = json.loads(f.read_text())
                errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
                if errors: print(f.name, errors[0].message); bad += 1
                doc["testGroups"][0]["tests"][0]["result"] = "maybe"
                if not list(jsonschema.Draft202012Validator(schema).iter_errors(doc)): print(f.name, "broken copy accepted"); bad += 1
            print("OK" if bad == 0 else "FAIL")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Self.committed.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch {
            print("skipping JSON Schema validation: python3 not found")
            return
        }
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if output.hasPrefix("SKIP") { print(output); return }
        #expect(output.hasSuffix("OK\n"), "\(output)")
    }
}

/// Proofs/conformance-tolerances.md.
@Suite("Conformance tolerances")
struct ConformanceToleranceTests {
    @Test("S6/F1 the optimised binary32 module within the binary32 tolerances")
    func binary32() throws { try expectClaim("S6/F1") }

    @Test("S6/F1 rejects ᾱ accumulated in binary32")
    func binary32RejectsFloatAccumulation() {
        let broken: ConformanceToleranceChecks.Implementation = { operation, input in
            let answer = try ConformanceToleranceChecks.optimisedModule(operation, input)
            guard operation == .schedule, let betas = answer["beta"]?.doubleArray, let steps = input["timesteps"]?.arrayValue else { return answer }
            // Accumulate ᾱ in binary32 over the whole table (the trap), then read the requested steps.
            let table = try OperationInput(input).schedule()
            var product: [Float] = [1]
            for t in 1...table.steps { product.append(product[t - 1] * (1 - Float(table.beta[t]))) }
            _ = betas
            return .object([("beta", answer["beta"]!), ("alphaBar", .reals(steps.map { Double(product[$0.intValue!]) })),
                            ("sqrtAlphaBar", answer["sqrtAlphaBar"]!), ("sqrtOneMinusAlphaBar", answer["sqrtOneMinusAlphaBar"]!)])
        }
        expectRejected(ConformanceToleranceChecks.checkBinary32Tolerances(implementation: broken))
    }

    @Test("S6/F1 rejects a transition one step late")
    func binary32RejectsShiftedStep() {
        let broken: ConformanceToleranceChecks.Implementation = { operation, input in
            let answer = try ConformanceToleranceChecks.optimisedModule(operation, input)
            guard operation == .transition, var fields = answer.objectFields, let t = answer["timestep"]?.intValue, t > 0 else { return answer }
            fields[1].1 = .integer(t + 1)
            return .object(fields)
        }
        expectRejected(ConformanceToleranceChecks.checkBinary32Tolerances(implementation: broken))
    }

    @Test("S6/F2 binary64 expected values agree with Float80, GSL and brute force")
    func binary64() throws { try expectClaim("S6/F2") }

    @Test("S6/F2 rejects a fixture whose a* is off by 1e-9 relative")
    func binary64RejectsCorruptedExpectation() {
        var fixtures = FixtureGenerator.generateAll()
        let index = fixtures.firstIndex { $0.name == "transition.json" }!
        var test = fixtures[index].testGroups[0].tests[0]
        guard var fields = test.expected.objectFields, let aStar = test.expected["aStar"]?.doubleValue else {
            Issue.record("first transition test has no a*")
            return
        }
        fields[2].1 = .number(aStar * (1 + 1e-9))
        test.expected = .object(fields)
        fixtures[index].testGroups[0].tests[0] = test
        expectRejected(ConformanceToleranceChecks.checkBinary64Expectations(fixtures: fixtures))
    }
}
