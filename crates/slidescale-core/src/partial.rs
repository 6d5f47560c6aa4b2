//! Partial files a writer holds, and the one rule for removing the ones a
//! dead writer left.
//!
//! Every slidescale writer writes `FINAL.<pid>.partial` (see
//! [`unique_partial_path`]): the name is private to one process, so no two
//! writers ever share a temporary file, and a rename publishes only the file
//! its writer wrote. The writer holds an exclusive `flock` on it from creation
//! until after the rename ([`create_locked_partial`], [`commit_locked`]).
//! A partial file is left over — its writer provably gone — when it has that
//! naming, nobody holds its lock, and no process with its pid is alive on
//! this host ([`writer_gone`]); only such files are ever removed, and only
//! in the directories slidescale writes them in (never recursively).
//!
//! [`unique_partial_path`]: crate::workdir::unique_partial_path

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::workdir::PARTIAL_SUFFIX;

/// Create the partial file `partial` (a [`crate::workdir::unique_partial_path`]
/// name) empty and take an exclusive lock on it, held while the returned
/// file is open. Fails with `WouldBlock` when another open file of this
/// process already holds it.
pub fn create_locked_partial(partial: &Path) -> io::Result<File> {
    // Not truncated before the lock is ours: a second handle on a file
    // someone holds must not empty it under them.
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(partial)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is held by another writer", partial.display()),
            ))
        }
        Err(TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    Ok(file)
}

/// Publish the partial file `file` (open, locked, at `partial`) as `path`:
/// check that `partial` still names this very file (commit by handle: never
/// rename a file someone else put there), fsync it, rename it, fsync the
/// directory. The caller keeps `file` — and so the lock — until this returns.
pub fn commit_locked(file: &File, partial: &Path, path: &Path) -> io::Result<()> {
    let ours = file.metadata()?;
    let there = fs::symlink_metadata(partial)?;
    if (ours.dev(), ours.ino()) != (there.dev(), there.ino()) {
        return Err(io::Error::other(format!(
            "{} was replaced while it was written; not publishing it",
            partial.display()
        )));
    }
    file.sync_all()?;
    fs::rename(partial, path)?;
    sync_parent(path)
}

/// fsync the directory `path` is in, so a rename into it is durable.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// The pid in a slidescale partial name (`FINAL.<pid>.partial`), or `None`
/// for any other name — other people's `x.iso.partial` included.
pub fn partial_writer_pid(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_suffix(PARTIAL_SUFFIX)?;
    let (before, pid) = stem.rsplit_once('.')?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if !digits || before.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether a process with this pid is alive on this host.
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The lock on a left-over partial file, or `None` while its writer lives
/// (its lock is held, or its pid is alive here: a writer between creating
/// and locking its file, or one that closes before the rename).
fn writer_gone(path: &Path, pid: u32) -> io::Result<Option<File>> {
    if pid_alive(pid) {
        return Ok(None);
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Remove the partial files in `dir` (not below it) that a slidescale writer
/// left when it died; everything else is left alone. A missing `dir` has
/// none. Returns how many were removed.
pub fn remove_stale_partials_in(dir: &Path) -> io::Result<u64> {
    remove_stale_partials_of(dir, |_| true)
}

/// [`remove_stale_partials_in`], for the partial files of the final names
/// `wanted` accepts only (`s.h5` for `s.h5.123.partial`).
pub fn remove_stale_partials_of(dir: &Path, wanted: impl Fn(&str) -> bool) -> io::Result<u64> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(pid) = partial_writer_pid(name) else {
            continue;
        };
        let final_name = name[..name.len() - PARTIAL_SUFFIX.len()]
            .rsplit_once('.')
            .map_or("", |(f, _)| f);
        if !wanted(final_name) {
            continue;
        }
        let path = entry.path();
        if let Some(_held) = writer_gone(&path, pid)? {
            // Removed while holding its lock: no writer can take it between.
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workdir::unique_partial_path;
    use std::io::Write;

    fn temp(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ss-partial-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A pid no process has: above the kernel's pid_max (at most 2^22).
    const DEAD_PID: u32 = 99_999_999;

    #[test]
    fn only_slidescale_names_carry_a_writer() {
        assert_eq!(partial_writer_pid("s.h5.123.partial"), Some(123));
        assert_eq!(partial_writer_pid("x.iso.partial"), None);
        assert_eq!(partial_writer_pid("x.partial"), None);
        assert_eq!(partial_writer_pid(".7.partial"), None);
        assert_eq!(partial_writer_pid("a.12b.partial"), None);
        assert_eq!(partial_writer_pid("a.1.partial.txt"), None);
    }

    #[test]
    fn sweep_removes_only_what_a_dead_writer_left() {
        let dir = temp("sweep");
        let dead = dir.join(format!("s.h5.{DEAD_PID}.partial"));
        let foreign = dir.join("x.iso.partial");
        fs::write(&dead, b"half").unwrap();
        fs::write(&foreign, b"someone else's").unwrap();
        fs::create_dir(dir.join("sub")).unwrap();
        let below = dir.join(format!("sub/t.npy.{DEAD_PID}.partial"));
        fs::write(&below, b"not swept: below dir").unwrap();
        // Ours, alive (this process): kept though unlocked.
        let alive = unique_partial_path(&dir.join("a.npy"));
        fs::write(&alive, b"alive").unwrap();
        // A dead pid's name but locked by a live writer (pid reused elsewhere,
        // another host): kept.
        let locked_path = dir.join(format!("b.npy.{}.partial", DEAD_PID - 1));
        let held = create_locked_partial(&locked_path).unwrap();

        assert_eq!(remove_stale_partials_in(&dir).unwrap(), 1);
        assert!(!dead.exists());
        for kept in [&foreign, &below, &alive, &locked_path] {
            assert!(kept.exists(), "{} removed", kept.display());
        }
        drop(held);
        assert_eq!(remove_stale_partials_in(&dir).unwrap(), 1);
        assert!(!locked_path.exists());
        assert_eq!(remove_stale_partials_in(&dir.join("missing")).unwrap(), 0);
        let (mine, other) = (
            dir.join(format!("m.h5.{DEAD_PID}.partial")),
            dir.join(format!("o.h5.{DEAD_PID}.partial")),
        );
        fs::write(&mine, b"").unwrap();
        fs::write(&other, b"").unwrap();
        assert_eq!(remove_stale_partials_of(&dir, |f| f == "m.h5").unwrap(), 1);
        assert!(!mine.exists() && other.exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_held_partial_cannot_be_taken_twice_nor_emptied() {
        let dir = temp("held");
        let p = unique_partial_path(&dir.join("s.h5"));
        let mut first = create_locked_partial(&p).unwrap();
        first.write_all(b"data").unwrap();
        let second = create_locked_partial(&p).unwrap_err();
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(fs::read(&p).unwrap(), b"data");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn commit_publishes_only_the_file_its_writer_holds() {
        let dir = temp("commit");
        let (p, fin) = (dir.join("s.h5.1.partial"), dir.join("s.h5"));
        let mut mine = create_locked_partial(&p).unwrap();
        mine.write_all(b"mine").unwrap();
        // Someone replaces the partial name with another file.
        fs::remove_file(&p).unwrap();
        fs::write(&p, b"other").unwrap();
        assert!(commit_locked(&mine, &p, &fin).is_err());
        assert!(!fin.exists());
        let q = dir.join("t.h5.1.partial");
        let mut good = create_locked_partial(&q).unwrap();
        good.write_all(b"ok").unwrap();
        commit_locked(&good, &q, &dir.join("t.h5")).unwrap();
        assert_eq!(fs::read(dir.join("t.h5")).unwrap(), b"ok");
        fs::remove_dir_all(dir).unwrap();
    }
}
