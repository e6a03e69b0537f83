import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer's exclusive lock on a store: an advisory `flock` on `<store>.lock`,
/// held while the `RunStore` lives and released by the kernel when its process
/// ends, however it ends. Holding it is what lets `begin` treat a `running` run
/// of another writer as abandoned: no other writer can be alive.
final class StoreLock: Sendable {
    let path: String
    private let descriptor: Int32

    init(storePath: String) throws(RunStoreError) {
        path = storePath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .cannotOpen(path: storePath, reason: "cannot create its lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard Self.lock(descriptor) else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            let named = holder.flatMap { $0.isEmpty ? nil : "process \($0)" }
            throw .inUse(path: storePath, lockPath: path, holder: named ?? "another process")
        }
        // The holder's pid, for the message another writer gets.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    /// Takes the lock, waiting up to a second for a holder that is about to let go: a child
    /// forked by this process (any `Process` launch) shares the lock's file description
    /// until it execs, even though the descriptor is close-on-exec.
    private static func lock(_ descriptor: Int32) -> Bool {
        for attempt in 0..<100 {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK || errno == EINTR, attempt < 99 else { return false }
            usleep(10_000)
        }
        return false
    }

    deinit {
        close(descriptor)
    }
}
