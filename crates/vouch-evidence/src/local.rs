//! The local-disk vault: `<root>/sha256/<2 hex>/<hex>`, read-only files, durable commits.
//!
//! A commit never writes into a blob's final name. The staged file (already complete and
//! `fsync`ed) gets its hash name through `link(2)`, which is atomic and, unlike `rename(2)`,
//! refuses to replace an existing name: two concurrent commits of the same content cannot
//! rewrite each other, and a stored blob, even one altered behind our back, is never replaced.
//! The staged name is then dropped and the shard folder `fsync`ed so the new name survives a
//! crash. A killed process can therefore leave temporary files (in the staging folder or in
//! `<root>/tmp`), never a truncated blob under a hash name.
//!
//! When the staging folder is on another file system (`EXDEV`), the staged file is first copied
//! to `<root>/tmp`, `fsync`ed there, and linked from there. On a file system without hard links,
//! the commit falls back to checking for the name and renaming onto it.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::io_err;
use crate::{
    BlobCheck, BlobReader, IO_CHUNK, ListedBlob, Listing, Staged, VaultError, blob_parts,
    parse_blob_parts,
};

pub(crate) struct LocalVault {
    root: PathBuf,
}

/// Creates `dir` if needed and returns its absolute, canonical form.
pub(crate) fn prepare_dir(dir: &Path, op: &'static str) -> Result<PathBuf, VaultError> {
    fs::create_dir_all(dir).map_err(io_err(op, dir))?;
    fs::canonicalize(dir).map_err(io_err(op, dir))
}

impl LocalVault {
    pub(crate) fn open(root: &Path) -> Result<LocalVault, VaultError> {
        let root = prepare_dir(root, "create the vault folder")?;
        let area = root.join("sha256");
        fs::create_dir_all(&area).map_err(io_err("create the vault folder", &area))?;
        Ok(LocalVault { root })
    }

    pub(crate) fn describe(&self) -> String {
        format!("local:{}", self.root.display())
    }

    fn blob_path(&self, sha256: &str) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(blob_parts(sha256));
        p
    }

    pub(crate) async fn commit(&self, staged: &Staged) -> Result<bool, VaultError> {
        let root = self.root.clone();
        let src = staged.path().to_path_buf();
        let dest = self.blob_path(&staged.sha256);
        blocking(move || place(&root, &src, &dest)).await
    }

    pub(crate) async fn exists(&self, sha256: &str) -> Result<bool, VaultError> {
        let path = self.blob_path(sha256);
        match tokio::fs::symlink_metadata(&path).await {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("look for", path)(e)),
        }
    }

    pub(crate) async fn open_read(&self, sha256: &str) -> Result<BlobReader, VaultError> {
        let path = self.blob_path(sha256);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VaultError::NotFound {
                    sha256: sha256.to_string(),
                    location: path.display().to_string(),
                });
            }
            Err(e) => return Err(io_err("open", path)(e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(io_err("read the size of", &path))?
            .len();
        Ok(BlobReader {
            size,
            stream: Box::pin(tokio_util::io::ReaderStream::with_capacity(file, IO_CHUNK)),
        })
    }

    pub(crate) async fn check(&self, sha256: &str) -> Result<BlobCheck, VaultError> {
        let path = self.blob_path(sha256);
        let expected = sha256.to_string();
        blocking(move || {
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BlobCheck::Missing),
                Err(e) => return Err(io_err("open", &path)(e)),
            };
            let actual = hash_reader(&mut file).map_err(io_err("read", &path))?;
            Ok(if actual == expected {
                BlobCheck::Intact
            } else {
                BlobCheck::Altered {
                    actual_sha256: actual,
                }
            })
        })
        .await
    }

    pub(crate) async fn list(&self) -> Result<Listing, VaultError> {
        let area = self.root.join("sha256");
        blocking(move || list_area(&area)).await
    }

    pub(crate) async fn delete(&self, sha256: &str) -> Result<(), VaultError> {
        let path = self.blob_path(sha256);
        blocking(move || {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io_err("delete", &path)(e)),
            }
            let dir = path.parent().unwrap_or(&path);
            sync_dir(dir).map_err(io_err("sync the folder", dir))
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(join) => Err(VaultError::Io {
            op: "finish a file operation on",
            path: PathBuf::from("the vault"),
            source: io::Error::other(join),
        }),
    }
}

/// Gives the staged file `src` the blob name `dest`; returns whether `dest` already existed
/// (in which case nothing was written).
fn place(root: &Path, src: &Path, dest: &Path) -> Result<bool, VaultError> {
    if fs::symlink_metadata(dest).is_ok() {
        return Ok(true);
    }
    let shard = dest.parent().expect("a blob path has a shard folder");
    ensure_shard(shard)?;
    set_read_only(src).map_err(io_err("make read-only", src))?;
    match fs::hard_link(src, dest) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(true),
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
            if copy_in(root, src, dest)? {
                return Ok(true);
            }
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
            ) =>
        {
            // No hard links here (some network and FAT-like file systems). Check, then rename:
            // the window between the two only matters to a concurrent commit of the same
            // content, whose bytes are identical by construction.
            if fs::symlink_metadata(dest).is_ok() {
                return Ok(true);
            }
            fs::rename(src, dest).map_err(io_err("move the staged file to", dest))?;
        }
        Err(e) => return Err(io_err("link the staged file to", dest)(e)),
    }
    sync_dir(shard).map_err(io_err("sync the folder", shard))?;
    Ok(false)
}

/// The staged file is on another file system: copy it into `<root>/tmp`, make the copy durable,
/// and link it into place from there. Returns whether `dest` already existed.
fn copy_in(root: &Path, src: &Path, dest: &Path) -> Result<bool, VaultError> {
    let tmp_dir = root.join("tmp");
    fs::create_dir_all(&tmp_dir).map_err(io_err("create the folder", &tmp_dir))?;
    let tmp = tmp_dir.join(format!("copy-{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        // `fs::copy` streams in the kernel (copy_file_range / sendfile), never through memory.
        fs::copy(src, &tmp).map_err(io_err("copy the staged file to", &tmp))?;
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err("sync", &tmp))?;
        set_read_only(&tmp).map_err(io_err("make read-only", &tmp))?;
        match fs::hard_link(&tmp, dest) {
            Ok(()) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(true),
            Err(e) => Err(io_err("link the copied file to", dest)(e)),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Creates the shard folder if needed, making its name durable in `sha256/`.
fn ensure_shard(shard: &Path) -> Result<(), VaultError> {
    if shard.is_dir() {
        return Ok(());
    }
    match fs::create_dir(shard) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io_err("create the folder", shard)(e)),
    }
    let area = shard.parent().unwrap_or(shard);
    sync_dir(area).map_err(io_err("sync the folder", area))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Opening a directory read-only and fsyncing it is how POSIX makes a new or removed name
    // durable. Not possible on Windows, where renames are journaled by NTFS instead.
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

fn set_read_only(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o444))
    }
    #[cfg(not(unix))]
    {
        let mut p = fs::metadata(path)?.permissions();
        p.set_readonly(true);
        fs::set_permissions(path, p)
    }
}

/// SHA-256 of everything `r` yields, through a fixed buffer.
fn hash_reader(r: &mut impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; IO_CHUNK];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(hex::encode(hasher.finalize())),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn list_area(area: &Path) -> Result<Listing, VaultError> {
    let mut listing = Listing::default();
    let read = |dir: &Path| -> Result<Vec<fs::DirEntry>, VaultError> {
        fs::read_dir(dir)
            .and_then(|it| it.collect::<io::Result<Vec<_>>>())
            .map_err(io_err("list", dir))
    };
    for shard in read(area)? {
        let shard_name = shard.file_name().to_string_lossy().into_owned();
        let shard_type = shard.file_type().map_err(io_err("inspect", shard.path()))?;
        if !shard_type.is_dir() {
            listing.stray.push(format!("sha256/{shard_name}"));
            continue;
        }
        for entry in read(&shard.path())? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().map_err(io_err("inspect", entry.path()))?;
            match parse_blob_parts(&["sha256", &shard_name, &name]) {
                Some(sha256) if meta.is_file() => listing.blobs.push(ListedBlob {
                    sha256,
                    size: meta.len(),
                }),
                _ => listing.stray.push(format!("sha256/{shard_name}/{name}")),
            }
        }
    }
    listing.blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    listing.stray.sort();
    Ok(listing)
}
