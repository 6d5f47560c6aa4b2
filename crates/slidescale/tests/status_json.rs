//! `slidescale status --json`: the files' view of a work directory and, for
//! a cluster run, the scheduler's, as JSON with the documented field names;
//! and the same scheduler section as text.

use std::fs;
use std::path::Path;
use std::process::Command;

use slidescale_cluster::job_dir::{new_job_dir, write_config, RunConfig};
use slidescale_cluster::ledger::{self, LedgerEntry, Stage};
use slidescale_cluster::{JobId, Resources, SchedulerKind, SchedulerOptions};
use slidescale_core::WorkDir;

const SLIDE: &str = "CMU-1-Small-Region";

/// `slidescale ARGS…` → (exit status, stdout).
fn slidescale(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slidescale"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn status_json(work: &Path) -> (i32, serde_json::Value) {
    let (code, out) = slidescale(&["status".as_ref(), work.as_os_str(), "--json".as_ref()]);
    let json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, json)
}

/// A cluster run of `work` as its job directory records it: one process
/// array of three tasks for groups 1–3, which succeeded, failed with 65 and
/// vanished. Its scheduler cannot answer here (the job id is not one it
/// knows), so the outcomes come from the exit records alone.
fn fake_cluster_run(work: &WorkDir) -> String {
    fs::create_dir_all(work.jobs_dir()).unwrap();
    let job_dir = new_job_dir(work).unwrap();
    let config = RunConfig {
        scheduler: SchedulerKind::Slurm,
        scheduler_options: SchedulerOptions::default(),
        resources: Resources {
            cores: 2,
            memory_mb: 2048,
            time: None,
            queue: None,
        },
        max_array_size: None,
        submit_args: vec![],
        dry_run: false,
        workflow: Default::default(),
        max_running: None,
    };
    write_config(&job_dir, &config).unwrap();
    let key = "process-0001-1";
    let entry = LedgerEntry {
        job: JobId("no-such-job-7".into()),
        stage: Stage::Process,
        key: key.into(),
        tasks: 3,
        slide: Some(SLIDE.into()),
        groups: vec![1, 2, 3],
        slides: vec![],
        submitted: 1.0,
    };
    ledger::append(&job_dir, &entry).unwrap();
    let exits = job_dir.join("exit").join(key);
    fs::create_dir_all(&exits).unwrap();
    fs::write(exits.join("1"), "0 2.0 3.0 node1\n").unwrap();
    fs::write(exits.join("2"), "65 2.0 3.5 node1\n").unwrap();
    job_dir.display().to_string()
}

#[test]
fn status_json_has_the_files_and_the_schedulers_view() {
    let dir = slidescale_testutil::temp_dir("status-json");
    let work = dir.join("work");
    let slide = slidescale_testutil::fixture(&format!("slides/{SLIDE}.svs"));
    let (code, _) = slidescale(&[
        "split".as_ref(),
        slide.as_os_str(),
        "--out".as_ref(),
        work.as_os_str(),
    ]);
    assert_eq!(code, 0);

    let (code, json) = status_json(&work);
    assert_eq!(code, 1, "not complete: {json}");
    assert_eq!(json["complete"], false);
    assert!(
        json["spec"].is_null() && json["scheduler"].is_null(),
        "{json}"
    );
    let s = &json["slides"][0];
    assert_eq!(s["name"], SLIDE);
    let groups = s["groups"].as_u64().unwrap();
    assert!(groups > 0, "{json}");
    assert_eq!(
        (s["done"].as_u64(), s["missing"].as_u64()),
        (Some(0), Some(groups))
    );
    assert_eq!(s["heatmap"], false);
    assert!(s["failed"].as_array().unwrap().is_empty() && s["error"].is_null());
    assert_eq!(json["total"]["missing"].as_u64(), Some(groups));

    let job_dir = fake_cluster_run(&WorkDir::new(&work));
    let (code, json) = status_json(&work);
    assert_eq!(code, 1);
    let sch = &json["scheduler"];
    assert_eq!(sch["scheduler"], "slurm");
    assert_eq!(sch["job_dir"], job_dir.as_str());
    assert_eq!(
        sch["stages"],
        serde_json::json!([{"stage": "process", "jobs": 1, "pending": 0, "running": 0,
                            "succeeded": 1, "failed": 2}])
    );
    let job = &sch["jobs"][0];
    assert_eq!(
        (job["job"].as_str(), job["tasks"].as_u64()),
        (Some("no-such-job-7"), Some(3))
    );
    assert_eq!(
        job["outcomes"],
        serde_json::json!([{"state": "succeeded"}, {"state": "failed", "code": 65},
                           {"state": "vanished"}])
    );
    let failed = sch["failed_tasks"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(
        (failed[0]["task"].as_u64(), failed[0]["code"].as_i64()),
        (Some(2), Some(65))
    );
    assert_eq!(failed[0]["subject"], format!("slide {SLIDE:?}, group 2"));
    assert!(failed[1]["code"].is_null(), "vanished: {json}");
    assert!(failed[1]["log"]
        .as_str()
        .unwrap()
        .ends_with("process-0001-1.3.log"));

    // The text shows the same, rendered.
    let (code, text) = slidescale(&["status".as_ref(), work.as_os_str()]);
    assert_eq!(code, 1);
    assert!(
        text.contains(&format!("scheduler (slurm), {job_dir}:")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "failed: process job no-such-job-7 task 2 (slide {SLIDE:?}, group 2): exit 65"
        )),
        "{text}"
    );
    assert!(
        text.contains("task 3") && text.contains("vanished"),
        "{text}"
    );
    fs::remove_dir_all(dir).unwrap();
}
