//! The threads that make RSA signatures, one per core, fed by one queue.
//!
//! A thread signs queued requests back to back without sleeping in between, so a busy pool
//! costs a wake-up per burst rather than two thread hand-offs per signature (a semaphore in
//! front of `spawn_blocking` spent ~20% of the process's CPU in context switches at 2,500
//! signatures/s). At most one signature per core is made at a time, so a burst of deliveries
//! cannot take every core from the API.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::signing::{SignatureVersion, Signer};

struct Request {
    version: SignatureVersion,
    data: String,
    done: oneshot::Sender<Result<String, String>>,
}

/// The queue to the signing threads; they end when it is dropped.
pub struct SigningPool {
    queue: mpsc::Sender<Request>,
}

impl SigningPool {
    pub fn start(signer: Arc<Signer>, threads: usize) -> Result<Self, String> {
        let (queue, requests) = mpsc::channel::<Request>();
        let requests = Arc::new(Mutex::new(requests));
        for n in 0..threads.max(1) {
            let (requests, signer) = (requests.clone(), signer.clone());
            std::thread::Builder::new()
                .name(format!("sns-signing-{n}"))
                .spawn(move || sign_forever(&signer, &requests))
                .map_err(|e| format!("cannot start a signing thread: {e}"))?;
        }
        Ok(Self { queue })
    }

    /// The base64 signature of `data`.
    pub async fn sign(&self, version: SignatureVersion, data: String) -> Result<String, String> {
        let (done, signed) = oneshot::channel();
        self.queue
            .send(Request {
                version,
                data,
                done,
            })
            .map_err(|_| "signing stopped".to_string())?;
        signed.await.map_err(|_| "signing stopped".to_string())?
    }
}

fn sign_forever(signer: &Signer, requests: &Mutex<mpsc::Receiver<Request>>) {
    // Signing is request work like the runtime's threads, below the store's writer.
    fleetward_model::thread_priority::lower_current_thread();
    loop {
        let next = requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(request) = next else {
            return;
        };
        let signature = signer.sign(request.version, request.data.as_bytes());
        let _ = request.done.send(signature);
    }
}
