#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a writer sends bytes: an open file (saving streams tensors straight from the model's
/// buffers) or caller memory (ae_model_save_to_memory fills one malloc'd block).
protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AutoencoderError)
}

/// Writes to a file descriptor, retrying EINTR and continuing after short writes.
struct FileSink: ByteSink {
    let fd: Int32
    /// For messages: "'model.aem' (temporary file 'dir/.aem-...')".
    let path: String

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AutoencoderError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 30)
            let written = Glibc.write(fd, base + offset, chunk)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write \(path): \(FileIO.systemError())")
            }
            if written == 0 {
                throw .io("cannot write \(path): no progress after \(offset) of \(bytes.count) bytes")
            }
            offset += written
        }
    }
}

/// Fills a caller-owned block of exactly known size.
struct MemorySink: ByteSink {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(AutoencoderError) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        guard bytes.count <= capacity - count else {
            throw .init(.internal, "the model file is larger than the \(capacity) bytes computed for it")
        }
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}

/// Atomic replacement of a file.
///
/// The new contents go to a temporary file ".aem-<tag>-<pid>-<random>" in the target's folder
/// (at most 35 bytes, so any valid target name works; <tag> is 8 hex digits of the CRC-32 of the
/// target's name, which ties the temporary file to its target), which is written, fsync'ed and
/// renamed over the target; then the folder is fsync'ed so the rename is durable.
///
/// Only a regular file (or nothing) is replaced: a directory, FIFO, device, socket or symbolic
/// link at the target is an error and is left as it is. (A link is refused rather than followed:
/// replacing it would swap the link for a file, and writing through it would not be atomic.)
///
/// Stale temporary files of earlier saves of the same target (a save killed mid-write) are removed
/// after a successful save. One is stale when it is a regular file owned by this user, its name
/// matches the pattern with this target's tag, it is not this save's own file, and either the
/// process named by its pid no longer exists and it was not modified for 60 seconds, or it was not
/// modified for 24 hours (a pid can be reused, and a save on another machine sharing the folder has
/// a pid that means nothing here; a live save rewrites its file continuously).
extension FileIO {
    static let staleAfterDeadWriter: Int = 60
    static let staleAfterAnyWriter: Int = 24 * 3600

    /// Writes `bytes` to `path` atomically (see above).
    static func writeAtomically(path: String, bytes: UnsafeRawBufferPointer) throws(AutoencoderError) {
        try writeAtomically(path: path) { (sink: inout FileSink) throws(AutoencoderError) in try sink.write(bytes) }
    }

    /// Writes what `body` sends to the sink to `path` atomically (see above). A failure, of `body`
    /// or of the file system, leaves the target untouched and removes the temporary file.
    /// Errors: `.invalidArgument` (empty path, NUL byte); `.io` naming the path and the reason.
    static func writeAtomically(path: String, _ body: (inout FileSink) throws(AutoencoderError) -> Void) throws(AutoencoderError) {
        try checkPath(path)
        let existingMode = try checkTarget(path)
        let directory = directoryName(of: path)
        let tag = temporaryTag(for: path)
        let (tempPath, fd) = try createTemporary(directory: directory, tag: tag, target: path)
        do throws(AutoencoderError) {
            if let existingMode {
                // Replacing a file should not change who may read it.
                while fchmod(fd, existingMode & 0o7777) != 0 {
                    if errno == EINTR { continue }
                    throw .io("cannot set the permissions of '\(tempPath)': \(systemError())")
                }
            }
            var sink = FileSink(fd: fd, path: "'\(path)' (temporary file '\(tempPath)')")
            try body(&sink)
            while fsync(fd) != 0 {
                if errno == EINTR { continue }
                throw .io("cannot sync '\(path)' (temporary file '\(tempPath)'): \(systemError())")
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
        // The target may have changed since checkTarget; look again right before the rename (a
        // narrow window remains: the check and the rename are two calls).
        do throws(AutoencoderError) {
            _ = try checkTarget(path)
        } catch {
            _ = tempPath.withCString { unlink($0) }
            throw error
        }
        let renamed = tempPath.withCString { from in path.withCString { to in rename(from, to) } }
        if renamed != 0 {
            let reason = systemError()
            _ = tempPath.withCString { unlink($0) }
            throw .io("cannot rename '\(tempPath)' to '\(path)': \(reason)")
        }
        try syncDirectory(directory, path: path)
        removeStaleTemporaries(directory: directory, tag: tag)
    }

    /// nil when nothing is at `path`, the permission bits of the regular file there, or an error
    /// naming what else is there.
    private static func checkTarget(_ path: String) throws(AutoencoderError) -> mode_t? {
        var info = stat()
        if path.withCString({ lstat($0, &info) }) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw .io("cannot save to '\(path)': \(systemError(code))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .io("cannot save to '\(path)': it is \(kindName(info.st_mode)); only a regular file is replaced (it was left as it is)")
        }
        return info.st_mode
    }

    /// 8 hex digits naming the target among the temporary files of a folder.
    static func temporaryTag(for path: String) -> String {
        let hex = String(CRC32.checksum(Array(baseName(of: path).utf8)), radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Creates ".aem-<tag>-<pid>-<random>" exclusively, with mode 0666 less the umask.
    private static func createTemporary(directory: String, tag: String, target: String) throws(AutoencoderError) -> (String, Int32) {
        let prefix = directory == "." && !target.hasPrefix("./") ? "" : (directory == "/" ? "/" : directory + "/")
        var lastError: Int32 = 0
        for _ in 0..<16 {
            let random = String(UInt32.random(in: 0...UInt32.max) & 0xFF_FFFF, radix: 16)
            let candidate = "\(prefix).aem-\(tag)-\(getpid())-\(random)"
            let fd = candidate.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666) }
            if fd >= 0 { return (candidate, fd) }
            lastError = errno
            if lastError == EINTR || lastError == EEXIST { continue }
            throw .io("cannot create a temporary file in '\(directory)' to write '\(target)': \(systemError(lastError))")
        }
        throw .io("cannot create a temporary file in '\(directory)' to write '\(target)': \(systemError(lastError))")
    }

    /// Makes the rename durable. Filesystems that cannot sync a directory (EINVAL, EROFS, ...)
    /// are tolerated; a real I/O error is reported, since the new file may then not survive a crash.
    private static func syncDirectory(_ directory: String, path: String) throws(AutoencoderError) {
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

    /// Removes stale temporary files of this target (the rule is in the comment above). Best effort:
    /// a failure here never fails the save that has already succeeded.
    static func removeStaleTemporaries(directory: String, tag: String, now: time_t = time(nil)) {
        guard let folder = directory.withCString({ opendir($0) }) else { return }
        defer { closedir(folder) }
        let prefix = ".aem-\(tag)-"
        let me = getuid()
        while let entry = readdir(folder) {
            // Only the bytes up to the NUL are initialised: measure with strlen, copy exactly those.
            let name = withUnsafePointer(to: &entry.pointee.d_name) { field in
                field.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: field.pointee)) { chars -> String? in
                    guard strncmp(chars, prefix, prefix.utf8.count) == 0 else { return nil }
                    var bytes = [UInt8](repeating: 0, count: strlen(chars))
                    for i in 0..<bytes.count { bytes[i] = UInt8(bitPattern: chars[i]) }
                    return String(decoding: bytes, as: UTF8.self)
                }
            }
            guard let name else { continue }
            let parts = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, !parts[1].isEmpty,
                  parts[1].count <= 6, parts[1].allSatisfy({ $0.isHexDigit }) else { continue }
            var info = stat()
            guard fstatat(dirfd(folder), name, &info, AT_SYMLINK_NOFOLLOW) == 0,
                  (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == me else { continue }
            let idle = Int(now) - Int(info.st_mtim.tv_sec)
            let writerGone = pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
            guard (writerGone && idle >= staleAfterDeadWriter) || idle >= staleAfterAnyWriter else { continue }
            _ = unlinkat(dirfd(folder), name, 0)
        }
    }
}
