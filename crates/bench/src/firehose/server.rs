//! Runs the Fleetward under test as a child process (so the benchmark can `kill -9` it and
//! start it again on the same data directory).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    bin: PathBuf,
    data_dir: PathBuf,
    buffer_bytes: u64,
    child: Option<Child>,
    pub endpoint: String,
}

impl Server {
    pub fn start(bin: &Path, data_dir: &Path, buffer_bytes: u64) -> Result<Self, String> {
        let mut server = Self {
            bin: bin.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            buffer_bytes,
            child: None,
            endpoint: String::new(),
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.with_extension("log"))
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(&self.bin)
            .args(["serve", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--api-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env(
                "FLEETWARD_EXPORT_BUFFER_BYTES",
                self.buffer_bytes.to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        // Keeps draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.trim_start().strip_prefix("API:") {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "fleetward did not print its API address within 60 s".to_string())?;
        self.endpoint = url;
        self.child = Some(child);
        Ok(())
    }

    pub fn credentials(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// SIGKILL, as a crash would, then a fresh start on the same data directory.
    pub fn kill9_and_restart(&mut self) -> Result<(), String> {
        if let Some(mut child) = self.child.take() {
            child.kill().map_err(|e| e.to_string())?;
            let _ = child.wait();
        }
        self.spawn()
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
