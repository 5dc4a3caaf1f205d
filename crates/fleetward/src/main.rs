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

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args).await,
        cli::Command::Admin(args) => admin::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fleetward: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
