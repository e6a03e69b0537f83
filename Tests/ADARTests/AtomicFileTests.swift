import Foundation
import Testing
import ADARCore

/// `AtomicFile`, the one writer behind `adar` outputs, store exports and the data cache.
@Suite("AtomicFile: a file is replaced whole or not at all")
struct AtomicFileTests {
    private func scratchFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    private func entries(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    @Test("replace writes the new bytes over the old file and leaves no temporary file")
    func replaceOverwrites() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("table.csv")
        try Data("old\n".utf8).write(to: file)
        try AtomicFile.replace(file, with: Data("new contents\n".utf8))
        #expect(try String(contentsOf: file, encoding: .utf8) == "new contents\n")
        #expect(try entries(folder) == ["table.csv"])
    }

    @Test("writeNew refuses a path that exists and leaves that file as it was")
    func writeNewRefusesExisting() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("kept")
        try Data("kept\n".utf8).write(to: file)
        #expect { try AtomicFile.writeNew(file, Data("lost\n".utf8)) } throws: { error in
            (error as? AtomicFile.Failure)?.code == EEXIST
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "kept\n")
    }

    @Test("replace into a missing folder fails with the path and reason, and creates nothing")
    func replaceIntoMissingFolder() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("absent/table.csv")
        do {
            try AtomicFile.replace(file, with: Data("x".utf8))
            Issue.record("replace into a missing folder succeeded")
        } catch {
            #expect(error.code == ENOENT)
            // The temporary file beside the destination is what could not be created.
            #expect(error.path.hasPrefix(folder.appendingPathComponent("absent/.table.csv.").path))
            #expect(error.reason == "No such file or directory")
        }
        #expect(try entries(folder).isEmpty)
    }
}
