import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A port running as a subprocess, spoken to one line at a time
/// (docs/PORTING.md §3). Every wait is bounded: a reader thread turns the
/// port's stdout into lines, writes go through a queue of their own (a port
/// that never reads its stdin cannot block the runner), and the runner kills
/// the port with SIGKILL when it does not answer in time.
final class PortProcess: @unchecked Sendable {
    /// What one wait for a line produced.
    enum Event: Equatable {
        case line(String)
        /// Nothing within the wait.
        case timeout
        /// The port closed its stdout; the text says how it ended.
        case ended(String)
    }

    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private let writer = DispatchQueue(label: "adar.conform.port-writer")
    private let lock = NSLock()
    private let available = DispatchSemaphore(value: 0)
    private var lines: [String] = []
    private var endOfOutput = false

    /// `command[0]` is looked up on `PATH` (through `/usr/bin/env`).
    init(command: [String], discardStandardError: Bool) throws {
        precondition(!command.isEmpty)
        // A port that dies while we write must not take the runner with it.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = input
        process.standardOutput = output
        process.standardError = discardStandardError ? FileHandle.nullDevice : FileHandle.standardError
        try process.run()
        let fd = output.fileHandleForReading.fileDescriptor
        let thread = Thread { [self] in readLines(fd) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Sends one line (a newline is appended) without waiting for the port to read it.
    func send(_ line: String) {
        let fd = input.fileHandleForWriting.fileDescriptor
        let bytes = Array((line + "\n").utf8)
        writer.async {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    /// The next line of the port's stdout, waiting at most `seconds`.
    func nextLine(within seconds: Double) -> Event {
        let deadline = DispatchTime.now() + max(0, seconds)
        while true {
            lock.lock()
            if !lines.isEmpty {
                let line = lines.removeFirst()
                lock.unlock()
                return .line(line)
            }
            let ended = endOfOutput
            lock.unlock()
            if ended { return .ended(endDescription()) }
            if available.wait(timeout: deadline) == .timedOut { return .timeout }
        }
    }

    /// Closes the port's stdin (the protocol's "done") and waits up to `grace`
    /// seconds for it to exit before killing it.
    func finish(grace: Double) {
        writer.async { [input] in try? input.fileHandleForWriting.close() }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        kill()
    }

    /// SIGKILL, to the port's process group when it leads one, and to the port.
    func kill() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        if getpgid(pid) == pid { signalProcess(-pid, SIGKILL) }
        signalProcess(pid, SIGKILL)
        process.waitUntilExit()
    }

    private func endDescription() -> String {
        // The port closed stdout; give it a moment to be reaped for its status.
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill()
            return "port closed its output without exiting"
        }
        switch process.terminationReason {
        case .exit: return "port exited with status \(process.terminationStatus)"
        case .uncaughtSignal: return "port was killed by signal \(process.terminationStatus)"
        @unknown default: return "port ended"
        }
    }

    private func readLines(_ fd: Int32) {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            pending += buffer[0..<count]
            var complete = [String]()
            while let newline = pending.firstIndex(of: 0x0A) {
                complete.append(String(decoding: pending[..<newline], as: UTF8.self))
                pending.removeSubrange(...newline)
            }
            if !complete.isEmpty { publish(complete, ended: false) }
        }
        publish(pending.isEmpty ? [] : [String(decoding: pending, as: UTF8.self)], ended: true)
    }

    private func publish(_ newLines: [String], ended: Bool) {
        lock.lock()
        lines += newLines
        if ended { endOfOutput = true }
        lock.unlock()
        available.signal()
    }
}

private func signalProcess(_ pid: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #else
    _ = Darwin.kill(pid, signal)
    #endif
}
