import CSimHooks

/// Sends the jobs the Swift runtime enqueues on the global executor from a thread that is driving a
/// simulation into that simulation's run queue instead (through the runtime's `swift_task_enqueueGlobal_hook`).
///
/// Other threads, and the driving thread when it is not driving, keep the global executor. The redirect only
/// ever sees jobs made on the driving thread, so they join the FIFO queue in a deterministic order.
enum GlobalEnqueueRedirect {
    /// Installs the hook (once per process; later calls do nothing).
    static func install() { moesim_install_global_enqueue_redirect(redirectJob) }

    /// Redirects the calling thread's global enqueues to `executor`; returns the previous target.
    static func redirectCurrentThread(to executor: SimExecutor) -> UnsafeMutableRawPointer? {
        moesim_exchange_thread_driver(Unmanaged.passUnretained(executor).toOpaque())
    }

    /// Puts back the target `redirectCurrentThread` replaced.
    static func restoreCurrentThread(_ previous: UnsafeMutableRawPointer?) {
        _ = moesim_exchange_thread_driver(previous)
    }
}

/// The hook's callback: `driver` is the executor marked on this thread, `job` the runtime's job.
private let redirectJob: moesim_redirect_fn = { driver, job in
    let executor = Unmanaged<SimExecutor>.fromOpaque(driver).takeUnretainedValue()
    executor.acceptRedirected(unsafeBitCast(job, to: UnownedJob.self))
}
