//! How `status` (and `run --executor … --wait`) show a work directory: the
//! scheduler's section as text, and the whole status as JSON
//! (`status --json`). The data come from `slidescale_pipeline::status` and
//! `slidescale_cluster::status`; only the rendering is here.

use std::path::Path;

use serde::Serialize;
use slidescale_cluster::scheduler_status;
use slidescale_cluster::status::{FailedTask, SchedulerStatus, StageCounts};
use slidescale_core::WorkDir;
use slidescale_pipeline::spec::RunSpec;
use slidescale_pipeline::status::{SlideStatus, WorkStatus};

/// `status --json`'s fields, for `status --help`.
pub const JSON_HELP: &str = "Print JSON instead of tables (every failed group is listed): {\"complete\": bool, \"spec\": run.json's \
fields or null, \"slides\": [SLIDE], \"total\": SLIDE, \"scheduler\": null or {\"job_dir\", \
\"scheduler\", \"query_error\", \"stages\": [{\"stage\", \"jobs\", \"pending\", \"running\", \
\"succeeded\", \"failed\"}], \"failed_tasks\": [{\"stage\", \"job\", \"task\", \"subject\", \
\"code\" (null: vanished), \"log\"}], \"jobs\": [{\"job\", \"stage\", \"key\", \"tasks\", \
\"slide\", \"groups\", \"slides\", \"submitted\", \"outcomes\": [{\"state\", \"reason\", \
\"code\"}]}]}}; SLIDE = {\"name\", \"groups\" (null: no usable store), \"done\", \"missing\", \
\"invalid\", \"failed\": [{\"group\", \"error\"}], \"windows\", \"heatmap\", \"error\"}. \
For a batch, \"batch\" (batch.json's fields), \"inputs\": [{\"name\", \"path\", \"complete\", \
\"first\": TASK, \"parts\": null or {\"parts\", \"done\", \"failed\", \"missing\", \"tasks\": \
[{\"part\", \"line\", TASK's fields}]}, \"gather\": null or TASK}] and \"total\": {\"inputs\", \
\"complete\", \"parts\", \"done\", \"failed\", \"missing\"} replace spec, slides and total; TASK = \
{\"state\" (done, failed, missing), \"rc\", \"failure\", \"log\", \"start\", \"end\", \"outputs\"}.";

/// The scheduler section as `status` prints it.
pub fn scheduler_text(st: &SchedulerStatus) -> String {
    let mut out = format!("scheduler ({}), {}:\n", st.scheduler, st.job_dir.display());
    if let Some(e) = &st.query_error {
        out += &format!("  could not ask the scheduler: {e}\n");
    }
    out += &format!(
        "  {:<8} {:>4} {:>8} {:>8} {:>10} {:>7}\n",
        "stage", "jobs", "pending", "running", "succeeded", "failed"
    );
    for c in st.stage_counts() {
        out += &format!(
            "  {:<8} {:>4} {:>8} {:>8} {:>10} {:>7}\n",
            st.workflow.stage_label(c.stage),
            c.jobs,
            c.pending,
            c.running,
            c.succeeded,
            c.failed
        );
    }
    for t in st.failed_tasks() {
        let how = t.code.map_or("vanished (killed or cancelled)".into(), |c| {
            format!("exit {c}")
        });
        out += &format!(
            "  failed: {} job {} task {} ({}): {how}; log {}\n",
            st.workflow.stage_label(t.stage),
            t.job,
            t.task,
            t.subject,
            t.log.display()
        );
    }
    out
}

/// `status --json` of a run: the files' view and, for a cluster run, the scheduler's.
pub fn print_json(work: &Path, status: &WorkStatus) -> anyhow::Result<()> {
    let files = RunJson {
        spec: status.spec.as_ref(),
        slides: status.slides.iter().map(SlideJson::from).collect(),
        total: SlideJson::from(&status.total()),
    };
    print_status_json(work, status.is_complete(), &files)
}

/// The one `status --json` document, for a run or a batch: `complete`,
/// the files' view (`files`' fields) and the scheduler's section.
pub fn print_status_json(
    work: &Path,
    complete: bool,
    files: &impl Serialize,
) -> anyhow::Result<()> {
    let scheduler = scheduler_status(&WorkDir::new(work))?;
    let view = StatusJson {
        complete,
        files,
        scheduler: scheduler.as_ref().map(|st| SchedulerJson {
            stages: st.stage_counts(),
            failed_tasks: st.failed_tasks(),
            status: st,
        }),
    };
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

#[derive(Serialize)]
struct StatusJson<'a, F: Serialize> {
    complete: bool,
    #[serde(flatten)]
    files: &'a F,
    scheduler: Option<SchedulerJson<'a>>,
}

#[derive(Serialize)]
struct RunJson<'a> {
    spec: Option<&'a RunSpec>,
    slides: Vec<SlideJson>,
    total: SlideJson,
}

#[derive(Serialize)]
struct SlideJson {
    name: String,
    groups: Option<u32>,
    done: u32,
    missing: u32,
    invalid: u32,
    failed: Vec<FailedGroup>,
    windows: u64,
    heatmap: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct FailedGroup {
    group: u32,
    error: String,
}

impl From<&SlideStatus> for SlideJson {
    fn from(s: &SlideStatus) -> SlideJson {
        SlideJson {
            name: s.name.clone(),
            groups: s.groups,
            done: s.done,
            missing: s.missing,
            invalid: s.invalid,
            failed: s
                .failed
                .iter()
                .map(|(group, error)| FailedGroup {
                    group: *group,
                    error: error.clone(),
                })
                .collect(),
            windows: s.windows,
            heatmap: s.heatmap,
            error: s.error.clone(),
        }
    }
}

/// The scheduler's status with what `status` derives from it.
#[derive(Serialize)]
struct SchedulerJson<'a> {
    #[serde(flatten)]
    status: &'a SchedulerStatus,
    stages: Vec<StageCounts>,
    failed_tasks: Vec<FailedTask>,
}
