//! The hierarchical plan (Li, Mikailov & Chen 2023, with one master job as
//! in the paper):
//!
//! 1. `split`: an array job, one task per slide whose store is missing;
//! 2. `master` (after split, whatever its outcome): `slidescale plan`, then
//!    `slidescale submit-groups`, which — from inside the cluster — submits
//! 3. per slide, one `process` array with one task per missing group (several
//!    arrays when the scheduler's array limit is lower), and
//! 4. per slide, one `stitch` job after that slide's arrays.
//!
//! Every dependency is "after any": a failed task never leaves a dependant
//! pending forever (SLURM `afterok`) and SGE has nothing else anyway. The
//! dependants check for themselves: `plan` covers the stores that exist,
//! `stitch` refuses and names the missing groups. A second `run` of the same
//! work directory (`--resume`) goes through the same steps and so submits
//! exactly what is missing or invalid.
//!
//! Each submission gets its own job directory `WORK/jobs/run-NNN/`.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use slidescale_core::timing::unix_now;
use slidescale_core::workdir::write_atomic;
use slidescale_core::WorkDir;

use crate::error::{ClusterError, Result};
use crate::job::{Dependency, JobId, JobSpec, Resources, SchedulerKind};
use crate::job_dir::{new_job_dir, read_config, write_config, RunConfig, Workflow};
use crate::ledger::{self, LedgerEntry, Stage};
use crate::lookup::ResultCheck;
use crate::scheduler::{executor, Executor, SchedulerOptions};
use crate::script;
use crate::shell::{directive_safe, read_nul_list, write_nul_list};
use slidescale_core::lookup::LookupTable;

/// Everything `slidescale run --executor slurm|sge|pbs` decides.
#[derive(Debug, Clone)]
pub struct ClusterRequest {
    pub scheduler: SchedulerKind,
    pub scheduler_options: SchedulerOptions,
    pub work: PathBuf,
    /// The slides to split, with their names: the caller decides which
    /// stores must be (re)written (`slidescale_pipeline::split`'s rule).
    pub to_split: Vec<(PathBuf, String)>,
    /// The run's typed job spec as JSON, written once into the job
    /// directory (`spec.json`) and read by every task (`slidescale task`).
    pub spec_json: String,
    /// Cores and memory of a process task (see [`task_memory_mb`]).
    pub resources: Resources,
    /// Tasks per array; `None`: ask the scheduler.
    pub max_array_size: Option<u32>,
    /// Passed to every submit command as they are (`--account=x`).
    pub submit_args: Vec<String>,
    /// The slidescale the jobs run; `None`: this executable.
    pub slidescale_bin: Option<PathBuf>,
    /// Write the scripts, submit nothing.
    pub dry_run: bool,
    /// Whose tasks these are: `run`'s or `batch`'s.
    pub workflow: Workflow,
    /// Whether a master job submits a second level (`batch` without
    /// `--parts` has none: its first level is all there is).
    pub master: bool,
    /// Most tasks of the run running at once (`--max-running`).
    pub max_running: Option<u32>,
}

/// The run's job spec in its job directory, read by every task.
pub const SPEC_FILE: &str = "spec.json";

/// What one call submitted (or, in a dry run, would submit).
#[derive(Debug, Default)]
pub struct Submission {
    pub job_dir: PathBuf,
    pub jobs: Vec<LedgerEntry>,
    /// Scripts written, in submission order.
    pub scripts: Vec<PathBuf>,
    /// Things the user should know (slides skipped, limits assumed…).
    pub notes: Vec<String>,
}

/// Memory to ask for a task that holds `group_size` context tiles of
/// `geometry` (C·C·3 bytes each) plus 1 GiB for the model, the runtime and
/// buffers.
pub fn task_memory_mb(group_size: u32, geometry: &slidescale_core::TileGeometry) -> u64 {
    let tiles = u64::from(group_size) * geometry.context_bytes();
    tiles.div_ceil(1 << 20) + 1024
}

/// Resources of the small jobs (master, stitch): one core, 2 GiB.
fn small_job(r: &Resources) -> Resources {
    Resources {
        cores: 1,
        memory_mb: 2048,
        ..r.clone()
    }
}

/// Stage 1: write the run's job directory, submit the split array (for the
/// slides to split) and the master job. `check` tells done results apart
/// (a dry run of a planned work directory also lists the process arrays).
pub fn submit(req: &ClusterRequest, check: &dyn ResultCheck) -> Result<Submission> {
    req.resources.validate()?;
    let exec = executor(req.scheduler, &req.scheduler_options);
    let work_abs = absolute(&req.work)?;
    let work = WorkDir::new(&work_abs);
    fs::create_dir_all(work.jobs_dir()).map_err(ClusterError::io(work.jobs_dir()))?;
    let to_split = &req.to_split;
    let job_dir = new_job_dir(&work)?;
    let config = RunConfig {
        scheduler: req.scheduler,
        scheduler_options: req.scheduler_options.clone(),
        resources: req.resources.clone(),
        max_array_size: req.max_array_size,
        submit_args: req.submit_args.clone(),
        dry_run: req.dry_run,
        workflow: req.workflow,
        max_running: req.max_running,
    };
    write_run_files(&job_dir, req, &work_abs, &config)?;
    let mut sub = Submission {
        job_dir: job_dir.clone(),
        ..Default::default()
    };
    let max = array_limit(exec.as_ref(), &config, &mut sub.notes)?;
    let jd = utf8(&job_dir)?;
    let verbs = req.workflow.verbs();
    let mut chain = Chain::capped(&config);
    let mut split_ids = Vec::new();
    for (c, chunk) in array_chunks(to_split, max).enumerate() {
        let key = format!("split-{}", c + 1);
        let list = format!("{key}.slides.nul");
        let paths: Vec<OsString> = chunk
            .iter()
            .map(|(p, _)| absolute(p).map(OsString::from))
            .collect::<Result<_>>()?;
        write_nul_list(&job_dir.join(&list), &paths).map_err(ClusterError::io(&list))?;
        let spec = job(
            &job_dir,
            &key,
            Some(chunk.len() as u32),
            &config,
            &req.resources,
            script::split_body(jd, &key, &list, verbs[0]),
        );
        let names = chunk.iter().map(|(_, n)| n.clone()).collect();
        let entry = emit(
            exec.as_ref(),
            &config,
            &job_dir,
            &spec,
            &key,
            &chain.after(&[]),
            |job| LedgerEntry {
                job,
                stage: Stage::Split,
                key: key.clone(),
                tasks: chunk.len() as u32,
                slide: None,
                groups: vec![],
                slides: names,
                submitted: unix_now(),
            },
            &mut sub,
        )?;
        chain.extend(&entry);
        split_ids.extend(entry);
    }
    if !req.master {
        return Ok(sub);
    }
    let spec = job(
        &job_dir,
        "master",
        None,
        &config,
        &small_job(&req.resources),
        script::master_body(jd, "master", req.workflow == Workflow::Run),
    );
    emit(
        exec.as_ref(),
        &config,
        &job_dir,
        &spec,
        "master",
        &split_ids,
        |job| LedgerEntry {
            job,
            stage: Stage::Master,
            key: "master".into(),
            tasks: 1,
            slide: None,
            groups: vec![],
            slides: vec![],
            submitted: unix_now(),
        },
        &mut sub,
    )?;
    let planned = match req.workflow {
        Workflow::Run => work.lookup_path().exists(),
        Workflow::Batch => !check.units(&work)?.is_empty(),
    };
    if req.dry_run && planned {
        sub.notes.push(
            "the stores are already planned: process and stitch scripts below are \
            what the master job would submit now"
                .into(),
        );
        let more = submit_groups(&job_dir, check)?;
        sub.jobs.extend(more.jobs);
        sub.scripts.extend(more.scripts);
        sub.notes.extend(more.notes);
    }
    Ok(sub)
}

/// Stage 2, run by the master job after `plan`: submit the process arrays of
/// every slide's missing or invalid groups and the stitch jobs.
pub fn submit_groups(job_dir: &Path, check: &dyn ResultCheck) -> Result<Submission> {
    let config = read_config(job_dir)?;
    let exec = executor(config.scheduler, &config.scheduler_options);
    let run = read_nul_list(&job_dir.join("run.nul"))
        .map_err(ClusterError::io(job_dir.join("run.nul")))?;
    let work = WorkDir::new(PathBuf::from(run.get(1).cloned().unwrap_or_default()));
    let rows = check.units(&work)?;
    let stores: Vec<OsString> = rows
        .iter()
        .map(|(name, _)| check.unit_item(&work, name).into())
        .collect();
    write_nul_list(&job_dir.join("stores.nul"), &stores)
        .map_err(ClusterError::io(job_dir.join("stores.nul")))?;
    let mut sub = Submission {
        job_dir: job_dir.to_path_buf(),
        ..Default::default()
    };
    let max = array_limit(exec.as_ref(), &config, &mut sub.notes)?;
    let jd = utf8(job_dir)?;
    let verbs = config.workflow.verbs();
    let mut chain = Chain::capped(&config);
    chain.extend(&master_job(job_dir)?);
    let small = small_job(&config.resources);
    for (i, (name, groups)) in rows.iter().enumerate() {
        let idx = i + 1;
        let missing: Vec<u32> = (1..=*groups)
            .filter(|g| !check.is_done(&work, name, *g))
            .collect();
        if missing.is_empty() && check.final_up_to_date(&work, name, *groups) {
            continue;
        }
        let mut arrays = Vec::new();
        for (c, chunk) in array_chunks(&missing, max).enumerate() {
            let key = format!("process-{idx:04}-{}", c + 1);
            let groups_file = format!("{key}.groups");
            let text: String = chunk.iter().map(|g| format!("{g}\n")).collect();
            write_atomic(&job_dir.join(&groups_file), text.as_bytes())
                .map_err(ClusterError::io(&groups_file))?;
            let spec = job(
                job_dir,
                &key,
                Some(chunk.len() as u32),
                &config,
                &config.resources,
                script::process_body(jd, &key, idx, &groups_file, verbs[1]),
            );
            let e = emit(
                exec.as_ref(),
                &config,
                job_dir,
                &spec,
                &key,
                &chain.after(&[]),
                |job| LedgerEntry {
                    job,
                    stage: Stage::Process,
                    key: key.clone(),
                    tasks: chunk.len() as u32,
                    slide: Some(name.clone()),
                    groups: chunk.to_vec(),
                    slides: vec![],
                    submitted: unix_now(),
                },
                &mut sub,
            )?;
            chain.extend(&e);
            arrays.extend(e);
        }
        if !check.has_final() {
            continue;
        }
        let key = format!("stitch-{idx:04}");
        let spec = job(
            job_dir,
            &key,
            None,
            &config,
            &small,
            script::stitch_body(jd, &key, idx, verbs[2]),
        );
        let e = emit(
            exec.as_ref(),
            &config,
            job_dir,
            &spec,
            &key,
            &chain.after(&arrays),
            |job| LedgerEntry {
                job,
                stage: Stage::Stitch,
                key: key.clone(),
                tasks: 1,
                slide: Some(name.clone()),
                groups: vec![],
                slides: vec![],
                submitted: unix_now(),
            },
            &mut sub,
        )?;
        chain.extend(&e);
    }
    Ok(sub)
}

/// With `--max-running K` every job of a level waits ("after any") for the
/// one submitted before it, so at most one array of the run runs at a time
/// and, with each array capped at K (`%K`, `-tc K`, `max_run_subjobs`), at
/// most K tasks of the run run at once — arrays alone would cap each array,
/// not the run. The master job is the chain's first link in
/// [`submit_groups`]. Without a cap the chain is empty and jobs overlap freely.
#[derive(Default)]
struct Chain {
    capped: bool,
    last: Option<JobId>,
}

/// The master job of the run in `job_dir`, from its ledger: the job calling
/// [`submit_groups`]. Under a cap the first array it submits waits for it,
/// so the master is one of the K (none in a dry run, which submits nothing).
fn master_job(job_dir: &Path) -> Result<Option<JobId>> {
    Ok(ledger::read(job_dir)?
        .into_iter()
        .find(|e| e.stage == Stage::Master && !e.job.0.is_empty())
        .map(|e| e.job))
}

impl Chain {
    fn capped(config: &RunConfig) -> Chain {
        Chain {
            capped: config.max_running.is_some(),
            last: None,
        }
    }

    /// `deps` plus, when capped, the job submitted last.
    fn after(&self, deps: &[JobId]) -> Vec<JobId> {
        let mut out = deps.to_vec();
        if let (true, Some(last)) = (self.capped, &self.last) {
            if !out.contains(last) {
                out.push(last.clone());
            }
        }
        out
    }

    fn extend(&mut self, id: &Option<JobId>) {
        if id.is_some() {
            self.last = id.clone();
        }
    }
}

/// Every slide with a store, with its number of groups, sorted by name:
/// the rows of the look-up table, and the stores without a row (no tissue,
/// no group: stitched all the same, into an empty heatmap, as a local run does).
pub(crate) fn planned_slides(work: &WorkDir) -> Result<Vec<(String, u32)>> {
    let mut slides: Vec<(String, u32)> = LookupTable::read(&work.lookup_path())?
        .rows()
        .iter()
        .map(|r| (r.name.clone(), r.groups()))
        .collect();
    let stores = work.store_names().map_err(ClusterError::io(work.root()))?;
    for name in stores {
        if !slides.iter().any(|(n, _)| *n == name) {
            slides.push((name, 0));
        }
    }
    slides.sort();
    Ok(slides)
}

/// Write the script of `spec` as `<key>.sh`; unless this is a dry run,
/// submit it after `after` and append it to the ledger. Returns the job id
/// (none in a dry run).
#[allow(clippy::too_many_arguments)]
fn emit(
    exec: &dyn Executor,
    config: &RunConfig,
    job_dir: &Path,
    spec: &JobSpec,
    key: &str,
    after: &[JobId],
    entry: impl FnOnce(JobId) -> LedgerEntry,
    sub: &mut Submission,
) -> Result<Option<JobId>> {
    let path = job_dir.join(format!("{key}.sh"));
    write_atomic(&path, exec.render(spec).as_bytes()).map_err(ClusterError::io(&path))?;
    sub.scripts.push(path.clone());
    if config.dry_run {
        sub.jobs.push(entry(JobId(String::new())));
        return Ok(None);
    }
    let id = exec.submit(&path, after, Dependency::AfterAny, &config.submit_args)?;
    let e = entry(id.clone());
    ledger::append(job_dir, &e)?;
    sub.jobs.push(e);
    Ok(Some(id))
}

fn job(
    job_dir: &Path,
    key: &str,
    tasks: Option<u32>,
    config: &RunConfig,
    r: &Resources,
    body: String,
) -> JobSpec {
    let logs = job_dir.join("logs");
    JobSpec {
        name: format!("ss-{key}"),
        tasks,
        max_running: tasks.and(config.max_running),
        resources: r.clone(),
        sched_log_dir: logs.to_str().is_some_and(directive_safe).then_some(logs),
        body,
    }
}

/// The arrays of one level (the first level's units; one unit's missing
/// parts), in order, each of at most `limit` tasks ([`array_limit`]): the
/// one chunking rule of both levels, for `run` and `batch` alike.
fn array_chunks<T>(tasks: &[T], limit: u32) -> std::slice::Chunks<'_, T> {
    tasks.chunks(limit.max(1) as usize)
}

/// Tasks per array: `--max-array-size`, else what the scheduler says, else
/// (dry run only) the scheduler's default.
fn array_limit(exec: &dyn Executor, config: &RunConfig, notes: &mut Vec<String>) -> Result<u32> {
    if let Some(n) = config.max_array_size {
        return Ok(n.max(1));
    }
    match exec.max_array_tasks() {
        Ok(n) => Ok(n.max(1)),
        Err(e) if config.dry_run => {
            let n = exec.default_max_array_tasks();
            notes.push(format!("array limit assumed {n} ({e})"));
            Ok(n)
        }
        Err(e) => Err(e),
    }
}

fn write_run_files(
    job_dir: &Path,
    req: &ClusterRequest,
    work: &Path,
    config: &RunConfig,
) -> Result<()> {
    let bin = match &req.slidescale_bin {
        Some(b) => absolute(b)?,
        None => std::env::current_exe().map_err(ClusterError::io("current executable"))?,
    };
    let cwd = std::env::current_dir().map_err(ClusterError::io("current directory"))?;
    let put = |name: &str, items: &[OsString]| {
        write_nul_list(&job_dir.join(name), items).map_err(ClusterError::io(job_dir.join(name)))
    };
    put("run.nul", &[bin.into(), work.into(), cwd.into()])?;
    put("env.nul", &job_environment())?;
    let spec = job_dir.join(SPEC_FILE);
    write_atomic(&spec, req.spec_json.as_bytes()).map_err(ClusterError::io(&spec))?;
    let lib = job_dir.join("lib.sh");
    write_atomic(&lib, script::LIB_SH.as_bytes()).map_err(ClusterError::io(&lib))?;
    write_config(job_dir, config)?;
    fs::create_dir_all(job_dir.join("logs")).map_err(ClusterError::io(job_dir.join("logs")))
}

/// Variables a job takes from the shell that ran `slidescale run`, as
/// NAME, VALUE pairs: what finds programs, libraries and ONNX Runtime.
fn job_environment() -> Vec<OsString> {
    let keep = |k: &str| {
        matches!(
            k,
            "PATH" | "LD_LIBRARY_PATH" | "HOME" | "ORT_DYLIB_PATH" | "RUST_LOG" | "RUST_BACKTRACE"
        ) || k.starts_with("SLIDESCALE_")
    };
    let mut out = Vec::new();
    for (k, v) in std::env::vars_os() {
        let ok_name = k
            .to_str()
            .is_some_and(|k| keep(k) && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if ok_name && !v.as_bytes().contains(&0) {
            out.push(k);
            out.push(v);
        }
    }
    out
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(ClusterError::io(p))
}

/// The one path written into scripts literally must be text.
fn utf8(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| {
        ClusterError::Invalid(format!("job directory {} is not valid UTF-8", p.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn touch(path: &Path, age_s: u64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let f = fs::File::create(path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_s))
            .unwrap();
    }

    #[test]
    fn stores_without_groups_are_planned_and_heatmaps_must_be_newer_than_results() {
        let dir = slidescale_testutil::temp_dir("plan-slides");
        let work = WorkDir::new(&dir);
        fs::write(work.lookup_path(), "start\tend\tname\n1\t2\tb\n").unwrap();
        touch(&work.store_path("b"), 100);
        touch(&work.store_path("a blank"), 100);
        assert_eq!(
            planned_slides(&work).unwrap(),
            [("a blank".to_string(), 0), ("b".to_string(), 2)]
        );
        assert!(!work.heatmap_up_to_date("a blank", 0));
        touch(&work.heatmap_npy("a blank"), 10);
        assert!(!work.heatmap_up_to_date("a blank", 0)); // no PNG yet
        touch(&work.heatmap_png("a blank"), 10);
        assert!(!work.heatmap_up_to_date("a blank", 0)); // no sidecar yet
        touch(&work.heatmap_meta("a blank"), 10);
        assert!(work.heatmap_up_to_date("a blank", 0));
        for g in [1, 2] {
            touch(&work.result_path("b", g), 50);
        }
        touch(&work.heatmap_npy("b"), 10);
        touch(&work.heatmap_png("b"), 10);
        touch(&work.heatmap_meta("b"), 10);
        assert!(work.heatmap_up_to_date("b", 2));
        touch(&work.result_path("b", 2), 1); // recomputed after the stitch
        assert!(!work.heatmap_up_to_date("b", 2));
        fs::remove_dir_all(dir).unwrap();
    }
}
