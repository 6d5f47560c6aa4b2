//! Errors of cluster execution. Each names the file or the scheduler command
//! it is about, so that the one line a user sees says what to fix.

use std::path::PathBuf;

/// Everything that can go wrong between writing job scripts and reading the
/// scheduler's answer.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Reading or writing a file of the work directory.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The scheduler's client program could not be started at all.
    #[error("cannot run `{program}` ({source}); is the {scheduler} client installed and on PATH?")]
    NoClient {
        program: String,
        scheduler: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The scheduler's client ran and refused.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// The scheduler's client answered something we cannot read.
    #[error("unexpected output from `{command}`: {output:?}")]
    Parse { command: String, output: String },
    /// An option or input that cannot work (said before anything is submitted).
    #[error("{0}")]
    Invalid(String),
    /// The work directory is not slidescale's, or another run holds it.
    #[error(transparent)]
    WorkDir(#[from] slidescale_core::workdir::WorkDirError),
    /// The look-up table is missing or malformed.
    #[error("look-up table {0}")]
    Lookup(#[from] slidescale_core::lookup::LookupError),
}

impl ClusterError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ClusterError {
        let path = path.into();
        move |source| ClusterError::Io { path, source }
    }
}

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;
