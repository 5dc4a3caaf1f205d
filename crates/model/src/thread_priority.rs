//! Threads that do request work run a little below the store's threads.
//!
//! Every write ends in one SQLite writer thread (and its checkpointer). When the request
//! threads keep every core busy parsing and preparing, that writer waits for a core while
//! every write behind it waits for the writer: at 20,000 findings/s it spent as long on the
//! run queue as running. Running the request threads (both tokio runtimes, their blocking
//! pools, the signing threads) at a higher nice value lets the scheduler run the writer as
//! soon as it is ready; the total work does not change. Linux keeps nice values per thread.

/// How far below the store threads: at 10 the scheduler weighs a store thread about ten
/// times a request thread while both want a core.
const NICE_ABOVE_PROCESS: i32 = 10;

/// Lowers the calling thread's priority; call it first thing in a request thread. Best
/// effort: where it is not supported or not allowed the thread keeps its priority.
pub fn lower_current_thread() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let thread = Some(rustix::thread::gettid());
        if let Ok(current) = getpriority_process(thread) {
            let lowered = (current + NICE_ABOVE_PROCESS).min(19);
            let _ = setpriority_process(thread, lowered);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn only_the_calling_thread_is_lowered() {
        let process = rustix::process::getpriority_process(None).unwrap();
        let lowered = std::thread::spawn(|| {
            lower_current_thread();
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (process + NICE_ABOVE_PROCESS).min(19));
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert_eq!(own, process);
    }
}
