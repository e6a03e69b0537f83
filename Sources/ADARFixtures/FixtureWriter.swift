import Foundation
import ADARProtocol

/// Writes the fixtures and their schemas: `DIR/*.json` and `DIR/schema/*.schema.json`.
public enum FixtureWriter {
    /// Every file `generate` writes, as `(relative path, text)`.
    public static func allFiles() -> [(path: String, text: String)] {
        let fixtures = FixtureGenerator.generateAll()
        return fixtures.map { ($0.name, $0.text) } + FixtureSchema.files(for: fixtures).map { ("schema/" + $0.name, $0.text) }
    }

    public static func write(to directory: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("schema"), withIntermediateDirectories: true)
        var written = [String]()
        for (path, text) in allFiles() {
            try Data(text.utf8).write(to: directory.appendingPathComponent(path))
            written.append(path)
        }
        return written
    }
}
