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
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
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

    deinit {
        close(descriptor)
    }
}
