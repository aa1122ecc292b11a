#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic whole-file writes over the C library, with errors that name the
/// path and the system's reason (`strerror`). Every call retries on EINTR and copes with short
/// reads and writes.
enum FileIO {
    /// Reads the whole file at `path`.
    /// Errors: `.invalidArgument` for an empty path or one holding a NUL byte; `.io` when the file
    /// cannot be opened or read, for example "cannot open 'x.npy': No such file or directory".
    static func readAll(path: String) throws(AutoencoderError) -> [UInt8] {
        try checkPath(path)
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            throw .io("cannot open '\(path)': \(systemError())")
        }
        defer { _ = close(fd) }

        var info = stat()
        if fstat(fd, &info) != 0 {
            throw .io("cannot stat '\(path)': \(systemError())")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .io("cannot read '\(path)': Is a directory")
        }
        // The size is only a hint: pipes and /proc files report 0, and a file may change while
        // it is read. So read blocks until end of file: the first block is one byte larger than
        // the file, so a regular file takes one block and no copy.
        let sizeHint = (info.st_mode & S_IFMT) == S_IFREG ? Int(clamping: info.st_size) : 0
        var blockSize = sizeHint < Int.max - 1 ? max(sizeHint + 1, 4096) : Int.max
        var contents: [UInt8] = []
        while true {
            var failure: Int32 = 0
            var reachedEnd = false
            let block = [UInt8](unsafeUninitializedCapacity: blockSize) { buffer, count in
                var filled = 0
                while filled < buffer.count {
                    let got = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                    if got < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        break
                    }
                    if got == 0 {
                        reachedEnd = true
                        break
                    }
                    filled += got
                }
                count = filled
            }
            if failure != 0 {
                throw .io("cannot read '\(path)': \(systemError(failure))")
            }
            if contents.isEmpty {
                contents = block
            } else {
                contents += block
            }
            if reachedEnd { return contents }
            blockSize = max(blockSize, contents.count)  // grow geometrically
        }
    }

    /// Writes `bytes` to `path` so that a reader sees either the old file or the complete new one:
    /// the bytes go to a temporary file "<path>.tmp-<pid>" in the same directory, which is
    /// fsync'ed and renamed over `path`; then the directory is fsync'ed so the rename is durable.
    /// A failure leaves the old file untouched and removes the temporary file.
    /// Errors: `.invalidArgument` for an empty path or one holding a NUL byte; `.io` naming the
    /// path and the system's reason otherwise.
    static func writeAtomically(path: String, bytes: UnsafeRawBufferPointer) throws(AutoencoderError) {
        try checkPath(path)
        let (tempPath, fd) = try createTemporary(near: path)
        do throws(AutoencoderError) {
            try keepPermissions(of: path, on: fd)
            try writeFully(fd, bytes, path: tempPath)
            while fsync(fd) != 0 {
                if errno == EINTR { continue }
                throw .io("cannot sync '\(tempPath)': \(systemError())")
            }
        } catch {
            _ = close(fd)
            _ = tempPath.withCString { unlink($0) }
            throw error
        }
        // On Linux close must not be retried after EINTR: the descriptor is already released.
        if close(fd) != 0 && errno != EINTR {
            let reason = systemError()
            _ = tempPath.withCString { unlink($0) }
            throw .io("cannot write '\(tempPath)': \(reason)")
        }
        let renamed = tempPath.withCString { from in path.withCString { to in rename(from, to) } }
        if renamed != 0 {
            let reason = systemError()
            _ = tempPath.withCString { unlink($0) }
            throw .io("cannot rename '\(tempPath)' to '\(path)': \(reason)")
        }
        try syncDirectory(of: path)
    }

    // MARK: - Helpers

    /// The text of the current `errno`, for example "No such file or directory".
    static func systemError(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// An empty path is a caller's mistake, and a NUL byte would silently cut the path short.
    private static func checkPath(_ path: String) throws(AutoencoderError) {
        if path.isEmpty {
            throw .invalidArgument("file path is empty")
        }
        if path.utf8.contains(0) {
            throw .invalidArgument("file path '\(path)' contains a NUL byte")
        }
    }

    /// Creates "<path>.tmp-<pid>" exclusively. If that name is taken (a leftover from a crashed
    /// run, or another thread writing the same path), a random suffix is added rather than
    /// deleting a file that someone else may be writing.
    private static func createTemporary(near path: String) throws(AutoencoderError) -> (String, Int32) {
        let base = "\(path).tmp-\(getpid())"
        var candidate = base
        for _ in 0..<16 {
            let fd = candidate.withCString {
                open($0, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0o666)
            }
            if fd >= 0 { return (candidate, fd) }
            let code = errno
            if code == EINTR { continue }
            if code != EEXIST {
                throw .io("cannot create '\(candidate)' to write '\(path)': \(systemError(code))")
            }
            candidate = "\(base)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        }
        throw .io("cannot create a temporary file next to '\(path)': too many leftover '\(base)*' files")
    }

    /// Replacing a file should not change who may read it: give the temporary file the mode of the
    /// file it replaces, if there is one.
    private static func keepPermissions(of path: String, on fd: Int32) throws(AutoencoderError) {
        var existing = stat()
        guard path.withCString({ stat($0, &existing) }) == 0, (existing.st_mode & S_IFMT) == S_IFREG else { return }
        while fchmod(fd, existing.st_mode & 0o7777) != 0 {
            if errno == EINTR { continue }
            throw .io("cannot set the permissions of '\(path)': \(systemError())")
        }
    }

    /// `write` until every byte is out: retries EINTR and continues after short writes.
    private static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(AutoencoderError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            // Linux transfers at most 0x7ffff000 bytes per call; asking for less keeps it portable.
            let chunk = min(bytes.count - offset, 1 << 30)
            let written = write(fd, base + offset, chunk)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write '\(path)': \(systemError())")
            }
            if written == 0 {
                throw .io("cannot write '\(path)': no progress after \(offset) of \(bytes.count) bytes")
            }
            offset += written
        }
    }

    /// Makes the rename durable. Filesystems that cannot sync a directory (EINVAL, EROFS, ...)
    /// are tolerated; a real I/O error is reported, since the new file may then not survive a crash.
    private static func syncDirectory(of path: String) throws(AutoencoderError) {
        let directory = directoryName(of: path)
        let fd = directory.withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if fd < 0 { return }
        defer { _ = close(fd) }
        while fsync(fd) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EIO || code == ENOSPC || code == EDQUOT {
                throw .io("wrote '\(path)' but cannot sync its directory '\(directory)': \(systemError(code))")
            }
            return
        }
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
}
