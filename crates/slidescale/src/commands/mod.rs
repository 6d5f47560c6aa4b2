//! One module per subcommand: its arguments and a `run` that returns the
//! process exit status.

pub mod batch;
pub mod batch_status;
pub mod check_fast;
pub mod cluster;
pub mod detect;
pub mod eval_args;
pub mod eval_output;
pub mod evaluate;
pub mod export;
pub mod infer_args;
pub mod model_args;
pub mod plan;
pub mod process;
pub mod quantize;
pub mod report;
pub mod run;
pub mod run_progress;
pub mod simulate;
pub mod split;
pub mod stain_args;
pub mod status;
pub mod status_view;
pub mod stitch;
pub mod submit_groups;
pub mod task;
pub mod version;

use slidescale_core::exit;

/// Exit status for an error that reached `main`: errors that carry a
/// [`Classified`] status keep it; a full disk anywhere in the chain is
/// transient; everything else is a plain failure.
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Classified>())
        .map(|c| c.0)
        .unwrap_or_else(|| {
            let full = err.chain().any(exit::storage_full);
            if full {
                exit::TRANSIENT
            } else {
                exit::FAILURE
            }
        })
}

/// The error's causes on one line, without the [`Classified`] marker; a
/// full disk says so.
pub fn one_line(err: &anyhow::Error) -> String {
    let line = err
        .chain()
        .filter(|e| e.downcast_ref::<Classified>().is_none())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    if err.chain().any(exit::storage_full) {
        format!("{line} ({})", exit::DISK_FULL)
    } else {
        line
    }
}

/// `message` about `err`, with the disk-full hint when that is the cause.
pub fn explain(message: String, err: &(dyn std::error::Error + 'static)) -> String {
    if exit::storage_full(err) {
        format!("{message} ({})", exit::DISK_FULL)
    } else {
        message
    }
}

/// Width of a table's first column: the longest slide name, at least that
/// of its header "slide".
pub fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names
        .map(|n| n.chars().count())
        .chain([5])
        .max()
        .unwrap_or(5)
}

/// An error that prints as `err` and makes the process exit with `code`.
pub fn classified(code: i32, err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Classified(code)).context(err.to_string())
}

/// `err` with the exit status it calls for: a full disk anywhere in its
/// chain is transient (75) and says so, anything else is `otherwise`.
pub fn classified_error<E>(err: E, otherwise: i32) -> anyhow::Error
where
    E: std::error::Error + 'static,
{
    let code = exit::classify(&err, otherwise);
    classified(code, explain(err.to_string(), &err))
}

/// [`classified`] as bad input (exit 65): retrying will not help.
pub fn bad_input(err: impl std::fmt::Display) -> anyhow::Error {
    classified(exit::BAD_INPUT, err)
}

/// Marks an error with the exit status it should produce.
#[derive(Debug)]
pub struct Classified(pub i32);

impl std::fmt::Display for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Classified {}
