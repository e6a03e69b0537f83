import Foundation
import ADARFixtures
import ADARProtocol

/// The fixtures folder the `adar fixtures` and `adar conform` commands read or write.
/// Without an explicit path it is the `fixtures/` of the swift-adar checkout holding the
/// current directory or, failing that, the `adar` executable (`Checkout`) — so the commands
/// work from any directory of a checkout and from `.build/…/adar` run elsewhere.
enum FixturesDirectory {
    /// The checkout's `fixtures/`, or nil with the folders searched from.
    static func checkoutFixtures() -> (url: URL?, searched: [String]) {
        let (found, searched) = Checkout.find("fixtures")
        guard let found, isDirectory(found) else { return (nil, searched.isEmpty ? [found?.path ?? ""] : searched) }
        return (found, [])
    }

    static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }

    /// An existing fixtures folder to read: `path`, or the checkout's fixtures/ when nil.
    /// `option` is how the user names the folder (`--fixtures DIR`), for the message.
    static func input(_ path: String?, option: String) throws -> URL {
        let hint = "give the folder holding the fixture files (a checkout's fixtures/) as \(option)"
        guard let path else {
            let (found, searched) = checkoutFixtures()
            guard let found else {
                throw CLIError(.noInput, "no fixtures folder found: looked for a swift-adar checkout (a folder with Package.swift and fixtures/) "
                    + "in \(searched.joined(separator: " and in ")) and their parents; \(hint)")
            }
            return found
        }
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError(.noInput, "\(path): no such folder; \(hint)")
        }
        guard isDirectory(url) else {
            throw CLIError(.noInput, "\(path): is a file, not a folder; \(hint)")
        }
        return url
    }

    /// The folder `adar fixtures generate` writes: `path`, or the checkout's fixtures/ when nil.
    static func output(_ path: String?) throws -> URL {
        guard let path else {
            let (found, searched) = checkoutFixtures()
            guard let found else {
                throw CLIError(.usage, "no swift-adar checkout found (a folder with Package.swift and fixtures/) in "
                    + "\(searched.joined(separator: " or ")) or their parents; pass --output DIR")
            }
            return found
        }
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.path), !isDirectory(url) {
            throw CLIError(.cannotCreate, "\(path): is a file, not a folder; pass --output with a folder (it is created when missing)")
        }
        return url
    }

    /// Every fixture file in `directory`, refused (exit 65, each finding on stderr) when any fails
    /// `adar fixtures lint`: a fixture with an infinite expected value or an absurd tolerance would pass any answer.
    static func loadLinted(_ directory: URL) throws -> [FixtureFile] {
        let names = try FixtureFile.names(in: directory)
        guard !names.isEmpty else { throw CLIError(.noInput, "\(directory.path): no fixture files (*.json) in this folder") }
        var files = [FixtureFile](), findings = [LintIssue]()
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let issues = FixtureLinter.lint(text: text, file: name)
            findings += issues
            guard issues.isEmpty else { continue }
            do { files.append(try FixtureFile(name: name, text: text)) } catch { throw CLIError(.dataError, error.description) }
        }
        guard findings.isEmpty else {
            for finding in findings { FileHandle.standardError.write(Data("\(finding)\n".utf8)) }
            throw CLIError(.dataError, "\(findings.count) lint finding(s) in \(directory.path) (above): "
                + "refusing to check a port against fixtures that fail `adar fixtures lint`")
        }
        return files
    }
}
