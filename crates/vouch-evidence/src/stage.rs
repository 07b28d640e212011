//! Staging: an upload streamed to a temporary file while it is hashed and measured.
//!
//! The async side reads the body, enforces the limit and gathers small chunks into blocks of
//! [`IO_CHUNK`] bytes; a blocking thread hashes each block and writes it to the file. A bounded
//! channel of [`QUEUE`] blocks between them is what keeps memory flat: a fast client waits for
//! the disk instead of filling memory, and hashing never holds up the async runtime.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::{IO_CHUNK, StageError};

/// Blocks in flight between the body and the writer thread.
const QUEUE: usize = 4;

/// An upload in a staging file, hashed and measured, not yet in the vault. Pass it to
/// [`Vault::commit`](crate::Vault::commit), or drop it to discard the upload: dropping it
/// deletes the staging file.
#[derive(Debug)]
#[must_use = "a staged upload is discarded when dropped; commit it to keep it"]
pub struct Staged {
    pub sha256: String,
    pub size: u64,
    pub(crate) file: TempFile,
}

impl Staged {
    /// The staged file, readable until it is committed or dropped (an importer reads it).
    pub fn path(&self) -> &Path {
        &self.file.0
    }
}

/// A path deleted when this is dropped.
#[derive(Debug)]
pub(crate) struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        // After a commit the name may already be gone (renamed into the vault); that is fine.
        let _ = std::fs::remove_file(&self.0);
    }
}

enum Block {
    Data(Bytes),
    /// The body ended within the limit: make the file durable and report the hash.
    Finish,
}

/// The writer thread's failure: what it was doing, and the error.
type WriteFailure = (&'static str, io::Error);

pub(crate) async fn stage<S, E>(
    staging_dir: &Path,
    body: S,
    limit: u64,
) -> Result<Staged, StageError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let name = format!("stage-{}.tmp", uuid::Uuid::new_v4().simple());
    let file = TempFile(staging_dir.join(name));
    let (tx, rx) = mpsc::channel::<Block>(QUEUE);
    let path = file.0.clone();
    let writer = tokio::task::spawn_blocking(move || write_blocks(&path, rx));

    let fed = feed(body, limit, &tx).await;
    drop(tx);
    let written = match writer.await {
        Ok(w) => w,
        Err(join) => Err(("write", io::Error::other(join))),
    };
    let io_failure = |(op, source): WriteFailure| StageError::Io {
        op,
        path: file.0.clone(),
        source,
    };
    match (fed, written) {
        (Ok(size), Ok(Some(sha256))) => Ok(Staged { sha256, size, file }),
        // The body's own failure (too large, client gone) is the news, not the abandoned file.
        (Err(Fed::Stage(e)), _) => Err(e),
        (_, Err(failure)) => Err(io_failure(failure)),
        // The writer hung up without an error, or finished without being told to.
        (Err(Fed::WriterGone), Ok(_)) | (Ok(_), Ok(None)) => Err(io_failure((
            "write",
            io::Error::other("the staging writer stopped unexpectedly"),
        ))),
    }
    // On every error path `file` drops here and the staging file is deleted.
}

enum Fed {
    Stage(StageError),
    /// The writer thread hung up: it failed, and its error says why.
    WriterGone,
}

/// Reads the body into blocks for the writer; returns the size.
async fn feed<S, E>(body: S, limit: u64, tx: &mpsc::Sender<Block>) -> Result<u64, Fed>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut body = std::pin::pin!(body);
    let mut size: u64 = 0;
    let mut buf = BytesMut::with_capacity(IO_CHUNK);
    let send = |block: Block| async move { tx.send(block).await.map_err(|_| Fed::WriterGone) };
    while let Some(item) = body.next().await {
        let chunk = item.map_err(|e| Fed::Stage(StageError::Body { source: e.into() }))?;
        size = size.saturating_add(chunk.len() as u64);
        if size > limit {
            return Err(Fed::Stage(StageError::TooLarge { limit }));
        }
        if buf.is_empty() && chunk.len() >= IO_CHUNK {
            send(Block::Data(chunk)).await?;
        } else {
            buf.extend_from_slice(&chunk);
            if buf.len() >= IO_CHUNK {
                let full = std::mem::replace(&mut buf, BytesMut::with_capacity(IO_CHUNK));
                send(Block::Data(full.freeze())).await?;
            }
        }
    }
    if !buf.is_empty() {
        send(Block::Data(buf.freeze())).await?;
    }
    send(Block::Finish).await?;
    Ok(size)
}

/// The writer thread: hashes and writes each block; on `Finish`, `fsync`s and returns the hash.
/// Returns `None` if the sender went away without `Finish` (the upload was abandoned).
fn write_blocks(
    path: &Path,
    mut rx: mpsc::Receiver<Block>,
) -> Result<Option<String>, WriteFailure> {
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| ("create", e))?;
    let mut hasher = Sha256::new();
    while let Some(block) = rx.blocking_recv() {
        match block {
            Block::Data(bytes) => {
                hasher.update(&bytes);
                file.write_all(&bytes).map_err(|e| ("write", e))?;
            }
            Block::Finish => {
                // Durable before anyone can commit it: a blob is never named before its bytes
                // are on disk.
                file.sync_all().map_err(|e| ("sync", e))?;
                return Ok(Some(hex::encode(hasher.finalize())));
            }
        }
    }
    Ok(None)
}
