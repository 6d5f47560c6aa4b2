//! The typed job spec of a batch run, `WORK/batch.json` (and, for a cluster
//! run, `WORK/jobs/run-NNN/spec.json`): the inputs with their names and the
//! argument templates of the program, the parts command and the gather
//! command. Every task reads it; a resume that differs from it is refused,
//! naming the field.
//!
//! Templates are argument vectors. `{input}`, `{name}`, `{output}`,
//! `{part}` (and `{parts}` for gather) are replaced inside each word after
//! the vector is made, so a file name is never parsed by anything.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slidescale_core::workdir::{slide_name, write_atomic};
use slidescale_core::WorkDir;
use thiserror::Error;

/// The batch's spec in its work directory.
pub const BATCH_FILE: &str = "batch.json";

/// What tells a batch spec from a `run` spec in a `spec.json`.
pub const BATCH_KIND: &str = "slidescale-batch";

#[derive(Debug, Error)]
pub enum BatchError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One input file and the name its outputs carry (file name without its
/// last extension, as for slides).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchInput {
    pub path: PathBuf,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSpec {
    pub kind: String,
    /// The work directory, absolute.
    pub work: PathBuf,
    pub inputs: Vec<BatchInput>,
    /// The program and its arguments, run once per input or (with `parts`) per part.
    pub program: Vec<String>,
    /// Run per input first; prints one part per line on stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<String>>,
    /// Run per input after all its parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gather: Option<Vec<String>>,
}

/// The placeholders each template may use.
const PROGRAM_VARS: &[&str] = &["input", "name", "output", "part"];
const PARTS_VARS: &[&str] = &["input", "name"];
const GATHER_VARS: &[&str] = &["input", "name", "output", "parts"];

impl BatchSpec {
    /// The spec of a batch over `inputs` in `work`; refuses an empty
    /// program, missing inputs, two inputs with one name, and placeholders
    /// a template cannot have (`{part}` without a parts command).
    pub fn new(
        work: &Path,
        inputs: &[PathBuf],
        program: Vec<String>,
        parts: Option<Vec<String>>,
        gather: Option<Vec<String>>,
    ) -> Result<BatchSpec, BatchError> {
        let abs = |p: &Path| std::path::absolute(p).map_err(io(p));
        let invalid = |m: String| Err(BatchError::Invalid(m));
        if program.is_empty() {
            return invalid("no program given (after --)".into());
        }
        if inputs.is_empty() {
            return invalid("no input given".into());
        }
        let mut list: Vec<BatchInput> = Vec::new();
        for p in inputs {
            if !p.is_file() {
                return invalid(format!("{}: no such input file", p.display()));
            }
            let path = abs(p)?;
            let name = slide_name(&path);
            if path.to_str().is_none() {
                return invalid(format!("{}: input path is not valid UTF-8", p.display()));
            }
            if let Some(other) = list.iter().find(|i| i.name == name) {
                return invalid(format!(
                    "{} and {} have the same name {name:?}: their outputs would collide",
                    other.path.display(),
                    path.display()
                ));
            }
            list.push(BatchInput { path, name });
        }
        let check = |what: &str, t: &[String], allowed: &[&str]| {
            for word in t {
                for var in placeholders(word) {
                    if !allowed.contains(&var) {
                        return Err(BatchError::Invalid(format!(
                            "{what}: {{{var}}} is not available there (only {})",
                            allowed
                                .iter()
                                .map(|a| format!("{{{a}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                }
            }
            Ok(())
        };
        let program_vars = if parts.is_some() {
            PROGRAM_VARS
        } else {
            &PROGRAM_VARS[..3]
        };
        check("the program", &program, program_vars)?;
        if let Some(p) = &parts {
            if p.is_empty() {
                return invalid("--parts: empty command".into());
            }
            check("--parts", p, PARTS_VARS)?;
        }
        if let Some(g) = &gather {
            if g.is_empty() {
                return invalid("--gather: empty command".into());
            }
            if parts.is_none() {
                return invalid("--gather needs --parts".into());
            }
            check("--gather", g, GATHER_VARS)?;
        }
        Ok(BatchSpec {
            kind: BATCH_KIND.into(),
            work: abs(work)?,
            inputs: list,
            program,
            parts,
            gather,
        })
    }

    pub fn read(path: &Path) -> Result<BatchSpec, BatchError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let spec: BatchSpec = serde_json::from_str(&text).map_err(|e| {
            BatchError::Invalid(format!("{}: not a batch spec: {e}", path.display()))
        })?;
        if spec.kind != BATCH_KIND {
            return Err(BatchError::Invalid(format!(
                "{}: not a batch spec",
                path.display()
            )));
        }
        Ok(spec)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("batch spec serialises")
    }

    /// Record this spec in `work`, or check it against the one there: a
    /// batch is resumed only with the same inputs and commands.
    pub fn admit(&self, work: &WorkDir) -> Result<(), BatchError> {
        let path = work.root().join(BATCH_FILE);
        if !path.exists() {
            if work.settings_path().exists() {
                return Err(BatchError::Invalid(format!(
                    "{} holds a `slidescale run`; give batch a work directory of its own",
                    work.root().display()
                )));
            }
            std::fs::create_dir_all(work.root()).map_err(io(work.root()))?;
            return write_atomic(&path, self.to_json().as_bytes()).map_err(io(&path));
        }
        let old = BatchSpec::read(&path)?;
        let field = if old.inputs != self.inputs {
            "inputs"
        } else if old.program != self.program {
            "program"
        } else if old.parts != self.parts {
            "--parts"
        } else if old.gather != self.gather {
            "--gather"
        } else {
            return Ok(());
        };
        Err(BatchError::Invalid(format!(
            "{} was started with other {field}; a resume must repeat them (or use another --out)",
            work.root().display()
        )))
    }

    /// The input given as `path` (as written in the job lists: absolute).
    pub fn input(&self, path: &Path) -> Result<&BatchInput, BatchError> {
        self.inputs.iter().find(|i| i.path == path).ok_or_else(|| {
            BatchError::Invalid(format!("{}: not an input of this batch", path.display()))
        })
    }
}

/// The `{…}` names in `word`, in order.
fn placeholders(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = word;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if after[..close].chars().all(|c| c.is_ascii_lowercase()) => {
                if close > 0 {
                    out.push(&after[..close]);
                }
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// `template` with every `{key}` replaced by its value, word by word: the
/// argument vector of one task. Values are inserted as they are (bytes),
/// never split or interpreted.
pub fn substitute(template: &[String], vars: &[(&str, &OsStr)]) -> Vec<OsString> {
    template
        .iter()
        .map(|word| {
            let mut out = OsString::new();
            let mut rest = word.as_str();
            'scan: while !rest.is_empty() {
                for (key, value) in vars {
                    let pat = format!("{{{key}}}");
                    if let Some(rem) = rest.strip_prefix(pat.as_str()) {
                        out.push(value);
                        rest = rem;
                        continue 'scan;
                    }
                }
                let c = rest.chars().next().expect("not empty");
                out.push(c.encode_utf8(&mut [0; 4]) as &str);
                rest = &rest[c.len_utf8()..];
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_inserted_inside_words_and_never_parsed() {
        let t: Vec<String> = [
            "vips",
            "thumbnail",
            "{input}",
            "{output}.png",
            "{x}",
            "{{name}}",
        ]
        .map(String::from)
        .to_vec();
        let hostile = OsStr::new("it's a \"$(touch PWNED)\" `x` ; *");
        let argv = substitute(
            &t,
            &[
                ("input", hostile),
                ("output", OsStr::new("/o/a b")),
                ("name", OsStr::new("n")),
            ],
        );
        assert_eq!(
            argv,
            [
                "vips",
                "thumbnail",
                hostile.to_str().unwrap(),
                "/o/a b.png",
                "{x}",
                "{n}"
            ]
            .map(OsString::from)
        );
        assert_eq!(placeholders("{output}.{part}-{}{X}"), ["output", "part"]);
    }

    #[test]
    fn templates_may_only_use_their_placeholders_and_names_must_differ() {
        let dir = slidescale_testutil::temp_dir("batch-spec");
        let a = dir.join("a.svs");
        let b = dir.join("sub/a.tif");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(&a, "x").unwrap();
        std::fs::write(&b, "x").unwrap();
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let work = dir.join("work");
        let e = BatchSpec::new(
            &work,
            std::slice::from_ref(&a),
            w(&["p", "{part}"]),
            None,
            None,
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("{part} is not available"));
        let e = BatchSpec::new(&work, &[a.clone(), b], w(&["p"]), None, None);
        assert!(e.unwrap_err().to_string().contains("same name"));
        let e = BatchSpec::new(
            &work,
            std::slice::from_ref(&a),
            w(&["p"]),
            None,
            Some(w(&["g"])),
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("--gather needs --parts"));
        let ok = BatchSpec::new(
            &work,
            std::slice::from_ref(&a),
            w(&["p", "{input}"]),
            None,
            None,
        )
        .unwrap();
        let wd = WorkDir::new(&work);
        ok.admit(&wd).unwrap();
        ok.admit(&wd).unwrap();
        let other = BatchSpec::new(&work, &[a], w(&["q", "{input}"]), None, None).unwrap();
        assert!(other
            .admit(&wd)
            .unwrap_err()
            .to_string()
            .contains("other program"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
