import CGemm
import COpenBLAS
import Glibc

/// Splitting a batch across threads: the samples of a batch in contiguous parts, one per thread,
/// the calling thread taking the first part and helper threads of a process-wide pool the others
/// (or the calling thread again, for a part no helper has taken by then).
///
/// A convolution's per-sample GEMMs are too small for OpenBLAS to split well (W2's largest is
/// 32 × 144 × 196), and the layers around them (pooling, activations, group norm, im2col) run on one
/// core; with the samples split, every part of a layer runs on its own core, with single-threaded
/// GEMMs. So inside a parallel region OpenBLAS is set to one thread, and set back to the requested
/// count (`threadCount`, `ae_set_num_threads`) after it. Results do not depend on timing: the split
/// depends only on the batch size and the thread count, and parameter gradients are summed part by
/// part in a fixed order (`combine`).
///
/// One region runs at a time: a thread that finds the pool busy with another thread's region
/// (another model training in another thread) waits for it, so that the split, and with it every
/// result, depends only on the thread count; a region started inside a region (by a part's body)
/// runs its whole batch on its own thread, as with one thread. After `fork` the child runs
/// everything on its calling thread (its copy of the pool has no threads).
public enum Parallel {
    /// The number of threads the library computes with: the pool's helpers plus the calling thread
    /// in a region, OpenBLAS's threads outside one. Initially what OpenBLAS chose
    /// (OPENBLAS_NUM_THREADS, or the number of cores); at most `WorkerPool.maximumWidth` are used
    /// for splitting a batch.
    public static var threadCount: Int {
        get { WorkerPool.shared.requestedThreads }
        set { WorkerPool.shared.setRequestedThreads(max(1, newValue)) }
    }

    /// Elements of work (floats read or written, or multiply-adds) below which a part does not pay
    /// for waking a thread: about 10 µs of memory-bound work. (A variable for the tests only.)
    static var minimumWorkPerPart = 1 << 15

    /// How many parts `forEachPart` splits `count` samples of `work` elements into at the current
    /// thread count.
    static func parts(count: Int, work: Int) -> Int {
        let byWork = work / minimumWorkPerPart
        return max(1, min(count, byWork, min(threadCount, WorkerPool.maximumWidth)))
    }

    /// Runs `body(part, samples, scratch)` for the parts of `0..<count`: part 0 on the calling thread
    /// with `scratch`, the others on whichever thread takes them first (a helper, or the calling
    /// thread once its part 0 is done), each with a scratch of at least `scratchSize`
    /// floats of its own (the pool's, reused from call to call); then, still in the region,
    /// `combine(scratches)` on the calling thread with the scratch of every part in part order
    /// (index 0 is `scratch`), to sum partial results. With one part (one thread, a small batch, or
    /// the pool busy) it is `body(0, 0..<count, scratch)` then `combine([scratch])`.
    static func forEachPart(count: Int, work: Int, scratch: UnsafeMutablePointer<Float>, scratchSize: Int = 0,
                            _ body: (_ part: Int, _ samples: Range<Int>, _ scratch: UnsafeMutablePointer<Float>) -> Void,
                            combine: (_ scratches: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) -> Void = { _ in }) {
        let parts = parts(count: count, work: work)
        if parts > 1, WorkerPool.shared.run(parts: parts, count: count, scratch: scratch, scratchSize: scratchSize, body, combine: combine) {
            return
        }
        body(0, 0..<count, scratch)
        var only = scratch
        withUnsafePointer(to: &only) { combine(UnsafeBufferPointer(start: $0, count: 1)) }
    }

    /// `body(range)` for contiguous ranges of `0..<count` on the library's threads, for work
    /// whose result for each element does not depend on the split (an optimizer's update, the
    /// bands of a GEMM); `work` as in `parts` (for element-wise work, the floats read and written).
    static func forEachRange(count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        forEachPart(count: count, work: work, scratch: unusedScratch) { _, range, _ in body(range) }
    }

    /// The scratch of regions whose parts need none.
    static let unusedScratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    /// target[i] += source[i] for i < count (partial gradients of the parts into the whole), in
    /// CGemm's AVX-512 or AVX2 (aeelementwise.h).
    static func add(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int) {
        aeg_add(count, source, target)
    }

    /// Samples `part` of `parts` covers out of `count`: contiguous, sizes differing by at most one.
    @inline(__always)
    static func samples(part: Int, of parts: Int, count: Int) -> Range<Int> {
        (part * count / parts)..<((part + 1) * count / parts)
    }
}

/// The helper threads behind `Parallel`. Helpers start on first use (up to the requested count
/// minus one) and live as long as the process. Between regions a helper spins briefly (regions
/// follow each other layer after layer), then sleeps on a condition variable.
///
/// Protocol: the region's owner writes the job, the scratch table, `remaining` = parts − 1 and
/// `claim` = generation · 256 + 1, then publishes `ticket` = generation · 256 + parts under the
/// mutex (waking sleepers), and runs part 0. Parts 1... are taken by whoever comes first, the
/// owner after its part 0 or a helper, by raising `claim`'s low byte while its generation is
/// the ticket's (compare-and-swap); each finished part decrements `remaining`, and the helper that
/// brings it to 0 wakes the owner if it sleeps. A part's samples and scratch are fixed by its
/// number, so the results do not depend on which thread runs it; a helper that the scheduler
/// holds back (another process on its core) delays nothing but its own parts, which the owner
/// takes instead. A helper reads the job only after claiming a part of the current generation,
/// and the owner cannot start the next region before every part is done, so a helper never
/// sees the job of another region.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()
    /// Parts per region at most (the calling thread and 63 helpers).
    static let maximumWidth = 64
    /// Spin-wait iterations (a `pause` each) before sleeping: tens of microseconds, as layers
    /// follow each other closely. No `sched_yield`: it hands the core to any other runnable
    /// process for the rest of a time slice, milliseconds, and a helper that yielded to a
    /// background process at the lowest priority halved W3's batch at two threads (54,500
    /// against 107,900 samples/s); a part whose helper is held back is taken by the owner instead.
    private static let spins = 4_000

    // Words for the C atomics: ticket, remaining, requested threads, owner waiting, owner thread, claim.
    private let words = UnsafeMutablePointer<Int>.allocate(capacity: 6)
    private var ticket: UnsafeMutablePointer<Int> { words }
    private var remaining: UnsafeMutablePointer<Int> { words + 1 }
    private var requested: UnsafeMutablePointer<Int> { words + 2 }
    private var ownerWaiting: UnsafeMutablePointer<Int> { words + 3 }
    private var ownerThread: UnsafeMutablePointer<Int> { words + 4 }
    private var claim: UnsafeMutablePointer<Int> { words + 5 }
    /// Set (non-nil) on helper threads: a region they start is nested.
    private var helperKey = pthread_key_t()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)   // guards sleeping and waking
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)     // helpers: a new ticket
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)     // owner: remaining is 0
    private let region = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)  // held by the region's owner
    private var sleepers = 0                                                           // under `mutex`
    private var helpers = 0                                                            // started; under `region`
    private var generation = 0                                                         // under `region`

    // The current region, written by its owner before the ticket is published.
    private var job: ((Int) -> Void)? = nil
    // Each part's scratch (index 0: the owner's), and the pool's own scratch of parts 1... with its capacity:
    // a part's scratch belongs to the part, whichever thread runs it.
    private let scratches = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: WorkerPool.maximumWidth)
    private let partScratch = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: WorkerPool.maximumWidth)
    private let partCapacity = UnsafeMutablePointer<Int>.allocate(capacity: WorkerPool.maximumWidth)

    private init() {
        words.initialize(repeating: 0, count: 6)
        _ = aeg_forked_since_first_call()   // from here on, a forked child is told apart
        pthread_key_create(&helperKey, nil)
        partScratch.initialize(repeating: nil, count: Self.maximumWidth)
        partCapacity.initialize(repeating: 0, count: Self.maximumWidth)
        pthread_mutex_init(mutex, nil)
        pthread_mutex_init(region, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
    }

    var requestedThreads: Int {
        let value = ae_atomic_load(requested)
        if value > 0 { return value }
        let initial = max(1, Int(openblas_get_num_threads()))
        ae_atomic_store(requested, initial)
        return initial
    }

    func setRequestedThreads(_ threads: Int) {
        ae_atomic_store(requested, threads)
        openblas_set_num_threads(Int32(clamping: threads))
    }

    /// Runs one region of `parts` parts, after any other thread's region; false (nothing run)
    /// when called inside a region, in a forked child, or when no helper thread could be started.
    func run(parts wanted: Int, count: Int, scratch: UnsafeMutablePointer<Float>, scratchSize: Int,
             _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void,
             combine: (UnsafeBufferPointer<UnsafeMutablePointer<Float>>) -> Void) -> Bool {
        guard aeg_forked_since_first_call() == 0 else { return false }
        let me = Int(bitPattern: UInt(pthread_self()))
        if pthread_mutex_trylock(region) != 0 {
            // Nested (this thread owns the region, or is one of its helpers): alone. Otherwise wait.
            if ae_atomic_load(ownerThread) == me || pthread_getspecific(helperKey) != nil { return false }
            pthread_mutex_lock(region)
        }
        ae_atomic_store(ownerThread, me)
        defer {
            ae_atomic_store(ownerThread, 0)
            pthread_mutex_unlock(region)
        }
        while helpers < wanted - 1, startHelper() {}
        // Parts with a large enough scratch (a failed allocation leaves fewer parts).
        var parts = 1
        while parts < min(wanted, helpers + 1), reserveScratch(part: parts, floats: scratchSize) { parts += 1 }
        guard parts > 1 else { return false }
        scratches[0] = scratch
        for part in 1..<parts { scratches[part] = partScratch[part]! }

        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(clamping: requestedThreads)) }
        withoutActuallyEscaping({ (part: Int) in
            body(part, Parallel.samples(part: part, of: parts, count: count), self.scratches[part])
        }) { escapable in
            job = escapable
            ae_atomic_store(remaining, parts - 1)
            generation += 1
            ae_atomic_store(claim, generation << 8 | 1)
            let published = generation << 8 | parts
            pthread_mutex_lock(mutex)
            ae_atomic_store(ticket, published)
            if sleepers > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)
            escapable(0)
            while let part = claimPart(of: published) {
                escapable(part)
                _ = ae_atomic_fetch_add(remaining, -1)
            }
            waitForHelpers()
            job = nil
        }
        combine(UnsafeBufferPointer(start: scratches, count: parts))
        return true
    }

    /// Makes sure part `part` (1...) has at least `floats` floats of scratch (64-byte aligned).
    private func reserveScratch(part: Int, floats: Int) -> Bool {
        if partScratch[part] != nil, partCapacity[part] >= floats { return true }
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, max(1, floats) * MemoryLayout<Float>.stride) == 0, let raw else { return false }
        free(partScratch[part])
        partScratch[part] = raw.bindMemory(to: Float.self, capacity: max(1, floats))
        partCapacity[part] = floats
        return true
    }

    /// The next part of the region of `ticket` that nobody has taken, now taken; nil when all
    /// are, or when that region is over (a helper late for it).
    private func claimPart(of ticket: Int) -> Int? {
        let generation = ticket >> 8, parts = ticket & 0xFF
        var word = ae_atomic_load(claim)
        while word >> 8 == generation, word & 0xFF < parts {
            if ae_atomic_compare_exchange(claim, &word, word + 1) != 0 { return word & 0xFF }
        }
        return nil
    }

    private func waitForHelpers() {
        for _ in 0..<Self.spins {
            if ae_atomic_load(remaining) == 0 { return }
            ae_spin_pause()
        }
        pthread_mutex_lock(mutex)
        ae_atomic_store(ownerWaiting, 1)
        while ae_atomic_load(remaining) != 0 { pthread_cond_wait(done, mutex) }
        ae_atomic_store(ownerWaiting, 0)
        pthread_mutex_unlock(mutex)
    }

    /// Starts helper number `helpers + 1`; false when the thread cannot be created or the pool is full.
    private func startHelper() -> Bool {
        guard helpers + 1 < Self.maximumWidth else { return false }
        if helpers == 0 { ae_pin_this_object() }   // helpers run this library's code: a dlclose must not unmap it
        let start = UnsafeMutablePointer<HelperStart>.allocate(capacity: 1)
        start.initialize(to: HelperStart(pool: Unmanaged.passUnretained(self), ticket: ae_atomic_load(ticket)))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        guard pthread_create(&thread, &attributes, { argument in
            let start = argument!.assumingMemoryBound(to: HelperStart.self)
            let (pool, ticket) = (start.pointee.pool.takeUnretainedValue(), start.pointee.ticket)
            start.deallocate()
            pool.helperLoop(seen: ticket)
            return nil
        }, start) == 0 else {
            start.deallocate()
            return false
        }
        helpers += 1
        return true
    }

    private struct HelperStart {
        let pool: Unmanaged<WorkerPool>
        let ticket: Int
    }

    private func helperLoop(seen initial: Int) {
        pthread_setspecific(helperKey, UnsafeRawPointer(words))
        var seen = initial
        while true {
            seen = nextTicket(after: seen)
            while let part = claimPart(of: seen) {
                job!(part)
                if ae_atomic_fetch_add(remaining, -1) == 1 {
                    pthread_mutex_lock(mutex)
                    if ae_atomic_load(ownerWaiting) != 0 { pthread_cond_signal(done) }
                    pthread_mutex_unlock(mutex)
                }
            }
        }
    }

    /// Waits for a ticket other than `seen`: spinning first, then asleep.
    private func nextTicket(after seen: Int) -> Int {
        for _ in 0..<Self.spins {
            let current = ae_atomic_load(ticket)
            if current != seen { return current }
            ae_spin_pause()
        }
        pthread_mutex_lock(mutex)
        sleepers += 1
        var current = ae_atomic_load(ticket)
        while current == seen {
            pthread_cond_wait(wake, mutex)
            current = ae_atomic_load(ticket)
        }
        sleepers -= 1
        pthread_mutex_unlock(mutex)
        return current
    }
}
