import Foundation
import XCTest
@testable import Autoencoders

/// Reading only regular files (at once, without blocking), replacing only regular files, short
/// temporary names, and the clean-up of stale temporary files (FileIO.swift, FileIO+Writing.swift).
final class FileIOTests: TemporaryDirectoryTestCase {
    private func model() throws -> Model { try Model(json: ModelTests.spec(input: 6, hidden: 4, code: 2)) }

    private func kind(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// A FIFO with no writer: opening it for reading used to block forever. The load runs on a
    /// thread; if it has not returned after 20 s the test fails and unblocks it by opening the FIFO
    /// for writing.
    func testLoadingAFIFOIsRefusedAtOnce() throws {
        let fifo = directory + "/model.aem"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var error: AutoencoderError? }
        let box = Box()
        Thread.detachNewThread {
            do { _ = try Model.load(from: fifo) } catch { box.error = error as? AutoencoderError }
            done.signal()
        }
        if done.wait(timeout: .now() + 20) == .timedOut {
            XCTFail("loading a FIFO blocked")
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = done.wait(timeout: .now() + 20)
        }
        XCTAssertEqual(box.error?.kind, .io)
        XCTAssertTrue(box.error?.message.contains("it is a FIFO, not a regular file") ?? false, box.error?.message ?? "")
    }

    func testSpecialFilesAreNotRead() throws {
        for (path, what) in [("/dev/zero", "a character device"), (directory, "a directory")] {
            let errors = [assertThrows(.io) { () throws(AutoencoderError) in _ = try Model.load(from: path) },
                          assertThrows(.io) { () throws(AutoencoderError) in _ = try FileIO.readAll(path: path) },
                          assertThrows(.io) { () throws(AutoencoderError) in _ = try NPY.read(path: path) }]
            for error in errors {
                XCTAssertTrue(error?.message.contains("it is \(what), not a regular file") ?? false, error?.message ?? "")
            }
        }
    }

    /// A file shorter than its header says, and a file that is only a length: bounded by the size.
    func testTruncatedFilesOnDiskAreRefused() throws {
        let bytes = try model().serialized()
        for length in [0, 7, 8, 100, bytes.count - 1] {
            let path = directory + "/cut\(length).aem"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes[..<length])))
            assertThrows(.format) { () throws(AutoencoderError) in try Model.load(from: path) }
        }
    }

    // MARK: Saving

    func testSavingRefusesToReplaceAnythingButARegularFile() throws {
        let model = try model()
        let fifo = directory + "/fifo.aem", folder = directory + "/folder.aem", link = directory + "/link.aem"
        let target = directory + "/target.aem"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: Data("original".utf8)))
        XCTAssertEqual(symlink(target, link), 0)
        var cases = [(fifo, "a FIFO", S_IFIFO), (folder, "a directory", S_IFDIR), (link, "a symbolic link", S_IFLNK)]
        // A device node (a copy of /dev/null's numbers), where the system lets us make one.
        let device = directory + "/device.aem"
        if mknod(device, S_IFCHR | 0o600, dev_t(1 << 8 | 3)) == 0 { cases.append((device, "a character device", S_IFCHR)) }
        for (path, what, type) in cases {
            let error = assertThrows(.io) { () throws(AutoencoderError) in try model.save(to: path) }
            XCTAssertTrue(error?.message.contains("it is \(what); only a regular file is replaced") ?? false, error?.message ?? "")
            XCTAssertEqual(kind(path), type, "\(path) is left as it is")
        }
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "original", "the link's target is untouched")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".aem-") }, [],
                       "no temporary file is left")
        // A regular file is replaced, keeping its permissions.
        chmod(target, 0o640)
        try model.save(to: target)
        XCTAssertEqual(kind(target), S_IFREG)
        var info = stat()
        stat(target, &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
        XCTAssertNoThrow(try Model.load(from: target))
    }

    /// The longest valid name (255 bytes) saves: the temporary name no longer grows with it.
    func testTheLongestValidNameSaves() throws {
        let model = try model()
        for length in [250, 255] {
            let name = String(repeating: "m", count: length - 4) + ".aem"
            try model.save(to: directory + "/" + name)
            assertIdentical(try Model.load(from: directory + "/" + name).parameters.array, model.parameters.array, "\(length)-byte name")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).count, 2)
        let tooLong = String(repeating: "m", count: 256)
        assertThrows(.io) { () throws(AutoencoderError) in try model.save(to: directory + "/" + tooLong) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).count, 2, "nothing left by the failure")
    }

    /// Stale temporary files of the same target (from killed saves) are removed by the next save;
    /// everything else is kept.
    func testStaleTemporaryFilesOfTheTargetAreRemoved() throws {
        let target = directory + "/model.aem"
        let tag = FileIO.temporaryTag(for: target)
        let otherTag = FileIO.temporaryTag(for: directory + "/other.aem")
        XCTAssertNotEqual(tag, otherTag)
        // A pid that is not running: the highest pid the kernel would hand out.
        var dead: Int32 = 4_194_303
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let me = getpid()
        let now = time(nil)
        func make(_ name: String, ageSeconds: Int, content: String = "x") {
            let path = directory + "/" + name
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(content.utf8)))
            var times = [timespec(tv_sec: now - ageSeconds, tv_nsec: 0), timespec(tv_sec: now - ageSeconds, tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, path, &times, 0), 0)
        }
        make(".aem-\(tag)-\(dead)-a1b2c3", ageSeconds: 120)            // dead writer, idle 2 min: stale
        make(".aem-\(tag)-\(me)-00ff00", ageSeconds: 2 * 86_400)       // live pid but idle 2 days: stale
        make(".aem-\(tag)-\(dead)-d4e5f6", ageSeconds: 5)               // dead writer, but just written: kept
        make(".aem-\(tag)-\(me)-abcdef", ageSeconds: 600)               // a live writer (this process): kept
        make(".aem-\(otherTag)-\(dead)-a1b2c3", ageSeconds: 86_400 * 3) // another target's: kept
        make(".aem-\(tag)-\(dead)-notours", ageSeconds: 86_400 * 3)     // not the pattern: kept
        make("model.aem.tmp-\(dead)", ageSeconds: 86_400 * 3)           // not the pattern: kept
        XCTAssertEqual(symlink("/etc/passwd", directory + "/.aem-\(tag)-\(dead)-bbbbbb"), 0)  // not a regular file: kept
        try model().save(to: target)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        XCTAssertEqual(left, [".aem-\(tag)-\(dead)-d4e5f6", ".aem-\(tag)-\(me)-abcdef", ".aem-\(otherTag)-\(dead)-a1b2c3",
                              ".aem-\(tag)-\(dead)-notours", "model.aem.tmp-\(dead)", ".aem-\(tag)-\(dead)-bbbbbb", "model.aem"])
    }

    func testAPathHoldingANulByteIsRefused() throws {
        let model = try model()
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.save(to: directory + "/a\0b.aem") }
        XCTAssertTrue(error?.message.contains("NUL") ?? false, error?.message ?? "")
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Model.load(from: directory + "/a\0b.aem") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
    }
}
