//! Submission cost of 10,000 group tasks (not a timed test).
//!
//! `cargo bench -p slidescale-cluster --bench submit` — dry run: the job
//! scripts for 10,000 groups of 20 slides (what `run --dry-run` writes when
//! the stores are planned), median of 7.
//!
//! `cargo bench -p slidescale-cluster --bench submit -- --real slurm|sge` —
//! also the real thing on a running scheduler, with every job held so that
//! nothing runs: `run`'s own submissions (master), then the master's
//! (20 slides × ⌈500 / array limit⌉ arrays + 20 stitch jobs), median of 3;
//! every job is cancelled afterwards. Use the scheduler's default array
//! limit (`bench/cluster/submit.sh` restarts the clusters that way).
//!
//! The look-up table is written here (no stores are split): submission only
//! reads the table and checks for results, it never opens a store.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slidescale_cluster::{
    executor, ledger, submit, submit_groups, ClusterRequest, Resources, ResultCheck, SchedulerKind,
};

const SLIDES: u32 = 20;
const GROUPS_PER_SLIDE: u32 = 500;

fn planned_work(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "slidescale-bench-submit-{tag}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut tsv = String::from("start\tend\tname\n");
    for s in 0..SLIDES {
        let start = s * GROUPS_PER_SLIDE + 1;
        tsv += &format!("{start}\t{}\tslide {s:02}\n", start + GROUPS_PER_SLIDE - 1);
    }
    fs::write(dir.join("lookup.tsv"), tsv).unwrap();
    dir
}

fn request(kind: SchedulerKind, work: &Path, dry_run: bool) -> ClusterRequest {
    let hold = match kind {
        SchedulerKind::Slurm => "--hold",
        SchedulerKind::Sge | SchedulerKind::Pbs => "-h",
    };
    ClusterRequest {
        scheduler: kind,
        scheduler_options: Default::default(),
        work: work.to_path_buf(),
        to_split: vec![],
        spec_json: "{}".into(),
        resources: Resources {
            cores: 1,
            memory_mb: 1100,
            time: None,
            queue: None,
        },
        max_array_size: dry_run.then_some(1000),
        submit_args: if dry_run { vec![] } else { vec![hold.into()] },
        slidescale_bin: Some(PathBuf::from("/bin/false")),
        dry_run,
        workflow: Default::default(),
        master: true,
        max_running: None,
    }
}

/// No result is done yet (the bench's work directory has none).
struct NothingDone;

impl ResultCheck for NothingDone {
    fn is_done(&self, _: &slidescale_core::WorkDir, _: &str, _: u32) -> bool {
        false
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn dry_run() {
    let work = planned_work("dry");
    let mut times = Vec::new();
    let mut scripts = 0;
    for _ in 0..7 {
        let t = Instant::now();
        let sub = submit(&request(SchedulerKind::Slurm, &work, true), &NothingDone).unwrap();
        times.push(t.elapsed().as_secs_f64());
        scripts = sub.scripts.len();
    }
    println!(
        "dry run, {} group tasks of {SLIDES} slides, arrays of 1000: {scripts} scripts, median {:.3} s (runs: {times:.3?})",
        SLIDES * GROUPS_PER_SLIDE,
        median(&times)
    );
    fs::remove_dir_all(work).unwrap();
}

fn real(kind: SchedulerKind) {
    let exec = executor(kind, &Default::default());
    let limit = exec.max_array_tasks().expect("scheduler running");
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let mut jobs = 0;
    for _ in 0..3 {
        let work = planned_work(kind.name());
        let t = Instant::now();
        let sub = submit(&request(kind, &work, false), &NothingDone).unwrap();
        first.push(t.elapsed().as_secs_f64());
        // What the master job does once released (here: in this process).
        let t = Instant::now();
        let more = submit_groups(&sub.job_dir, &NothingDone).unwrap();
        second.push(t.elapsed().as_secs_f64());
        jobs = more.jobs.len();
        let ids: Vec<_> = ledger::read(&sub.job_dir)
            .unwrap()
            .into_iter()
            .map(|e| e.job)
            .collect();
        exec.cancel(&ids).unwrap();
        while !exec.queue(&ids).unwrap().is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        fs::remove_dir_all(work).unwrap();
    }
    println!(
        "{kind}, array limit {limit}: run's submission median {:.3} s; master's {} submissions \
         ({} group tasks) median {:.3} s = {:.1} ms per submission (runs: {second:.3?})",
        median(&first),
        jobs,
        SLIDES * GROUPS_PER_SLIDE,
        median(&second),
        1000.0 * median(&second) / jobs as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    dry_run();
    if let Some(i) = args.iter().position(|a| a == "--real") {
        let kind: SchedulerKind = args.get(i + 1).expect("--real slurm|sge").parse().unwrap();
        real(kind);
    }
}
