#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File reads and atomic file writes over the C library, with errors that name the path and the
/// system's reason (`strerror`). Every call retries on EINTR and copes with short reads and writes.
///
/// Reading takes regular files only: a FIFO, a device such as /dev/zero, a directory or a socket
/// is refused at once (the file is opened with O_NONBLOCK, so opening a FIFO never waits for a
/// writer, and fstat decides before anything is read). Sizes come from fstat and bound every read.
///
/// Writing (atomic replacement) is in FileIO+Writing.swift.
enum FileIO {
    /// Reads the whole regular file at `path` (NPY and CSV readers; model files are read piecewise
    /// through `ReadableFile`). The buffer is tried with the C allocator first, because a failed
    /// Swift allocation traps.
    /// Errors: `.invalidArgument` for an empty path or one holding a NUL byte; `.io` when the file
    /// cannot be opened or read or is not a regular file; `.outOfMemory` when it does not fit.
    static func readAll(path: String) throws(AutoencoderError) -> [UInt8] {
        let file = try ReadableFile(path: path)
        guard canAllocate(file.size) else {
            throw .init(.outOfMemory, "cannot allocate \(file.size) bytes to read '\(path)'")
        }
        var failure: AutoencoderError? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: file.size) { buffer, count in
            do throws(AutoencoderError) {
                if let base = buffer.baseAddress { try file.read(at: 0, into: UnsafeMutableRawPointer(base), count: file.size) }
                count = file.size
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    // MARK: - Helpers

    /// The text of the current `errno`, for example "No such file or directory".
    static func systemError(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// An empty path is a caller's mistake, and a NUL byte would silently cut the path short.
    static func checkPath(_ path: String) throws(AutoencoderError) {
        if path.isEmpty {
            throw .invalidArgument("file path is empty")
        }
        if path.utf8.contains(0) {
            throw .invalidArgument("file path '\(path.replacingNUL)' contains a NUL byte")
        }
    }

    /// What a file of mode `mode` is, for messages: "a directory", "a FIFO", ...
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        case S_IFREG: return "a regular file"
        default: return "a special file"
        }
    }

    /// Whether `byteCount` bytes can be allocated now (a failed Swift allocation traps, so a size
    /// that comes from a file is tried with the C allocator first).
    static func canAllocate(_ byteCount: Int) -> Bool {
        var probe: UnsafeMutableRawPointer? = nil
        guard byteCount >= 0, posix_memalign(&probe, 16, max(byteCount, 1)) == 0, let probe else { return false }
        free(probe)
        return true
    }

    /// The directory part of `path`: "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/".
    static func directoryName(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        var end = slash
        while end > 0 && bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
        if end == 0 { return "/" }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The last component of `path`: "a/b/c" -> "c" ("" when the path ends in "/").
    static func baseName(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(decoding: bytes[(slash + 1)...], as: UTF8.self)
    }
}

extension String {
    /// The string with NUL bytes shown as "\0", for messages.
    var replacingNUL: String { split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0") }
}

/// An open regular file, read piecewise with `pread`: the model loader reads the header, bounds
/// everything by it and by the file size, and then reads each tensor straight into its destination.
final class ReadableFile {
    let path: String
    /// The size fstat reported at open; every read stays inside it.
    let size: Int
    private let fd: Int32

    /// Opens `path` for reading. Errors: `.invalidArgument` (empty path, NUL byte), `.io` (cannot
    /// open, or not a regular file: "cannot read 'p': it is a FIFO, not a regular file").
    init(path: String) throws(AutoencoderError) {
        try FileIO.checkPath(path)
        // O_NONBLOCK: opening a FIFO with no writer would otherwise block forever. It changes
        // nothing for a regular file, whose reads never block.
        var fd: Int32 = -1
        repeat {
            fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            throw .io("cannot open '\(path)': \(FileIO.systemError())")
        }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let reason = FileIO.systemError()
            _ = close(fd)
            throw .io("cannot stat '\(path)': \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = close(fd)
            throw .io("cannot read '\(path)': it is \(FileIO.kindName(info.st_mode)), not a regular file")
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            _ = close(fd)
            throw .io("cannot read '\(path)': fstat reports a size of \(info.st_size) bytes")
        }
        self.path = path
        self.size = size
        self.fd = fd
    }

    deinit { _ = close(fd) }

    /// Reads exactly `count` bytes at `offset` (which must lie inside `size`, as the callers check).
    /// A file that shrank since it was opened is an error, not a short read.
    func read(at offset: Int, into destination: UnsafeMutableRawPointer, count: Int) throws(AutoencoderError) {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw .init(.internal, "read of \(count) bytes at \(offset) outside '\(path)' (\(size) bytes)")
        }
        var done = 0
        while done < count {
            // Linux transfers at most 0x7ffff000 bytes per call; asking for less keeps it portable.
            let chunk = min(count - done, 1 << 30)
            let got = pread(fd, destination + done, chunk, off_t(offset + done))
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .io("cannot read '\(path)': \(FileIO.systemError())")
            }
            if got == 0 {
                throw .io("cannot read '\(path)': the file ended at byte \(offset + done) but was \(size) bytes when opened (was it truncated while being read?)")
            }
            done += got
        }
    }
}
