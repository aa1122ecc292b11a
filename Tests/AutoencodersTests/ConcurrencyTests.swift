import Dispatch
import Glibc
import Synchronization
import XCTest
@testable import Autoencoders

/// The model's readers–writer lock (Model/Locks.swift): a trainer is not starved by threads that
/// run inference without pause, and the inference threads are not starved by the trainer.
/// `make tsan` runs these under ThreadSanitizer.
final class ConcurrencyTests: XCTestCase {
    /// 8 inference threads beside a trainer of 50 steps: every step finishes. (With glibc's
    /// reader-preferring lock, 0 of 50 steps finished in 40 s.) The bounded wait only guards
    /// against a hang; nothing is timed.
    func testATrainerBesideEightInferenceThreadsFinishesItsSteps() throws {
        let model = try Model(json: ModelTests.spec(input: 64, hidden: 256, code: 8))
        let data = try ModelTests.data(rows: 64, features: 64)
        let trainer = try Trainer(model: model, batchSize: 64)
        let stop = Flag()
        var readers: [pthread_t] = []
        let inferenceCalls = Counters(8)
        for thread in 0..<8 {
            readers.append(spawn {
                var output = [Float](repeating: 0, count: 64 * 64)
                while !stop.isSet {
                    _ = try? data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in
                        try output.withUnsafeMutableBufferPointer { (y) throws(AutoencoderError) in
                            try model.reconstruct(x.baseAddress!, rows: 64, into: y.baseAddress!)
                        }
                    }
                    inferenceCalls.pointer[thread] += 1
                }
            })
        }
        let training = DispatchSemaphore(value: 0)
        let steps = Counters(1)
        let trainerThread = spawn {
            for _ in 0..<50 {
                guard (try? data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try trainer.step(x.baseAddress!, rows: 64) }) != nil else { break }
                steps.pointer.pointee += 1
            }
            training.signal()
        }
        let finished = training.wait(timeout: .now() + 600) == .success
        stop.set()
        for thread in readers { pthread_join(thread, nil) }
        if finished { pthread_join(trainerThread, nil) }
        XCTAssertTrue(finished, "the trainer hung beside 8 inference threads (\(steps.pointer.pointee) of 50 steps)")
        XCTAssertEqual(steps.pointer.pointee, 50)
        XCTAssertEqual(model.optimizerStepCount, 50)
        for thread in 0..<8 { XCTAssertGreaterThan(inferenceCalls.pointer[thread], 0, "inference thread \(thread) never ran") }
    }

    /// Writers waiting and readers arriving in turn: the lock admits both, and counts stay right
    /// (many short critical sections, so TSan sees every interleaving of the lock's state).
    func testTheLockAdmitsReadersAndWritersInTurn() {
        let lock = ReadWriteLock()
        let counter = Counters(1)
        DispatchQueue.concurrentPerform(iterations: 6) { thread in
            for _ in 0..<2000 {
                if thread % 3 == 0 {
                    lock.withWriteLock { counter.pointer.pointee += 1 }
                } else {
                    lock.withReadLock { _ = counter.pointer.pointee }
                }
            }
        }
        XCTAssertEqual(counter.pointer.pointee, 2 * 2000)
    }
}

/// Starts a POSIX thread (not a Dispatch work item: Dispatch runs about as many items at once as
/// there are cores, so 8 busy readers would keep the trainer from ever starting).
private func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    let status = pthread_create(&thread, nil, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.body()
        return nil
    }, context)
    precondition(status == 0, "pthread_create failed")
    return thread
}

/// A flag set once by one thread and polled by others.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// Counters each written by one thread at a time (or under a lock), read after the threads end.
private final class Counters: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ count: Int) {
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }
    deinit { pointer.deallocate() }
}
