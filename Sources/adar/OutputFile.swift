import Foundation

/// A file a command writes as its result, checked before the work starts and
/// replaced atomically (docs/CLI.md, "Training").
///
/// `OutputFile(checking:option:)` refuses a path that is a folder, creates the
/// missing folders, and creates and removes a probe file there, so that a
/// long run never ends on an unwritable path. `OutputFile.write` puts each
/// file's bytes in a temporary file in the destination's folder, flushes it to
/// disk and renames it over the destination, so a reader sees the old file or
/// the new one, never part of one; a failed write removes its temporary files.
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
        let probe = Self.scratchURL(beside: url, suffix: "probe")
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
            let temporary = scratchURL(beside: file.url, suffix: "tmp")
            try writeNew(temporary, contents, destination: file.path)
            temporaries.append(temporary)
        }
        if files.count > 1 {
            // A copy of each existing destination, so that a failed set can be put back.
            for (file, _) in files {
                guard FileManager.default.fileExists(atPath: file.path) else { backups.append(nil); continue }
                let backup = scratchURL(beside: file.url, suffix: "old")
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

    /// Creates `contents` at the new path `url`, flushed to disk.
    private static func writeNew(_ url: URL, _ contents: Data, destination: String) throws(CLIError) {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard descriptor >= 0 else { throw failure(errno, "\(destination): cannot write") }
        var code: Int32 = 0
        contents.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    code = errno
                    return
                }
                offset += written
            }
            if fsync(descriptor) != 0 { code = errno }
        }
        if close(descriptor) != 0 && code == 0 { code = errno }
        guard code == 0 else {
            unlink(url.path)
            throw failure(code, "\(destination): cannot write; the previous file is unchanged")
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

    /// A hidden name in `url`'s folder, unique to this process and call.
    private static func scratchURL(beside url: URL, suffix: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid())-\(UInt32.random(in: 0 ... .max)).\(suffix)")
    }

    /// A failed system call as one line: 74 when the disk or device failed, 73 otherwise.
    private static func failure(_ code: Int32, _ message: String) -> CLIError {
        let status: ExitStatus = [ENOSPC, EDQUOT, EIO].contains(code) ? .ioError : .cannotCreate
        return CLIError(status, "\(message) (\(String(cString: strerror(code))))")
    }
}
