//! The `fleetward` binary: `serve` runs the service, `admin` manages accounts and keys.

mod admin;
mod admin_audit;
mod cli;
mod credentials;
mod detect;
mod device_runtime;
mod export;
mod mitigate;
mod notifications;
mod serve;
mod test_clock;

use clap::Parser;

/// The findings hot paths allocate many small JSON values; mimalloc handles that far better
/// than glibc's allocator under concurrent load (measured: see the README's benchmarks).
/// `--features system-allocator` keeps the system allocator, so heap profilers (valgrind's
/// massif, heaptrack) see every allocation.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    // Request threads run below the store's writer threads (see thread_priority).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(fleetward_model::thread_priority::lower_current_thread)
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(async {
            match cli.command {
                cli::Command::Serve(args) => serve::run(args).await,
                cli::Command::Admin(args) => admin::run(args).await,
            }
        }),
        Err(e) => Err(format!("cannot start the runtime: {e}")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fleetward: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
