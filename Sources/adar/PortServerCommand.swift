import Foundation
import ArgumentParser
import ADARConformance

struct PortServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "port-server",
        abstract: "Answer the conformance protocol on stdin/stdout (docs/PORTING.md §3), for `adar conform`.",
        discussion: """
            Reads one JSON request per line on stdin and writes one JSON response per line on stdout, until end of input. `optimised` is the binary32 ADAR module (declares binary32); `reference` is ReferenceADAR (declares binary64).

            Try: adar conform -- .build/debug/adar port-server --implementation optimised
            """
    )

    enum Implementation: String, ExpressibleByArgument, CaseIterable {
        case optimised, reference
    }

    @Option(help: "Which implementation answers: optimised (binary32) or reference (binary64).")
    var implementation: Implementation = .optimised

    func run() {
        let port: any ConformancePort = switch implementation {
        case .optimised: OptimisedPort()
        case .reference: ReferencePort()
        }
        // Unbuffered: each response must reach the runner before the next request comes.
        var lines = FileLineReader(fileDescriptor: STDIN_FILENO)
        port.serve(nextLine: { lines.next() }, writeLine: { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        })
    }
}
