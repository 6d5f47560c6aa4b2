//! The work directory: the one place a run keeps its state (DESIGN §2), and
//! the write-to-temp-then-rename rule that makes every file in it either
//! complete or absent.
//!
//! ```text
//! WORK/NAME.h5                  patch store of slide NAME
//! WORK/lookup.tsv               look-up table of global group ids
//! WORK/results/NAME/000001.npy  per-group scores
//! WORK/heatmaps/NAME.npy|.png   stitched heatmap
//! WORK/logs/  WORK/jobs/        timing lines, generated job scripts
//! ```

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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

    pub fn results_dir(&self, name: &str) -> PathBuf {
        self.root.join("results").join(name)
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

    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }

    /// The slide's heatmap (`.npy` and `.png`) exists and is no older than
    /// its store and any of its `groups` results. The PNG is written after
    /// the `.npy`, so a run killed in between leaves a heatmap without its
    /// PNG; and a result recomputed after the last stitch is newer than the
    /// heatmap. Both executors restitch a slide when this is false.
    pub fn heatmap_up_to_date(&self, name: &str, groups: u32) -> bool {
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let (Some(stitched), Some(_)) = (
            modified(&self.heatmap_npy(name)),
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
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create_parent_dir(path)?;
    let partial = unique_partial_path(path);
    let mut file = File::create(&partial)?;
    file.write_all(bytes)?;
    drop(file);
    commit_partial(&partial, path)
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
}
