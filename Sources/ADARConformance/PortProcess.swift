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
/// the port's process group with SIGKILL when it does not answer in time.
final class PortProcess: @unchecked Sendable {
    /// What one wait for a line produced.
    enum Event: Equatable {
        case line(String)
        /// A line longer than `ConformanceRunner.maximumLineBytes`; the rest of it is dropped.
        case tooLong
        /// Nothing within the wait.
        case timeout
        /// The port closed its stdout; the text says how it ended ("exited with status 3").
        case ended(String)
    }

    private let process = Process()
    private let input = Pipe(), output = Pipe(), errorOutput = Pipe()
    private let writer = DispatchQueue(label: "adar.conform.port-writer")
    private let lock = NSLock()
    private let available = DispatchSemaphore(value: 0)
    /// Received pieces not yet taken; `head` is the next one (a queue without `removeFirst`'s copying).
    private var pieces: [InputLine] = []
    private var head = 0
    private var endOfOutput = false
    /// The last bytes the port wrote to stderr, for a failure message.
    private var errorTail: [UInt8] = []
    private var endOfErrorOutput = false
    private let errorOutputEnded = DispatchSemaphore(value: 0)
    /// The target of the port's signals: its process group (`-pid`) when it leads one, as a
    /// subprocess does on Linux, so that its children end with it; else the port alone.
    private let signalTarget: pid_t

    /// `command[0]` is looked up on `PATH` (through `/usr/bin/env`).
    init(command: [String], discardStandardError: Bool) throws {
        precondition(!command.isEmpty)
        ignoreBrokenPipes()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorOutput
        try process.run()
        let pid = process.processIdentifier
        signalTarget = getpgid(pid) == pid ? -pid : pid
        RunningPorts.shared.register(signalTarget)
        startReader(output.fileHandleForReading.fileDescriptor) { [self] in readLines($0) }
        let echo = discardStandardError ? nil : FileHandle.standardError.fileDescriptor
        startReader(errorOutput.fileHandleForReading.fileDescriptor) { [self] in readStandardError($0, echo: echo) }
    }

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
            if head < pieces.count {
                let piece = pieces[head]
                head += 1
                if head == pieces.count { pieces.removeAll(); head = 0 }
                lock.unlock()
                switch piece {
                case let .text(line): return .line(line)
                case .tooLong: return .tooLong
                }
            }
            let ended = endOfOutput
            lock.unlock()
            if ended { return .ended(endDescription()) }
            if available.wait(timeout: deadline) == .timedOut { return .timeout }
        }
    }

    /// Closes the port's stdin (the protocol's "done"), waits up to `grace`
    /// seconds for it to exit, then kills what is left of its process group.
    func finish(grace: Double) {
        writer.async { [input] in try? input.fileHandleForWriting.close() }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        kill()
        RunningPorts.shared.unregister(signalTarget)
    }

    /// SIGKILL to the port's process group (children it started included) and to the port.
    func kill() {
        signalProcess(signalTarget, SIGKILL)
        guard process.isRunning else { return }
        signalProcess(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The last lines the port wrote to stderr (up to three, joined by " | "), or nil when it
    /// wrote none; waits up to `seconds` for the port's stderr to close so that nothing is missed.
    func standardErrorTail(waitingUpTo seconds: Double) -> String? {
        lock.lock()
        let ended = endOfErrorOutput
        lock.unlock()
        if !ended { _ = errorOutputEnded.wait(timeout: .now() + seconds) }
        lock.lock()
        let text = String(decoding: errorTail, as: UTF8.self)
        lock.unlock()
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? nil : lines.suffix(3).joined(separator: " | ")
    }

    private func endDescription() -> String {
        // The port closed stdout; give it a moment to be reaped for its status.
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill()
            return "closed its output without exiting"
        }
        switch process.terminationReason {
        case .exit:
            let status = process.terminationStatus
            // The statuses a shell (and env) use when the command cannot be run.
            let meaning = status == 127 ? " (127: command not found)" : status == 126 ? " (126: not executable)" : ""
            return "exited with status \(status)\(meaning)"
        case .uncaughtSignal: return "was killed by signal \(process.terminationStatus)"
        @unknown default: return "ended"
        }
    }

    private func startReader(_ fd: Int32, _ body: @escaping @Sendable (Int32) -> Void) {
        let thread = Thread { body(fd) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func readLines(_ fd: Int32) {
        var splitter = LineSplitter(maximumBytes: ConformanceRunner.maximumLineBytes)
        readChunks(fd) { publish(splitter.feed($0), ended: false) }
        publish(splitter.finish(), ended: true)
    }

    private func publish(_ newPieces: [InputLine], ended: Bool) {
        guard !newPieces.isEmpty || ended else { return }
        lock.lock()
        pieces += newPieces
        if ended { endOfOutput = true }
        lock.unlock()
        available.signal()
    }

    /// Passes the port's stderr through (unless `echo` is nil) and keeps its last 4 KiB.
    private func readStandardError(_ fd: Int32, echo: Int32?) {
        let kept = 4096
        readChunks(fd) { chunk in
            if let echo { writeAll(echo, chunk) }
            lock.lock()
            errorTail += chunk.suffix(kept)
            if errorTail.count > kept { errorTail.removeFirst(errorTail.count - kept) }
            lock.unlock()
        }
        lock.lock()
        endOfErrorOutput = true
        lock.unlock()
        errorOutputEnded.signal()
    }
}

/// Calls `body` with each chunk read from `fd` until end of file or an error.
private func readChunks(_ fd: Int32, _ body: (UnsafeRawBufferPointer) -> Void) {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return }
        buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }
}

private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
    }
}

/// The process groups of the ports running now, so that an interrupted run
/// can end them (docs/CLI.md "Conformance runner"): a port runs in a process
/// group of its own, which the terminal's Ctrl-C does not reach.
public final class RunningPorts: @unchecked Sendable {
    public static let shared = RunningPorts()

    private let lock = NSLock()
    private var targets = Set<pid_t>()
    private var stopping = false

    func register(_ target: pid_t) {
        lock.lock()
        let refused = stopping
        if !refused { targets.insert(target) }
        lock.unlock()
        // A port started while the run is being stopped must not outlive it.
        if refused { signalProcess(target, SIGKILL) }
    }

    func unregister(_ target: pid_t) {
        lock.lock()
        targets.remove(target)
        lock.unlock()
    }

    /// Ends every running port and its children: SIGTERM to each process group,
    /// then SIGKILL to whatever is left after `grace` seconds. Ports started
    /// later are killed at once. Returns how many ports there were.
    @discardableResult
    public func stopAll(grace: Double) -> Int {
        lock.lock()
        stopping = true
        let running = targets
        lock.unlock()
        guard !running.isEmpty else { return 0 }
        for target in running { signalProcess(target, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline, running.contains(where: { processExists($0) }) { usleep(20_000) }
        for target in running { signalProcess(target, SIGKILL) }
        return running.count
    }
}

/// Whether any process (a zombie included) is left at `target` (a pid, or `-pgid`).
private func processExists(_ target: pid_t) -> Bool {
    signalProcess(target, 0) == 0
}

@discardableResult
private func signalProcess(_ target: pid_t, _ signal: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.kill(target, signal)
    #else
    Darwin.kill(target, signal)
    #endif
}

/// A write to a port that has exited must fail with EPIPE, not kill the
/// runner. A handler that does nothing does that, and unlike SIG_IGN it is not
/// inherited: the port starts with SIGPIPE at its default.
private func ignoreBrokenPipes() {
    var action = sigaction()
    #if canImport(Glibc)
    action.__sigaction_handler.sa_handler = { _ in }
    #else
    action.__sigaction_u.__sa_handler = { _ in }
    #endif
    sigemptyset(&action.sa_mask)
    sigaction(SIGPIPE, &action, nil)
}
