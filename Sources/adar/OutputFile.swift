import Foundation
import ADARCore

/// A file a command writes as its result, checked before the work starts and
/// replaced atomically (docs/CLI.md, "Training").
///
/// `OutputFile(checking:option:)` refuses a path that is a folder, creates the
/// missing folders, and creates and removes a probe file there, so that a
/// long run never ends on an unwritable path. `OutputFile.write` puts each
/// file's bytes in a temporary file (`AtomicFile`) and renames it over the
/// destination, so a reader sees the old file or the new one, never part of
/// one; a failed write removes its temporary files.
struct OutputFile {
    let url: URL
    var path: String { url.path }

    init(checking path: String, option: String) throws(CLIError) {
        guard !path.isEmpty else { throw CLIError(.usage, "\(option) is empty; give a file path") }
        url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw CLIError(.cannotCreate, "\(option) \(path): is a folder, not a file; give a file path inside it")
        }
        let folder = url.deletingLastPathComponent()
        try Self.makeFolder(folder, option: option)
        let probe = AtomicFile.scratchURL(beside: url, suffix: "probe")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard descriptor >= 0 else {
            throw Self.failure(errno, "\(folder.path): cannot create files in this folder")
        }
        close(descriptor)
        unlink(probe.path)
    }

    /// Writes every file or none. The temporary files are written first; then
    /// each is renamed into place, and if a rename fails, the files already
    /// replaced get their previous contents back (or are removed if they did
    /// not exist), so a set such as `demo.json` + `demo.svg` never mixes two runs.
    static func write(_ files: [(file: OutputFile, contents: Data)]) throws(CLIError) {
        var temporaries: [URL] = [], backups: [URL?] = []
        defer {
            for url in temporaries + backups.compactMap({ $0 }) { unlink(url.path) }
        }
        for (file, contents) in files {
            let temporary = AtomicFile.scratchURL(beside: file.url, suffix: "tmp")
            do {
                try AtomicFile.writeNew(temporary, contents)
            } catch {
                throw failure(error.code, "\(file.path): cannot write; the previous file is unchanged")
            }
            temporaries.append(temporary)
        }
        if files.count > 1 {
            // A copy of each existing destination, so that a failed set can be put back.
            for (file, _) in files {
                guard FileManager.default.fileExists(atPath: file.path) else { backups.append(nil); continue }
                let backup = AtomicFile.scratchURL(beside: file.url, suffix: "old")
                do {
                    try FileManager.default.copyItem(at: file.url, to: backup)
                } catch {
                    throw CLIError(.cannotCreate, "\(file.path): cannot keep a copy of the previous version; nothing was changed (\(error.localizedDescription))")
                }
                backups.append(backup)
            }
        }
        for (index, (file, _)) in files.enumerated() {
            guard rename(temporaries[index].path, file.path) != 0 else { continue }
            let code = errno
            for restored in 0..<index {
                if let backup = backups[restored] {
                    rename(backup.path, files[restored].file.path)
                } else {
                    unlink(files[restored].file.path)
                }
            }
            let others = files.count > 1 ? "; none of \(files.map(\.file.url.lastPathComponent).joined(separator: ", ")) was changed" : ""
            throw failure(code, "\(file.path): cannot replace this file\(others)")
        }
    }

    /// Creates `folder` and its missing parents.
    private static func makeFolder(_ folder: URL, option: String) throws(CLIError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw CLIError(.cannotCreate, "\(option): \(folder.path) is a file, not a folder; choose another path")
            }
            return
        }
        let parent = folder.deletingLastPathComponent()
        if parent.path != folder.path { try makeFolder(parent, option: option) }
        guard mkdir(folder.path, 0o777) == 0 || errno == EEXIST else {
            throw failure(errno, "\(folder.path): cannot create this folder")
        }
    }

    /// A failed system call as one line: 74 when the disk or device failed, 73 otherwise.
    private static func failure(_ code: Int32, _ message: String) -> CLIError {
        let status: ExitStatus = [ENOSPC, EDQUOT, EIO].contains(code) ? .ioError : .cannotCreate
        return CLIError(status, "\(message) (\(String(cString: strerror(code))))")
    }
}
