//! The work directory: the one place a run keeps its state (DESIGN §2), and
//! the write-to-temp-then-rename rule that makes every file in it either
//! complete or absent.
//!
//! ```text
//! WORK/.slidescale              marker: slidescale made (or may use) WORK
//! WORK/.lock                    held by the run using WORK
//! WORK/run.json                 the settings results are computed with
//! WORK/NAME.h5                  patch store of slide NAME
//! WORK/lookup.tsv               look-up table of global group ids
//! WORK/stain/METHOD.json        fitted stain target
//! WORK/results/NAME/000001.npy  per-group scores
//! WORK/heatmaps/NAME.npy|.png   stitched heatmap
//! WORK/heatmaps/NAME.json       its sidecar: stride, slide, MPP, model, settings
//! WORK/logs/timing/STAGE/NAME/  timing lines (000001.json, slide.json)
//! WORK/jobs/run-NNN/            generated job scripts of a cluster run
//! ```
//!
//! [`WorkDir`] spells every one of these paths; nothing else does. slidescale
//! writes only into a directory that is its own ([`WorkDir::adopt`]) and
//! removes only what this layout names ([`WorkDir::owned_outputs`]) and the
//! partial files its dead writers left ([`WorkDir::remove_stale_partials`]).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use crate::lookup::LookupTable;
use crate::partial::{
    commit_locked, create_locked_partial, remove_stale_partials_in, remove_stale_partials_of,
};

/// Suffix of a file that is still being written. A file without it is complete.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Paths inside a work directory.
#[derive(Debug, Clone)]
pub struct WorkDir {
    root: PathBuf,
}

impl WorkDir {
    pub fn new(root: impl Into<PathBuf>) -> WorkDir {
        WorkDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn store_path(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.h5"))
    }

    pub fn lookup_path(&self) -> PathBuf {
        self.root.join("lookup.tsv")
    }

    /// `WORK/.slidescale`: its presence says the directory is slidescale's.
    pub fn marker_path(&self) -> PathBuf {
        self.root.join(".slidescale")
    }

    /// `WORK/.lock`, locked by the run using the directory.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// `WORK/run.json`: the settings every result here was computed with.
    pub fn settings_path(&self) -> PathBuf {
        self.root.join("run.json")
    }

    pub fn stain_dir(&self) -> PathBuf {
        self.root.join("stain")
    }

    /// The stain target fitted for `method` (`macenko`, …), cached here.
    pub fn stain_target_path(&self, method: &str) -> PathBuf {
        self.stain_dir().join(format!("{method}.json"))
    }

    /// `WORK/results`, one directory per slide below it.
    pub fn results_root(&self) -> PathBuf {
        self.root.join("results")
    }

    pub fn results_dir(&self, name: &str) -> PathBuf {
        self.results_root().join(name)
    }

    /// Result of group `group` (1-based) of slide `name`.
    pub fn result_path(&self, name: &str, group: u32) -> PathBuf {
        self.results_dir(name)
            .join(format!("{}.npy", group_label(group)))
    }

    pub fn heatmaps_dir(&self) -> PathBuf {
        self.root.join("heatmaps")
    }

    pub fn heatmap_npy(&self, name: &str) -> PathBuf {
        self.heatmaps_dir().join(format!("{name}.npy"))
    }

    pub fn heatmap_png(&self, name: &str) -> PathBuf {
        self.heatmaps_dir().join(format!("{name}.png"))
    }

    /// The heatmap's sidecar, `heatmaps/NAME.json` ([`heatmap_sidecar_path`]).
    pub fn heatmap_meta(&self, name: &str) -> PathBuf {
        heatmap_sidecar_path(&self.heatmap_npy(name))
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// `WORK/logs/timing`, one directory per stage, then per slide.
    pub fn timing_dir(&self) -> PathBuf {
        self.logs_dir().join("timing")
    }

    /// Where the timing lines of `stage` for slide `name` go.
    pub fn timing_slide_dir(&self, stage: &str, name: &str) -> PathBuf {
        self.timing_dir().join(stage).join(name)
    }

    pub fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }

    /// The slide's heatmap (`.npy`, its sidecar `.json` and `.png`) exists
    /// and is no older than its store and any of its `groups` results. The
    /// sidecar and PNG are written after the `.npy`, so a run killed in
    /// between leaves a heatmap without them (and a heatmap stitched by a
    /// slidescale before sidecars has none); a result recomputed after the
    /// last stitch is newer than the heatmap. Both executors restitch a slide
    /// when this is false.
    pub fn heatmap_up_to_date(&self, name: &str, groups: u32) -> bool {
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let (Some(stitched), Some(_), Some(_)) = (
            modified(&self.heatmap_npy(name)),
            modified(&self.heatmap_meta(name)),
            modified(&self.heatmap_png(name)),
        ) else {
            return false;
        };
        let newer = |p: &Path| modified(p).is_none_or(|t| t > stitched);
        !newer(&self.store_path(name)) && !(1..=groups).any(|g| newer(&self.result_path(name, g)))
    }

    /// Names of the slides whose complete store is in this directory, sorted.
    pub fn store_names(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let path = entry?.path();
            if path.extension() == Some(OsStr::new("h5")) && path.is_file() {
                if let Some(stem) = path.file_stem().and_then(OsStr::to_str) {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Names of the slides with a stitched heatmap (`heatmaps/NAME.npy`),
    /// sorted; none when the directory has no `heatmaps/`.
    pub fn heatmap_names(&self) -> io::Result<Vec<String>> {
        let dir = self.heatmaps_dir();
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension() == Some(OsStr::new("npy")) && path.is_file() {
                if let Some(stem) = path.file_stem().and_then(OsStr::to_str) {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }
}

/// What the marker file says, for a person who finds it.
const MARKER_TEXT: &str = "slidescale work directory: slidescale writes here and removes only \
what it wrote (docs/architecture.md)\n";

/// Stages that write timing lines (`WORK/logs/timing/STAGE/…`).
const TIMING_STAGES: [&str; 3] = ["split", "process", "stitch"];

/// Why a work directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkDirError {
    #[error(
        "{0} is not empty and is not a slidescale work directory (it has no .slidescale file): \
         choose a new or empty --out, or add --allow-nonempty-out to use it \
         (slidescale then touches only files it writes)"
    )]
    Foreign(PathBuf),
    #[error("another slidescale run is using {0} (lock file {0}/.lock)")]
    Locked(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> WorkDirError + '_ {
    move |source| WorkDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The exclusive lock on `WORK/.lock`; released when the last guard of it in
/// this process goes.
#[derive(Debug, Clone)]
pub struct WorkDirLock {
    _file: Arc<File>,
}

/// Work directories this process holds the lock of (canonical root → lock),
/// so a caller that claimed a directory and the runner it then calls share
/// one lock instead of locking each other out.
static HELD: Mutex<Vec<(PathBuf, Weak<File>)>> = Mutex::new(Vec::new());

impl WorkDir {
    /// Make sure this directory is slidescale's to write into, creating it
    /// when missing: a directory with the marker, or an empty one (which
    /// gets the marker), is; a non-empty one without it is refused
    /// ([`WorkDirError::Foreign`]) unless `allow_nonempty`, which marks it.
    /// Every command that writes into `--out` calls this first.
    pub fn adopt(&self, allow_nonempty: bool) -> Result<(), WorkDirError> {
        fs::create_dir_all(&self.root).map_err(io_at(&self.root))?;
        let marker = self.marker_path();
        let nonempty = fs::read_dir(&self.root)
            .map_err(io_at(&self.root))?
            .next()
            .is_some();
        // Looked for after the listing: the marker is the first file any
        // slidescale creates here, so whatever the listing saw (another
        // run's marker or lock, made in the instant between) is ours when
        // the marker exists now.
        if marker.is_file() {
            return Ok(());
        }
        if nonempty && !allow_nonempty {
            return Err(WorkDirError::Foreign(self.root.clone()));
        }
        // Created exclusively and never rewritten: two processes adopting an
        // empty directory at once both succeed, and only its existence counts.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
        {
            Ok(mut f) => f
                .write_all(MARKER_TEXT.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io_at(&marker)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io_at(&marker)(e)),
        }
    }

    /// Take the exclusive lock on `WORK/.lock`, or [`WorkDirError::Locked`]
    /// when another process holds it. Within one process a second call for
    /// the same directory returns the lock already held.
    pub fn lock(&self) -> Result<WorkDirLock, WorkDirError> {
        let key = fs::canonicalize(&self.root).map_err(io_at(&self.root))?;
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|(_, lock)| lock.strong_count() > 0);
        if let Some(file) = held
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, l)| l.upgrade())
        {
            return Ok(WorkDirLock { _file: file });
        }
        let path = self.lock_path();
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_at(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(WorkDirError::Locked(self.root.clone()))
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_at(&path)(e)),
        }
        let file = Arc::new(file);
        held.push((key, Arc::downgrade(&file)));
        Ok(WorkDirLock { _file: file })
    }

    /// Every slide this directory may hold outputs of: `slides`, the
    /// complete stores here and the slides `lookup.tsv` lists.
    fn known_slides(&self, slides: &[String]) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = slides.iter().cloned().collect();
        names.extend(self.store_names().unwrap_or_default());
        if let Ok(table) = LookupTable::read(&self.lookup_path()) {
            names.extend(table.rows().iter().map(|r| r.name.clone()));
        }
        names
    }

    /// The files under their final names that slidescale wrote here and a
    /// fresh start (`--force`) of a run of `slides` discards: `run.json`,
    /// `lookup.tsv`, the stores of `slides`, and of every slide the
    /// directory knows its results (`results/NAME/NNNNNN.npy`), heatmap
    /// (`heatmaps/NAME.npy|.json|.png`) and timing lines. Only names this layout
    /// gives: any other file, in any of these directories, is not listed.
    pub fn owned_outputs(&self, slides: &[String]) -> io::Result<Vec<PathBuf>> {
        let mut out = vec![self.settings_path(), self.lookup_path()];
        out.extend(slides.iter().map(|n| self.store_path(n)));
        for name in self.known_slides(slides) {
            out.extend([
                self.heatmap_npy(&name),
                self.heatmap_meta(&name),
                self.heatmap_png(&name),
            ]);
            out.extend(files_named(&self.results_dir(&name), is_result_name)?);
            for stage in TIMING_STAGES {
                let dir = self.timing_slide_dir(stage, &name);
                out.extend(files_named(&dir, is_timing_name)?);
            }
        }
        out.retain(|p| p.is_file());
        Ok(out)
    }

    /// Remove [`WorkDir::owned_outputs`], then the per-slide directories
    /// that left empty. Returns how many files were removed.
    pub fn remove_owned_outputs(&self, slides: &[String]) -> io::Result<u64> {
        let known = self.known_slides(slides); // before lookup.tsv goes
        let files = self.owned_outputs(slides)?;
        for f in &files {
            fs::remove_file(f)?;
        }
        for dir in self.per_slide_dirs(&known) {
            let _ = fs::remove_dir(dir); // only when empty: nothing else is lost
        }
        Ok(files.len() as u64)
    }

    /// Remove the partial files slidescale writers left when they died
    /// ([`crate::partial`]), in each directory it writes them in: the root,
    /// `stain/`, `heatmaps/`, and the results and timing directories of the
    /// slides `slides` and those the directory knows. Never recursive,
    /// never another program's file, never a live writer's.
    pub fn remove_stale_partials(&self, slides: &[String]) -> io::Result<u64> {
        let mut dirs = vec![self.root.clone(), self.stain_dir(), self.heatmaps_dir()];
        dirs.extend(self.per_slide_dirs(&self.known_slides(slides)));
        let mut removed = 0;
        for dir in dirs {
            removed += remove_stale_partials_in(&dir)?;
        }
        Ok(removed)
    }

    /// Remove the partial stores of `slides` only (`NAME.h5.<pid>.partial`)
    /// that dead writers left: what `split` clears, which may run beside
    /// the split tasks of other slides on other hosts.
    pub fn remove_stale_store_partials(&self, slides: &[String]) -> io::Result<u64> {
        let stores: BTreeSet<String> = slides.iter().map(|n| format!("{n}.h5")).collect();
        remove_stale_partials_of(&self.root, |f| stores.contains(f))
    }

    /// The results and timing directories of `names`.
    fn per_slide_dirs(&self, names: &BTreeSet<String>) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for name in names {
            dirs.push(self.results_dir(name));
            dirs.extend(TIMING_STAGES.iter().map(|s| self.timing_slide_dir(s, name)));
        }
        dirs
    }
}

/// `NNNNNN.npy`: a group result's file name.
fn is_result_name(name: &str) -> bool {
    name.strip_suffix(".npy").is_some_and(is_group_label)
}

/// `NNNNNN.json` or `slide.json`: a timing line's file name.
fn is_timing_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|t| t == "slide" || is_group_label(t))
}

fn is_group_label(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Files directly in `dir` whose names pass `keep`; none when `dir` is missing.
fn files_named(dir: &Path, keep: fn(&str) -> bool) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.file_name().to_str().is_some_and(keep) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// Zero-padded label of a 1-based group id, as used in HDF5 group names and
/// result file names: 7 → "000007".
pub fn group_label(group: u32) -> String {
    format!("{group:06}")
}

/// The slide's name: its file name without the last extension.
pub fn slide_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The sidecar of the heatmap `npy` (`NAME.npy` → `NAME.json` beside it),
/// which describes it: the one rule for where a heatmap's description is.
pub fn heatmap_sidecar_path(npy: &Path) -> PathBuf {
    npy.with_extension("json")
}

/// The temporary name a file is written under before it is renamed into place.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(PARTIAL_SUFFIX);
    PathBuf::from(s)
}

/// A temporary name for `path` private to this process (`PATH.<pid>.partial`),
/// so two processes writing the same file (a task run twice by a scheduler)
/// never write into one temporary file.
pub fn unique_partial_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{}", std::process::id()));
    partial_path(Path::new(&s))
}

/// Make `partial` durable and give it its final name: fsync the file, rename
/// it over `path`, fsync the directory. After this returns, `path` is complete
/// even if the machine loses power; before it, `path` is untouched.
pub fn commit_partial(partial: &Path, path: &Path) -> io::Result<()> {
    File::open(partial)?.sync_all()?;
    fs::rename(partial, path)?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Create the directory `path` goes in, if it has one and it is missing.
pub fn create_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Write `bytes` to `path` atomically (temp name, fsync, rename).
/// The writer holds the partial file's lock through the rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_parent_dir(path)?;
    let partial = unique_partial_path(path);
    let mut file = create_locked_partial(&partial)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| commit_locked(&file, &partial, path));
    if written.is_err() {
        let _ = fs::remove_file(&partial);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_design() {
        let w = WorkDir::new("/w");
        assert_eq!(w.store_path("a b"), PathBuf::from("/w/a b.h5"));
        assert_eq!(
            w.result_path("s", 7),
            PathBuf::from("/w/results/s/000007.npy")
        );
        assert_eq!(w.heatmap_png("s"), PathBuf::from("/w/heatmaps/s.png"));
        assert_eq!(w.heatmap_meta("s"), PathBuf::from("/w/heatmaps/s.json"));
        assert_eq!(slide_name(Path::new("/x/CMU-1.svs")), "CMU-1");
        assert_eq!(
            partial_path(Path::new("/w/s.h5")),
            PathBuf::from("/w/s.h5.partial")
        );
    }

    #[test]
    fn unique_partial_names_carry_the_pid() {
        let p = unique_partial_path(Path::new("/w/heatmaps/s.png"));
        let expected = format!("/w/heatmaps/s.png.{}.partial", std::process::id());
        assert_eq!(p, PathBuf::from(expected));
    }

    #[test]
    fn write_atomic_leaves_only_the_final_file() {
        let dir = std::env::temp_dir().join(format!("slidescale-core-{}", std::process::id()));
        let path = dir.join("sub/x.npy");
        write_atomic(&path, b"abc").unwrap();
        write_atomic(&path, b"defg").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"defg");
        let names: Vec<_> = fs::read_dir(dir.join("sub")).unwrap().collect();
        assert_eq!(names.len(), 1);
        fs::remove_dir_all(dir).unwrap();
    }

    fn temp(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ss-workdir-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_foreign_directory_is_refused_unless_allowed() {
        let root = temp("adopt");
        let w = WorkDir::new(&root);
        w.adopt(false).unwrap(); // missing: created and marked
        assert!(w.marker_path().is_file());
        w.adopt(false).unwrap();
        let foreign = WorkDir::new(root.join("proj"));
        fs::create_dir_all(foreign.root().join("downloads")).unwrap();
        let err = foreign.adopt(false).unwrap_err();
        assert!(matches!(err, WorkDirError::Foreign(_)), "{err}");
        assert!(err.to_string().contains("--allow-nonempty-out"));
        assert!(!foreign.marker_path().exists());
        foreign.adopt(true).unwrap();
        foreign.adopt(false).unwrap(); // marked now
        fs::remove_dir_all(root).unwrap();
    }

    /// Runs started together on one new `--out` all adopt it: none may
    /// take another's fresh marker for a foreign file (fault suite, race).
    #[test]
    fn runs_adopting_a_new_directory_at_once_all_succeed() {
        let root = temp("adopt-race");
        for round in 0..200 {
            let w = WorkDir::new(root.join(round.to_string()));
            let barrier = std::sync::Barrier::new(4);
            std::thread::scope(|s| {
                let adopters: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            w.adopt(false)?;
                            // Its .lock is another file the others may list.
                            // Held by another at that instant is a fair refusal.
                            match w.lock() {
                                Ok(_) | Err(WorkDirError::Locked(_)) => Ok(()),
                                Err(e) => Err(e),
                            }
                        })
                    })
                    .collect();
                for a in adopters {
                    a.join().unwrap().unwrap();
                }
            });
        }
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_lock_is_shared_in_process_and_freed_with_its_last_guard() {
        let root = temp("lock");
        let w = WorkDir::new(&root);
        w.adopt(false).unwrap();
        let first = w.lock().unwrap();
        let second = WorkDir::new(root.join(".")).lock().unwrap();
        // Another open file of .lock (as another process would have) is refused.
        let other = File::open(w.lock_path()).unwrap();
        assert!(other.try_lock().is_err());
        drop(first);
        assert!(other.try_lock().is_err());
        drop(second);
        other.try_lock().unwrap();
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn owned_outputs_name_only_what_the_layout_gives() {
        let root = temp("owned");
        let w = WorkDir::new(&root);
        let put = |p: PathBuf| {
            create_parent_dir(&p).unwrap();
            fs::write(&p, b"x").unwrap();
            p
        };
        let ours = [
            put(w.settings_path()),
            put(w.store_path("a")),
            put(w.result_path("a", 1)),
            put(w.result_path("old", 2)), // a slide lookup.tsv lists
            put(w.heatmap_png("a")),
            put(w.heatmap_meta("a")),
            put(w.timing_slide_dir("process", "a").join("000001.json")),
            put(w.timing_slide_dir("stitch", "a").join("slide.json")),
        ];
        fs::write(w.lookup_path(), "start\tend\tname\n1\t2\told\n").unwrap();
        let theirs = [
            put(w.results_root().join("important.csv")),
            put(w.results_dir("a").join("notes.txt")),
            put(w.heatmaps_dir().join("figure1.png")),
            put(w.store_path("other")), // a store, but not of this run's slides
            put(w.root().join("downloads/x.iso.partial")),
        ];
        let mut listed = w.owned_outputs(&["a".into()]).unwrap();
        listed.sort();
        let mut expected: Vec<PathBuf> = ours.to_vec();
        expected.push(w.lookup_path());
        expected.sort();
        assert_eq!(listed, expected);
        assert!(
            w.heatmap_names().unwrap().is_empty(),
            "PNGs and sidecars are not heatmaps"
        );
        put(w.heatmap_npy("b"));
        put(w.heatmaps_dir().join("a.npy.123.partial"));
        assert_eq!(w.heatmap_names().unwrap(), ["b"]);
        fs::remove_file(w.heatmap_npy("b")).unwrap();
        assert_eq!(w.remove_owned_outputs(&["a".into()]).unwrap(), 9);
        for f in &theirs {
            assert!(f.is_file(), "{} removed", f.display());
        }
        assert!(!w.results_dir("old").exists()); // emptied, so removed
        assert!(w.results_dir("a").exists()); // still holds notes.txt
        fs::remove_dir_all(root).unwrap();
    }
}
