import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way files are replaced (the `adar` commands' outputs, the run
/// store's exports, the data cache): the bytes go to a hidden temporary file
/// in the destination's folder, flushed to disk, which is then renamed over
/// the destination, so a reader sees the old file or the new one, never part
/// of one, and nothing is left under the destination's name if writing fails.
public enum AtomicFile {
    /// A failed system call: the path it concerned and `errno`.
    public struct Failure: Error, Sendable {
        public let path: String
        public let code: Int32
        /// `strerror(code)`.
        public var reason: String { String(cString: strerror(code)) }
    }

    /// Writes `contents` over `url` atomically; the folder must exist.
    public static func replace(_ url: URL, with contents: Data) throws(Failure) {
        let temporary = scratchURL(beside: url, suffix: "tmp")
        try writeNew(temporary, contents)
        guard rename(temporary.path, url.path) == 0 else {
            let code = errno
            unlink(temporary.path)
            throw Failure(path: url.path, code: code)
        }
    }

    /// Creates `contents` at the new path `url` (refusing one that exists),
    /// flushed to disk; removes the partial file on failure.
    public static func writeNew(_ url: URL, _ contents: Data) throws(Failure) {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o666)
        guard descriptor >= 0 else { throw Failure(path: url.path, code: errno) }
        var code: Int32 = 0
        contents.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
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
            throw Failure(path: url.path, code: code)
        }
    }

    /// A hidden name in `url`'s folder, unique to this process and call.
    public static func scratchURL(beside url: URL, suffix: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid())-\(UInt32.random(in: 0 ... .max)).\(suffix)")
    }
}
