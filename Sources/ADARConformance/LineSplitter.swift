import ADARCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of a line-delimited stream (docs/PORTING.md §3): a port's
/// requests, its answers, or a results file.
public enum InputLine: Equatable, Sendable {
    case text(String)
    /// A line of more than the maximum: its first bytes (enough to recover an id)
    /// and its length without the line end; the rest was never stored.
    case tooLong(start: String, byteCount: Int)
}

/// Splits a byte stream into lines in time linear in its length, for both
/// sides of the protocol (the runner reading answers, `port-server` reading
/// requests): `\n` ends a line, a `\r` before it is dropped (CRLF files), and
/// a last line without `\n` counts. At most `maximumBytes` of a line are
/// held: a longer line is counted to its end without being stored and comes
/// out as `.tooLong`, so the lines after it stay in step and no line can
/// exhaust memory.
public struct LineSplitter {
    public let maximumBytes: Int
    private var pending: [UInt8] = []
    /// The current line passed the maximum: only its start and length are kept.
    private var tooLongStart: [UInt8]?
    private var tooLongCount = 0

    /// Bytes of a too-long line kept to recover its id.
    static let keptStart = 4_096

    public init(maximumBytes: Int = ADARLimits.maxRequestBytes) { self.maximumBytes = maximumBytes }

    /// The lines that end in `chunk`.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) -> [InputLine] {
        var lines = [InputLine]()
        guard let base = chunk.baseAddress else { return lines }
        var start = 0
        while start < chunk.count {
            let newline = memchr(base + start, 0x0A, chunk.count - start).map { base.distance(to: UnsafeRawPointer($0)) }
            take(UnsafeRawBufferPointer(rebasing: chunk[start ..< (newline ?? chunk.count)]))
            guard let newline else { break }
            lines.append(endLine())
            start = newline + 1
        }
        return lines
    }

    /// The last line, when the stream does not end with `\n`.
    public mutating func finish() -> [InputLine] {
        pending.isEmpty && tooLongStart == nil ? [] : [endLine()]
    }

    private mutating func take(_ bytes: UnsafeRawBufferPointer) {
        if tooLongStart != nil {
            tooLongCount += bytes.count
        } else if pending.count + bytes.count > maximumBytes {
            let kept = min(Self.keptStart, maximumBytes + 1)
            tooLongStart = Array((pending + bytes.prefix(max(0, kept - pending.count))).prefix(kept))
            tooLongCount = pending.count + bytes.count
            pending = []
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    private mutating func endLine() -> InputLine {
        defer { pending.removeAll(keepingCapacity: pending.count <= 1 << 16) }
        if let start = tooLongStart {
            tooLongStart = nil
            return .tooLong(start: String(decoding: start, as: UTF8.self), byteCount: tooLongCount)
        }
        return .text(String(decoding: pending.last == 0x0D ? pending.dropLast() : pending[...], as: UTF8.self))
    }
}
