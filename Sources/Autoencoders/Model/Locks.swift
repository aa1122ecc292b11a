import Glibc

/// A readers–writer lock that neither side can starve: many concurrent inference calls, or one
/// exclusive writer (training, setting parameters).
///
/// glibc's default rwlock prefers readers, so a steady stream of inference calls kept a trainer
/// waiting forever. Here a waiting writer stops new readers from entering; when a writer
/// leaves, the readers that were waiting at that moment are admitted as one group before the next
/// writer, so training between inference calls cannot starve the readers either.
///
/// Not recursive: a thread holding the read lock must not take it again (it would wait behind a
/// waiting writer that waits for it). No code path of the library nests `withReadLock`.
final class ReadWriteLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let readersMayEnter: UnsafeMutablePointer<pthread_cond_t>
    private let writerMayEnter: UnsafeMutablePointer<pthread_cond_t>
    // All guarded by `mutex`.
    private var activeReaders = 0
    private var writerActive = false
    private var waitingWriters = 0
    private var waitingReaders = 0
    /// Bumped when a leaving writer admits the waiting readers.
    private var generation: UInt = 0
    /// Admitted readers that have not entered yet; writers wait for them.
    private var admittedReaders = 0
    /// Exclusive sections completed so far. Read it while holding the read lock: no writer can
    /// change it then, and the mutex orders it before the read. Every parameter write holds the
    /// write lock, so a change of this count is what invalidates the packed inference weights
    /// (PackedWeights.swift).
    private(set) var writes: UInt = 0

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        readersMayEnter = .allocate(capacity: 1)
        pthread_cond_init(readersMayEnter, nil)
        writerMayEnter = .allocate(capacity: 1)
        pthread_cond_init(writerMayEnter, nil)
    }

    deinit {
        pthread_cond_destroy(writerMayEnter)
        writerMayEnter.deallocate()
        pthread_cond_destroy(readersMayEnter)
        readersMayEnter.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockShared()
        defer { unlockShared() }
        return try body()
    }

    @inline(__always) func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockExclusive()
        defer { unlockExclusive() }
        return try body()
    }

    private func lockShared() {
        pthread_mutex_lock(mutex)
        if !writerActive && waitingWriters == 0 {
            activeReaders += 1
            pthread_mutex_unlock(mutex)
            return
        }
        let ticket = generation
        waitingReaders += 1
        while true {
            if generation != ticket {
                admittedReaders -= 1       // admitted by a leaving writer
                break
            }
            if !writerActive && waitingWriters == 0 { break }
            pthread_cond_wait(readersMayEnter, mutex)
        }
        waitingReaders -= 1
        activeReaders += 1
        pthread_mutex_unlock(mutex)
    }

    private func unlockShared() {
        pthread_mutex_lock(mutex)
        activeReaders -= 1
        if activeReaders == 0 && admittedReaders == 0 && waitingWriters > 0 { pthread_cond_signal(writerMayEnter) }
        pthread_mutex_unlock(mutex)
    }

    private func lockExclusive() {
        pthread_mutex_lock(mutex)
        waitingWriters += 1
        while writerActive || activeReaders > 0 || admittedReaders > 0 {
            pthread_cond_wait(writerMayEnter, mutex)
        }
        waitingWriters -= 1
        writerActive = true
        pthread_mutex_unlock(mutex)
    }

    private func unlockExclusive() {
        pthread_mutex_lock(mutex)
        writerActive = false
        writes &+= 1
        if waitingReaders > 0 {
            // Admit everyone waiting now; writers that arrive later wait for them (no admitted
            // reader is pending here: a writer only enters once they all have).
            generation &+= 1
            admittedReaders = waitingReaders
            pthread_cond_broadcast(readersMayEnter)
        } else if waitingWriters > 0 {
            pthread_cond_signal(writerMayEnter)
        }
        pthread_mutex_unlock(mutex)
    }
}

/// A plain mutex.
final class Mutex: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always) func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
