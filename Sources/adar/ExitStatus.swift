import Foundation
import ArgumentParser
import ADARCore
import ADARData
import ADARTraining
import ADAREvaluation
import ADARStore
import ADARExperiment

/// The exit statuses of every `adar` command (README "Exit statuses"; the values of BSD's sysexits.h,
/// as argument-parser uses 64 for usage errors).
enum ExitStatus: Int32, CaseIterable {
    /// Everything asked for was done and every check passed.
    case success = 0
    /// The command ran, and what it checked failed (`conform`, `verify`, `fixtures lint`).
    case checkFailed = 1
    /// A bad command line: unknown option, out-of-range or contradictory values.
    case usage = 64
    /// Input data that cannot be used: a malformed file, a non-finite value, a model that diverged.
    case dataError = 65
    /// An input file or folder that does not exist or cannot be read.
    case noInput = 66
    /// A bug in adar itself (please report it).
    case software = 70
    /// An output file that cannot be created.
    case cannotCreate = 73
    /// Reading or writing failed part-way (disk full, network, a subprocess).
    case ioError = 74
    /// Interrupted by SIGINT or SIGTERM.
    case interrupted = 130
}

/// An error that reaches the user as one line, `adar <command>: error: <message>`, and an exit status.
struct CLIError: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }

    /// The message and status of an error a command's `run()` throws; nil for argument-parser's own
    /// (help, `ExitCode`, `CleanExit`), which argument-parser reports itself.
    static func classify(_ error: any Error) -> CLIError? {
        switch error {
        case let error as CLIError: return error
        case let error as ValidationError: return CLIError(.usage, error.message)
        case let error as ADARError: return CLIError(.dataError, error.description)
        case let error as TrainingError: return CLIError(.dataError, error.description)
        case let error as DataError: return CLIError(error.exitStatus, error.description)
        case let error as CocoaError: return CLIError.fileError(error)
        case let error as GridFileError: return CLIError(.dataError, error.description)
        case let error as ConfigurationError: return CLIError(.dataError, error.description)
        case let error as SweepError: return CLIError(.dataError, error.description)
        case let error as SelectionError: return CLIError(.dataError, error.description)
        case let error as RunStoreError: return CLIError(error.exitStatus, error.description)
        default: return nil
        }
    }

    /// A Foundation file error as one line naming the path.
    static func fileError(_ error: CocoaError) -> CLIError {
        let path = error.filePath ?? error.url?.path ?? "(unknown path)"
        switch error.code {
        case .fileReadNoSuchFile, .fileNoSuchFile:
            return CLIError(.noInput, "\(path): no such file or folder")
        case .fileReadNoPermission:
            return CLIError(.noInput, "\(path): not readable (permission denied)")
        case .fileWriteNoPermission, .fileWriteVolumeReadOnly:
            return CLIError(.cannotCreate, "\(path): cannot write here (permission denied or read-only); choose another path")
        case .fileWriteOutOfSpace:
            return CLIError(.ioError, "\(path): the disk is full")
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding:
            return CLIError(.dataError, "\(path): not readable as UTF-8 text")
        default:
            return CLIError(.ioError, "\(path): \(error.localizedDescription)")
        }
    }
}

extension RunStoreError {
    /// A store that cannot be opened, locked or migrated cannot be created (73); a failed read
    /// or write is an I/O error (74); anything else is a misuse of the store by adar itself (70).
    var exitStatus: ExitStatus {
        switch self {
        case .cannotOpen, .inUse, .readOnly, .schemaMismatch: .cannotCreate
        case .database, .exportFailed: .ioError
        default: .software
        }
    }
}

extension DataError {
    var exitStatus: ExitStatus {
        switch self {
        case .toolMissing, .downloadFailed, .extractionFailed, .io: .ioError
        case .hashMismatch, .malformedRow, .corruptCache: .dataError
        case .notCached: .noInput
        case .cacheUnusable: .cannotCreate
        }
    }
}

extension ADARCommand {
    /// Parses, runs, and turns every error into one line and an exit status (`ExitStatus`).
    /// Errors found while parsing (argument-parser's own and `validate()`'s) keep argument-parser's
    /// message with the subcommand's usage; errors from `run()` are semantic, so they print no usage.
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            guard let failure = CLIError.classify(error) else { exit(withError: error) }
            let name = commandPath(to: type(of: command)) ?? "adar"
            FileHandle.standardError.write(Data("\(name): error: \(failure.message)\n".utf8))
            Foundation.exit(failure.status.rawValue)
        }
    }

    /// How `command` is typed, e.g. `adar data fetch`: its path in the tree of subcommands below `root`.
    static func commandPath(to command: any ParsableCommand.Type, from root: any ParsableCommand.Type = ADARCommand.self) -> String? {
        if ObjectIdentifier(command) == ObjectIdentifier(root) { return root._commandName }
        for subcommand in root.configuration.subcommands {
            if let path = commandPath(to: command, from: subcommand) { return "\(root._commandName) \(path)" }
        }
        return nil
    }
}
