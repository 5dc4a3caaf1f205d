//! The device gateway's own tokio runtime.
//!
//! Under a flood of device traffic, the connection tasks would otherwise share one run queue
//! with the API, detect's commits and the alert deliveries: every task those wake waits for
//! all runnable connections to be polled first, and an alert needs many such wake-ups (store
//! commit, SNS commit, signing, http), which added up to seconds. On threads of their own
//! the operating system shares the cores between the two fairly.

use tokio::net::TcpListener;
use tokio::runtime::{Builder, Runtime};

/// The runtime; stopped without waiting when dropped (also when start-up fails half way,
/// inside the main runtime, where a blocking shutdown is not allowed).
pub struct DeviceRuntime(Option<Runtime>);

impl DeviceRuntime {
    pub fn start() -> Result<Self, String> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("mqtt")
            .on_thread_start(fleetward_model::thread_priority::lower_current_thread)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the device runtime: {e}"))?;
        Ok(Self(Some(runtime)))
    }

    /// Moves a listener bound on the main runtime to this one, so that it and the
    /// connections it accepts are driven here.
    pub fn adopt(&self, listener: TcpListener) -> Result<TcpListener, String> {
        let std_listener = listener
            .into_std()
            .map_err(|e| format!("cannot move the MQTT listener: {e}"))?;
        let _inside = self.handle().enter();
        TcpListener::from_std(std_listener)
            .map_err(|e| format!("cannot move the MQTT listener: {e}"))
    }

    pub fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.handle().spawn(future);
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("the runtime lives until drop")
            .handle()
    }
}

impl Drop for DeviceRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}
