//! Which file a connection has open, to notice when the path names another one (the file
//! was deleted, or another file was renamed over it) and let go of the old one safely.
//!
//! A connection keeps its file open after the path changes: writing on would store into
//! an unlinked file. So the writer and the dashboard compare the device and inode of the
//! file they opened with the path's, and reopen when they differ.
//!
//! SQLite finds the WAL (`-wal`) and its index (`-shm`) by name, next to the path. After
//! a replacement, those names may still be the *old* file's: a new connection would then
//! read the old file's WAL into the new file. And an old connection that closes last
//! deletes `-wal` and `-shm` by name, which may be the new file's by then. So when a
//! connection lets go of a replaced file, it ([`Opened::let_go`]) marks its WAL
//! persistent (closing deletes nothing by name) and removes the old `-wal` and `-shm`
//! names if they still are the ones it opened. Connections of other processes still on
//! the old file are beyond reach: replace a file only with fmd stopped, or accept that.

use std::path::{Path, PathBuf};

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

/// The identity of `path`'s file now; `None` if there is none.
#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// Without inodes, only a missing file is noticed.
#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<FileId> {
    path.exists().then_some(FileId { dev: 0, ino: 0 })
}

/// `path` with `suffix` appended (`fmd.db` → `fmd.db-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The files a connection opened: the database and its WAL files.
#[derive(Debug)]
pub(crate) struct Opened {
    path: PathBuf,
    db: Option<FileId>,
    wal: Option<FileId>,
    shm: Option<FileId>,
}

impl Opened {
    /// What is at `path` now, just after a connection opened it (and read it, so that its
    /// WAL files exist).
    pub(crate) fn now(path: &Path) -> Opened {
        Opened {
            path: path.to_owned(),
            db: file_id(path),
            wal: file_id(&sibling(path, "-wal")),
            shm: file_id(&sibling(path, "-shm")),
        }
    }

    /// Whether the path names another file than the one opened, or none. Never for an
    /// in-memory database.
    pub(crate) fn replaced(&self) -> bool {
        self.path != Path::new(":memory:") && self.path != Path::new("") && {
            let now = file_id(&self.path);
            now.is_none() || now != self.db
        }
    }

    /// Before `conn` (on this file) closes: if the file was replaced, closing must not
    /// delete `-wal` and `-shm` by name, and the old ones are removed now so the next
    /// connection starts fresh ones.
    pub(crate) fn let_go(&self, conn: &rusqlite::Connection) {
        if !self.replaced() {
            return;
        }
        persist_wal(conn);
        for (suffix, opened) in [("-wal", self.wal), ("-shm", self.shm)] {
            let name = sibling(&self.path, suffix);
            if opened.is_some() && file_id(&name) == opened {
                let _ = std::fs::remove_file(&name);
            }
        }
    }
}

/// Marks `conn`'s WAL persistent: closing it checkpoints into the (old) file it has open
/// but deletes no file by name.
fn persist_wal(conn: &rusqlite::Connection) {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: `handle` is `conn`'s live database handle (borrowed for the call); the
    // file control reads and writes one `int` through the pointer, which outlives the
    // call; "main" is a NUL-terminated schema name.
    unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::ffi::c_int).cast(),
        );
    }
}
