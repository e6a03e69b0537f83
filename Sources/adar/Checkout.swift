import Foundation

/// The swift-adar checkout a command's default files come from (`fixtures/`,
/// `protocol/grids.json`), so that `adar` works from any directory: the
/// nearest folder holding `Package.swift` and the item, searched upwards from
/// the current directory and then from the executable's own folder.
enum Checkout {
    static func find(_ item: String) -> (url: URL?, searched: [String]) {
        let manager = FileManager.default
        // Bundle.main knows the executable's own path even when it was found through PATH.
        let executable = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent()
        let starts = [URL(fileURLWithPath: manager.currentDirectoryPath), executable].map { $0.standardizedFileURL }
        for start in starts {
            var folder = start
            while true {
                let candidate = folder.appendingPathComponent(item)
                if manager.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
                   manager.fileExists(atPath: candidate.path) {
                    return (candidate, [])
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        return (nil, starts.map(\.path))
    }
}
