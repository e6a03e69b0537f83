import Foundation
import Testing
import ADARVerification

/// Every claim ID in Proofs/ is backed by a registered numerical check and
/// named by at least one test; every registered check belongs to a claim.
@Suite("Proofs coverage")
struct ProofsCoverageTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(in folder: String, extension ext: String) throws -> [URL] {
        let dir = root.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == ext }
            .sorted { $0.path < $1.path }
    }

    /// IDs are the headings `### S4.d/T1 — …` of Proofs/*.md.
    static func proofIDs() throws -> [String] {
        let pattern = try NSRegularExpression(pattern: #"^### (S[0-9](?:\.[a-z])?/[A-Z][A-Za-z]*[0-9]+) "#, options: .anchorsMatchLines)
        return try files(in: "Proofs", extension: "md").flatMap { url -> [String] in
            let text = try String(contentsOf: url, encoding: .utf8)
            return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                String(text[Range($0.range(at: 1), in: text)!])
            }
        }
    }

    static func testSources() throws -> String {
        let folder = root.appendingPathComponent("Tests/ADARTests")
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)!
        var text = ""
        for case let url as URL in enumerator
        where url.pathExtension == "swift" && url.lastPathComponent != "ProofsCoverageTests.swift" {
            text += try String(contentsOf: url, encoding: .utf8)
        }
        return text
    }

    @Test("every Proofs/ claim ID is named by a test")
    func everyProofIDHasATest() throws {
        let ids = try Self.proofIDs()
        #expect(!ids.isEmpty)
        let tests = try Self.testSources()
        for id in ids {
            #expect(tests.contains("\"\(id)"), "Proofs/ claim \(id) is referenced by no test")
        }
    }

    @Test("every Proofs/ claim ID has a registered numerical check, and back")
    func proofsAndClaimsAgree() throws {
        let ids = Set(try Self.proofIDs())
        let registered = Claims.all.map(\.id)
        #expect(Set(registered).count == registered.count, "duplicate claim IDs: \(registered)")
        #expect(ids.subtracting(registered).sorted() == [], "Proofs/ claims with no check in Claims.all")
        #expect(Set(registered).subtracting(ids).sorted() == [], "checks in Claims.all with no Proofs/ claim")
    }

    @Test("the coverage scan itself finds a missing ID")
    func scanRejectsAnUnreferencedID() throws {
        let tests = try Self.testSources()
        #expect(!tests.contains("\"S9.z/X99"))
    }
}
