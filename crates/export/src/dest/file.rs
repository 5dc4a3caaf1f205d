//! The local-files destination (`file:///DIR`): each batch appended to
//! `DIR/<stream>-YYYY-MM-DD.log`, one record per line, fsynced before the batch counts as
//! delivered.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Failure;
use crate::deliver::DeliveryContext;
use crate::stream::StreamDoc;
use crate::transform::Out;

fn file_name(ctx: &DeliveryContext, doc: &StreamDoc) -> String {
    let now =
        time::OffsetDateTime::from_unix_timestamp_nanos(ctx.clock.now_ms() as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}-{:04}-{:02}-{:02}.log",
        doc.name,
        now.year(),
        now.month() as u8,
        now.day()
    )
}

fn append(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(content)?;
    file.sync_data()
}

pub async fn attempt(
    ctx: &DeliveryContext,
    doc: &StreamDoc,
    dir: &Path,
    out: &[Out],
) -> Result<(), Failure> {
    let mut content = Vec::new();
    for o in out {
        content.extend_from_slice(o.data());
        if !o.data().ends_with(b"\n") {
            content.push(b'\n');
        }
    }
    let path: PathBuf = dir.join(file_name(ctx, doc));
    tokio::task::spawn_blocking(move || append(&path, &content))
        .await
        .map_err(|e| Failure::retryable("File.WriteFailed", e.to_string()))?
        .map_err(|e| Failure::retryable("File.WriteFailed", e.to_string()))
}
