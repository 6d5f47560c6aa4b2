//! Which OpenSlide library this process uses: found and loaded at run time,
//! as ONNX Runtime is, so one binary works with Debian's OpenSlide 3.4.1 and
//! with OpenSlide 4 (DICOM) from the `openslide-bin` wheel. Search order,
//! first hit wins:
//!
//! 1. the CLI's `--openslide PATH` ([`use_library`]);
//! 2. `$SLIDESCALE_OPENSLIDE`;
//! 3. slidescale's install location, `$SLIDESCALE_HOME/lib/libopenslide.so.1`
//!    (default `~/.local/share/slidescale/lib/`, filled by `scripts/setup.sh`
//!    from the `openslide-bin` wheel);
//! 4. the system's `libopenslide.so.0` (the dynamic linker's search).
//!
//! A path asked for (1, 2) that does not exist is an error, not skipped; a
//! library found that cannot be loaded, or lacks a function, is an error
//! naming its path, never a silent fall-back to the next place.

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::ffi::Api;
use crate::SlideError;

/// The environment variable naming the library (step 2).
pub const ENV_VAR: &str = "SLIDESCALE_OPENSLIDE";
/// The file name in slidescale's install location (the wheel's, OpenSlide 4's soname).
pub const INSTALL_NAME: &str = "libopenslide.so.1";
/// The system library's soname (Debian's libopenslide0, OpenSlide 3.4).
pub const SYSTEM_NAME: &str = "libopenslide.so.0";
/// The `openslide-bin` wheel `scripts/setup.sh` installs and the tests use.
pub const WHEEL_VERSION: &str = "4.0.1.2";

/// Where the library in use was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibrarySource {
    /// `--openslide PATH`.
    Flag,
    /// `$SLIDESCALE_OPENSLIDE`.
    Env,
    /// `$SLIDESCALE_HOME/lib`.
    Install,
    /// The system's `libopenslide.so.0`.
    System,
}

impl LibrarySource {
    /// The name printed by `--version` and recorded with results.
    pub fn as_str(self) -> &'static str {
        match self {
            LibrarySource::Flag => "--openslide",
            LibrarySource::Env => ENV_VAR,
            LibrarySource::Install => "slidescale install location",
            LibrarySource::System => "system",
        }
    }
}

impl std::fmt::Display for LibrarySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One place searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// A file, or for [`LibrarySource::System`] the soname the dynamic
    /// linker resolves.
    pub path: PathBuf,
    pub source: LibrarySource,
}

/// A loaded OpenSlide library.
pub struct OpenSlideLibrary {
    path: PathBuf,
    version: String,
    source: LibrarySource,
    pub(super) api: Api,
    // Kept loaded for the life of the process: `api` points into it.
    _lib: libloading::Library,
}

impl OpenSlideLibrary {
    /// The file loaded (for the system library, the file the dynamic linker
    /// chose, e.g. `/lib/x86_64-linux-gnu/libopenslide.so.0`).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// `openslide_get_version()`, e.g. "3.4.1" or "4.0.1".
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn source(&self) -> LibrarySource {
        self.source
    }
}

impl std::fmt::Debug for OpenSlideLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSlideLibrary")
            .field("path", &self.path)
            .field("version", &self.version)
            .field("source", &self.source)
            .finish()
    }
}

static EXPLICIT: OnceLock<PathBuf> = OnceLock::new();
static LIBRARY: OnceLock<Result<OpenSlideLibrary, (PathBuf, String)>> = OnceLock::new();

/// Use `path` (the CLI's `--openslide`) ahead of every other place. Call it
/// before the first slide is opened; the first call wins.
pub fn use_library(path: PathBuf) {
    let _ = EXPLICIT.set(path);
}

/// The library [`use_library`] named, if any: what a cluster run passes on
/// to its tasks (the job spec records it), so they load the same one.
pub fn explicit_library() -> Option<&'static Path> {
    EXPLICIT.get().map(PathBuf::as_path)
}

/// The places searched, in order, for an optional explicit path.
pub fn candidates(explicit: Option<&Path>) -> Vec<Candidate> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(Candidate {
            path: p.to_path_buf(),
            source: LibrarySource::Flag,
        });
    }
    if let Some(p) = std::env::var_os(ENV_VAR).filter(|p| !p.is_empty()) {
        out.push(Candidate {
            path: PathBuf::from(p),
            source: LibrarySource::Env,
        });
    }
    if let Some(dir) = slidescale_core::install::install_dir() {
        out.push(Candidate {
            path: dir.join(INSTALL_NAME),
            source: LibrarySource::Install,
        });
    }
    out.push(Candidate {
        path: PathBuf::from(SYSTEM_NAME),
        source: LibrarySource::System,
    });
    out
}

/// The candidate to load: the first that exists (the system soname is left
/// to the dynamic linker). A path asked for that is missing is an error.
pub fn find(explicit: Option<&Path>) -> Result<Candidate, SlideError> {
    for c in candidates(explicit) {
        match c.source {
            LibrarySource::System => return Ok(c),
            _ if c.path.is_file() => return Ok(c),
            LibrarySource::Flag | LibrarySource::Env => {
                return Err(SlideError::Library {
                    reason: format!("does not exist (from {}). {}", c.source, how_to_install()),
                    path: c.path,
                })
            }
            LibrarySource::Install => {}
        }
    }
    unreachable!("the system soname is always a candidate")
}

/// Load `c` and resolve every function the driver calls.
pub fn load(c: &Candidate) -> Result<OpenSlideLibrary, SlideError> {
    let fail = |reason: String| SlideError::Library {
        path: c.path.clone(),
        reason: format!("{reason} (from {})", c.source),
    };
    // SAFETY: loading runs the library's initialisers; OpenSlide's (and its
    // bundled dependencies') are ordinary library set-up.
    let lib = unsafe { libloading::Library::new(c.path.as_os_str()) }.map_err(|e| {
        let hint = match c.source {
            LibrarySource::System => format!(". {}", how_to_install()),
            _ => String::new(),
        };
        fail(format!("cannot be loaded: {e}{hint}"))
    })?;
    // SAFETY: an OpenSlide library exports these names with the signatures
    // of openslide.h (checked by name only, as any C caller would).
    let api = unsafe { Api::resolve(&lib) }.map_err(fail)?;
    // SAFETY: returns a static NUL-terminated string.
    let version = unsafe { c_str((api.openslide_get_version)()) }
        .ok_or_else(|| fail("openslide_get_version returned NULL".into()))?;
    let path = match c.source {
        LibrarySource::System => {
            loaded_file(api.openslide_get_version as *const _).unwrap_or_else(|| c.path.clone())
        }
        _ => c.path.clone(),
    };
    Ok(OpenSlideLibrary {
        path,
        version,
        source: c.source,
        api,
        _lib: lib,
    })
}

/// The OpenSlide library of this process, found ([`find`]) and loaded
/// ([`load`]) on first use; the same result every time after.
pub fn library() -> Result<&'static OpenSlideLibrary, SlideError> {
    let loaded = LIBRARY.get_or_init(|| {
        find(EXPLICIT.get().map(PathBuf::as_path))
            .and_then(|c| load(&c))
            .map_err(|e| match e {
                SlideError::Library { path, reason } => (path, reason),
                other => (PathBuf::new(), other.to_string()),
            })
    });
    loaded
        .as_ref()
        .map_err(|(path, reason)| SlideError::Library {
            path: path.clone(),
            reason: reason.clone(),
        })
}

/// The exact instructions given when no usable library is found.
pub fn how_to_install() -> String {
    let dest = slidescale_core::install::install_dir()
        .map(|d| d.join(INSTALL_NAME).display().to_string())
        .unwrap_or_else(|| format!("$SLIDESCALE_HOME/lib/{INSTALL_NAME}"));
    format!(
        "To fix: run scripts/setup.sh (installs OpenSlide 4 from openslide-bin=={WHEEL_VERSION} \
         at {dest}), or set {ENV_VAR} (or pass --openslide) to a libopenslide.so"
    )
}

/// The file the dynamic linker loaded the code at `addr` from.
fn loaded_file(addr: *const libc::c_void) -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables; `info` is local.
    if unsafe { libc::dladdr(addr, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let name = unsafe { CStr::from_ptr(info.dli_fname) };
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes())))
}

/// Copy a C string owned by OpenSlide; `None` for NULL.
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
pub(super) unsafe fn c_str(p: *const std::os::raw::c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_comes_first_and_system_last() {
        let c = candidates(Some(Path::new("/x/libopenslide.so")));
        assert_eq!(c[0].path, PathBuf::from("/x/libopenslide.so"));
        assert_eq!(c[0].source, LibrarySource::Flag);
        let last = c.last().unwrap();
        assert_eq!(
            (last.path.as_path(), last.source),
            (Path::new(SYSTEM_NAME), LibrarySource::System)
        );
    }

    #[test]
    fn explicit_missing_path_is_an_error_naming_it_and_the_fix() {
        let e = find(Some(Path::new("/nonexistent/libopenslide.so.1"))).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/nonexistent/libopenslide.so.1"), "{msg}");
        assert!(msg.contains("--openslide"), "{msg}");
        assert!(msg.contains("scripts/setup.sh"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }

    #[test]
    fn a_file_that_is_not_a_library_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("os-lib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bogus = dir.join("libopenslide.so.1");
        std::fs::write(&bogus, b"not an ELF file").unwrap();
        let c = Candidate {
            path: bogus.clone(),
            source: LibrarySource::Env,
        };
        let msg = load(&c).unwrap_err().to_string();
        assert!(
            msg.starts_with(&format!("OpenSlide library {}", bogus.display())),
            "{msg}"
        );
        assert!(msg.contains("cannot be loaded"), "{msg}");
        assert!(msg.contains(ENV_VAR), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_library_without_openslide_functions_is_an_error_naming_the_symbol() {
        // libm is a real shared library that is not OpenSlide.
        let c = Candidate {
            path: PathBuf::from("libm.so.6"),
            source: LibrarySource::Flag,
        };
        let msg = load(&c).unwrap_err().to_string();
        assert!(
            msg.starts_with("OpenSlide library libm.so.6: lacks symbol openslide_open"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "{msg}");
    }
}
