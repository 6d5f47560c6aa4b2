//! One task of a batch: run the program (or the parts or gather command)
//! as an argument vector, with `{output}` pointing into a private temporary
//! directory; only after exit 0, and only if it wrote something, are its
//! files renamed to their final names. Every outcome is recorded
//! (`WORK/batch/records/…json`: exit status or signal, times, host, outputs,
//! log) together with the timing line `report` reads.
//!
//! Where things go, for input NAME (part P as its six-digit label, 000001…):
//! outputs `WORK/out/NAME…` (program without parts, gather) and
//! `WORK/out/NAME.parts/P…` (parts); parts lists `WORK/batch/parts/NAME.txt`;
//! logs `WORK/logs/batch/<stage>/NAME[/P].log`.

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use slidescale_core::timing::{hostname, unix_now, TaskTiming};
use slidescale_core::workdir::{group_label, write_atomic};
use slidescale_core::WorkDir;

use super::spec::{io, substitute, BatchError, BatchInput, BatchSpec};

/// One task of a batch.
#[derive(Debug, Clone, Copy)]
pub enum BatchTask<'a> {
    /// The program (no parts), or the parts command, for one input.
    Input(&'a BatchInput),
    /// The program for part `n` (1-based line of the parts list).
    Part(&'a BatchInput, u32),
    /// The gather command of one input.
    Gather(&'a BatchInput),
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// 0: success; the program's exit status; 128+N for signal N; 1 when
    /// slidescale itself failed (see `error`).
    pub rc: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub start: f64,
    pub end: f64,
    pub host: String,
    /// Final paths of what the task wrote.
    pub outputs: Vec<PathBuf>,
    /// Size and CRC-32 of every file under `outputs`, taken when the task
    /// completed, for `status --verify` (absent in records of older runs).
    #[serde(default)]
    pub sums: Vec<FileSum>,
    pub log: PathBuf,
}

/// One file a task wrote, as it was when the task completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub path: PathBuf,
    pub bytes: u64,
    pub crc32: u32,
}

impl FileSum {
    /// Read `path` to its end.
    pub fn of(path: &Path) -> std::io::Result<FileSum> {
        use std::io::Read;
        let mut file = fs::File::open(path)?;
        let mut hasher = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            bytes += n as u64;
        }
        Ok(FileSum {
            path: path.to_path_buf(),
            bytes,
            crc32: hasher.finalize(),
        })
    }
}

/// The sums of every regular file at or under `outputs`, in name order
/// (a program may write a directory at `{output}`).
pub fn file_sums(outputs: &[PathBuf]) -> std::io::Result<Vec<FileSum>> {
    let mut out = Vec::new();
    for p in outputs {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(p)?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            entries.sort();
            out.extend(file_sums(&entries)?);
        } else {
            out.push(FileSum::of(p)?);
        }
    }
    Ok(out)
}

impl BatchTask<'_> {
    pub fn stage(&self) -> &'static str {
        match self {
            BatchTask::Input(_) => "input",
            BatchTask::Part(..) => "part",
            BatchTask::Gather(_) => "gather",
        }
    }

    pub fn input(&self) -> &BatchInput {
        match self {
            BatchTask::Input(i) | BatchTask::Part(i, _) | BatchTask::Gather(i) => i,
        }
    }

    pub fn part(&self) -> Option<u32> {
        match self {
            BatchTask::Part(_, n) => Some(*n),
            _ => None,
        }
    }

    /// `stage/NAME` or `part/NAME/P`: where its record and log live.
    fn rel(&self) -> PathBuf {
        let base = Path::new(self.stage()).join(&self.input().name);
        match self.part() {
            Some(n) => base.join(group_label(n)),
            None => base,
        }
    }

    pub fn record_path(&self, work: &WorkDir) -> PathBuf {
        let mut p = work
            .root()
            .join("batch/records")
            .join(self.rel())
            .into_os_string();
        p.push(".json");
        p.into()
    }

    pub fn log_path(&self, work: &WorkDir) -> PathBuf {
        let mut p = work
            .logs_dir()
            .join("batch")
            .join(self.rel())
            .into_os_string();
        p.push(".log");
        p.into()
    }

    /// The directory its outputs are renamed into and their base name.
    fn output_place(&self, work: &WorkDir) -> (PathBuf, String) {
        let i = self.input();
        match self.part() {
            Some(n) => (parts_output_dir(work, i), group_label(n)),
            None => (work.root().join("out"), i.name.clone()),
        }
    }

    /// Read the record of its last attempt, if any.
    pub fn record(&self, work: &WorkDir) -> Option<TaskRecord> {
        let text = fs::read_to_string(self.record_path(work)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// `WORK/out/NAME.parts`: the outputs of an input's parts (`{parts}` of gather).
pub fn parts_output_dir(work: &WorkDir, input: &BatchInput) -> PathBuf {
    work.root()
        .join("out")
        .join(format!("{}.parts", input.name))
}

/// `WORK/batch/parts/NAME.txt`: the parts command's output.
pub fn parts_list_path(work: &WorkDir, input: &BatchInput) -> PathBuf {
    work.root()
        .join("batch/parts")
        .join(format!("{}.txt", input.name))
}

/// The parts of an input, if its parts command has succeeded.
pub fn read_parts(work: &WorkDir, input: &BatchInput) -> Option<Vec<String>> {
    let text = fs::read_to_string(parts_list_path(work, input)).ok()?;
    Some(parts_of(&text))
}

/// One part per non-empty line.
fn parts_of(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Run `task` of `spec` to its end and record how it ended. `Err` only when
/// not even the record could be written; a failing program is an `Ok`
/// record with a non-zero `rc`.
pub fn run_task(spec: &BatchSpec, task: BatchTask) -> Result<TaskRecord, BatchError> {
    let work = WorkDir::new(&spec.work);
    let record_path = task.record_path(&work);
    // A killed attempt must not leave the previous attempt's record behind.
    match fs::remove_file(&record_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&record_path)(e)),
        _ => {}
    }
    let log = task.log_path(&work);
    let start = unix_now();
    let (rc, signal, error, outputs, sums) =
        match attempt(spec, &work, task, &log).and_then(|(rc, signal, outputs)| {
            let sums = file_sums(&outputs).map_err(|e| BatchError::Invalid(e.to_string()))?;
            Ok((rc, signal, outputs, sums))
        }) {
            Ok((rc, signal, outputs, sums)) => (rc, signal, None, outputs, sums),
            Err(e) => (1, None, Some(e.to_string()), vec![], vec![]),
        };
    let record = TaskRecord {
        rc,
        signal,
        error,
        start,
        end: unix_now(),
        host: hostname(),
        outputs,
        sums,
        log,
    };
    let text = serde_json::to_string_pretty(&record).expect("record serialises");
    write_atomic(&record_path, text.as_bytes()).map_err(io(&record_path))?;
    let timing = TaskTiming {
        stage: task.stage().into(),
        slide: task.input().name.clone(),
        group: task.part(),
        start: record.start,
        end: record.end,
        seconds: record.end - record.start,
        threads: 1,
        host: record.host.clone(),
        status: if rc == 0 { "ok" } else { "failed" }.into(),
        error: (rc != 0).then(|| failure_text(&record)),
        ..Default::default()
    };
    let tpath = timing.path(&work);
    timing.record(&work).map_err(io(&tpath))?;
    Ok(record)
}

/// "exit status 3", "killed by signal 9", or slidescale's own error.
pub fn failure_text(r: &TaskRecord) -> String {
    match (&r.error, r.signal) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => format!("exit status {}", r.rc),
    }
}

type Attempt = (i32, Option<i32>, Vec<PathBuf>);

fn attempt(
    spec: &BatchSpec,
    work: &WorkDir,
    task: BatchTask,
    log: &Path,
) -> Result<Attempt, BatchError> {
    let input = task.input();
    if let BatchTask::Gather(_) = task {
        // It runs "after any" of its parts: it checks they are all there.
        let state = super::state::batch_state(spec);
        let me = state.inputs.iter().find(|s| s.input == *input);
        let (missing, _) = me.map(super::state::todo).unwrap_or_default();
        if me.is_none_or(|s| s.parts.is_none()) || !missing.is_empty() {
            return Err(BatchError::Invalid(format!(
                "{}: parts not done: {}",
                input.name,
                if missing.is_empty() {
                    "no parts list".to_string()
                } else {
                    missing
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
    }
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let log_file = fs::File::create(log).map_err(io(log))?;
    let (dir, base) = task.output_place(work);
    // Private to this attempt: a killed task leaves only this behind.
    let tmp = work.root().join("out/.partial").join(format!(
        "{}.{}.{}",
        task.rel().to_string_lossy().replace('/', "%"),
        std::process::id(),
        "partial"
    ));
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let output: OsString = tmp.join(&base).into();
    let parts_dir: OsString = parts_output_dir(work, input).into();
    let part_text: OsString = match task.part() {
        Some(n) => {
            let parts = read_parts(work, input).unwrap_or_default();
            match parts.get(n as usize - 1) {
                Some(p) => p.into(),
                None => {
                    return Err(BatchError::Invalid(format!(
                        "{}: no part {n} in its parts list",
                        input.name
                    )))
                }
            }
        }
        None => OsString::new(),
    };
    let vars = [
        ("input", input.path.as_os_str()),
        ("name", std::ffi::OsStr::new(&input.name)),
        ("output", output.as_os_str()),
        ("part", part_text.as_os_str()),
        ("parts", parts_dir.as_os_str()),
    ];
    let lists_parts = matches!(task, BatchTask::Input(_)) && spec.parts.is_some();
    let template = match task {
        BatchTask::Input(_) => spec.parts.as_ref().unwrap_or(&spec.program),
        BatchTask::Part(..) => &spec.program,
        BatchTask::Gather(_) => spec
            .gather
            .as_ref()
            .ok_or_else(|| BatchError::Invalid("this batch has no gather command".into()))?,
    };
    let argv = substitute(template, &vars);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(Stdio::null());
    let err_file = log_file.try_clone().map_err(io(log))?;
    cmd.stderr(err_file);
    if lists_parts {
        cmd.stdout(Stdio::piped());
    } else {
        cmd.stdout(log_file);
    }
    let out = cmd.output().map_err(|e| {
        BatchError::Invalid(format!("cannot run {:?}: {e}", argv[0].to_string_lossy()))
    })?;
    let status = out.status;
    let (rc, signal) = match (status.code(), status.signal()) {
        (Some(c), _) => (c, None),
        (None, Some(s)) => (128 + s, Some(s)),
        (None, None) => (1, None),
    };
    if rc != 0 {
        let _ = fs::remove_dir_all(&tmp);
        return Ok((rc, signal, vec![]));
    }
    let outputs = if lists_parts {
        let text = String::from_utf8(out.stdout).map_err(|_| {
            BatchError::Invalid("the parts command printed something that is not UTF-8".into())
        })?;
        let list = parts_list_path(work, input);
        write_atomic(&list, text.as_bytes()).map_err(io(&list))?;
        vec![list]
    } else {
        publish(&tmp, &dir)?
    };
    let _ = fs::remove_dir_all(&tmp);
    if outputs.is_empty() {
        return Err(BatchError::Invalid(format!(
            "the program exited 0 but wrote nothing at {{output}} ({})",
            Path::new(&output).display()
        )));
    }
    Ok((0, None, outputs))
}

/// Rename everything the program wrote into `tmp` to `dir`, sorted.
fn publish(tmp: &Path, dir: &Path) -> Result<Vec<PathBuf>, BatchError> {
    let mut names: Vec<OsString> = fs::read_dir(tmp)
        .map_err(io(tmp))?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut out = Vec::new();
    for n in names {
        let (from, to) = (tmp.join(&n), dir.join(&n));
        if to.is_dir() {
            fs::remove_dir_all(&to).map_err(io(&to))?;
        }
        fs::rename(&from, &to).map_err(io(&to))?;
        out.push(to);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_the_non_empty_lines() {
        assert_eq!(parts_of("a b\r\n\n  \n0,0,10,10\n"), ["a b", "0,0,10,10"]);
    }
}
