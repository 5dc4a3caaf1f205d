//! Where written findings are announced (`Security Hub Findings - Imported`): every finding a
//! BatchImportFindings, BatchUpdateFindings or UpdateFindings call created or changed is handed
//! over once per call, after the store write, as one batch. Set once at start-up; without it
//! the hub does nothing more.

use serde_json::Value;

/// The receiver of written findings (the export service, in the binary). Runs inside the
/// hub's serialised write path: it must queue, not wait on I/O.
pub trait FindingEvents: Send + Sync {
    /// Whether `account`'s findings are wanted at all (so that none are gathered otherwise).
    fn wants(&self, account_id: &str) -> bool;
    /// The full ASFF findings written by one call (each once, as stored).
    fn written(&self, account_id: &str, findings: Vec<Value>);
}
