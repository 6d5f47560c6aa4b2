//! `slidescale report` on timing lines with known numbers, and
//! `slidescale simulate` on the paper's setting and on a work directory.

use std::path::Path;
use std::process::Command;

use slidescale_core::timing::TaskTiming;
use slidescale_core::WorkDir;

fn slidescale(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_slidescale"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "slidescale {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn line(stage: &str, group: Option<u32>, start: f64, seconds: f64, threads: u32) -> TaskTiming {
    TaskTiming {
        stage: stage.into(),
        slide: "it's a slide".into(),
        group,
        start,
        end: start + seconds,
        seconds,
        windows: 1000,
        threads,
        host: "node1".into(),
        status: "ok".into(),
        ..Default::default()
    }
}

/// A run on 4 cores: one 20 s split; eight 2-thread process tasks of 100 s
/// in two waves of two (t = 20–120, 120–220) and four more in two waves
/// (220–320, 320–420); a 10 s stitch at 420.
fn write_run(work: &Path) {
    let w = WorkDir::new(work);
    line("split", None, 0.0, 20.0, 1).record(&w).unwrap();
    for g in 0..8u32 {
        let wave = f64::from(g / 2);
        line("process", Some(g + 1), 20.0 + 100.0 * wave, 100.0, 2)
            .record(&w)
            .unwrap();
    }
    line("stitch", None, 420.0, 10.0, 1).record(&w).unwrap();
}

#[test]
fn report_gives_the_known_numbers() {
    let dir = slidescale_testutil::temp_dir("report-cli");
    write_run(&dir);
    let json: serde_json::Value =
        serde_json::from_str(&slidescale(&["report", dir.to_str().unwrap(), "--json"])).unwrap();
    let stage = |name: &str| {
        json["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == name)
            .unwrap()
            .clone()
    };
    let p = stage("process");
    assert_eq!(p["tasks"], 8);
    assert_eq!(p["serial_s"], 800.0);
    assert_eq!(p["wall_s"], 400.0);
    assert_eq!(p["speedup"], 2.0);
    assert_eq!(p["peak_cores"], 4);
    assert_eq!(p["efficiency"], 1.0); // 1600 core-s / (400 s × 4 cores)
    assert_eq!(p["windows_per_s"], 20.0);
    let all = stage("all");
    assert_eq!(
        (all["tasks"].clone(), all["wall_s"].clone()),
        (10.into(), 430.0.into())
    );

    // With the allocation given: 8 cores, half of them idle.
    let json: serde_json::Value = serde_json::from_str(&slidescale(&[
        "report",
        dir.to_str().unwrap(),
        "--json",
        "--cores",
        "8",
        "--stage",
        "process",
    ]))
    .unwrap();
    assert_eq!(json["stages"].as_array().unwrap().len(), 1);
    assert_eq!(json["stages"][0]["efficiency"], 0.5);

    let text = slidescale(&["report", dir.to_str().unwrap()]);
    assert!(
        text.contains("process") && text.contains("0:06:40.0"),
        "{text}"
    );
    assert!(text.contains("slowest process tasks"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn report_says_when_there_is_nothing() {
    let dir = slidescale_testutil::temp_dir("report-empty");
    let out = Command::new(env!("CARGO_BIN_EXE_slidescale"))
        .args(["report", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no timing lines"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The paper: 27,280 groups of 399 slides, 133,034 CPU-hours of serial
/// inference on 4,000 cores with 7 per task → about 34 h.
#[test]
fn simulate_the_papers_run() {
    let json: serde_json::Value = serde_json::from_str(&slidescale(&[
        "simulate",
        "--groups",
        "27280",
        "--slides",
        "399",
        "--serial-cpu-hours",
        "133034",
        "--task-seconds",
        "lognormal:1,0.25",
        "--cores",
        "4000",
        "--cores-per-task",
        "7",
        "--dispatch-latency",
        "10",
        "--submit-overhead",
        "0.5",
        "--json",
    ]))
    .unwrap();
    let hours = json["wall_s"].as_f64().unwrap() / 3600.0;
    assert!((33.0..=35.0).contains(&hours), "{hours} h");
    assert_eq!(json["slots"], 571);
    assert_eq!(json["submissions"], 400); // the master, one array per slide
}

#[test]
fn simulate_replays_a_work_directory() {
    let dir = slidescale_testutil::temp_dir("simulate-cli");
    write_run(&dir);
    let args = [
        "simulate",
        "--groups-from",
        dir.to_str().unwrap(),
        "--cores",
        "4",
        "--dispatch-latency",
        "0",
        "--submit-overhead",
        "0",
        "--plan-seconds",
        "0",
    ];
    let text = slidescale(&args);
    assert!(text.contains("2 per task (2 tasks at once)"), "{text}");
    assert!(
        text.contains("measured: process stage wall time 0:06:40.0"),
        "{text}"
    );
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json: serde_json::Value = serde_json::from_str(&slidescale(&json_args)).unwrap();
    // split 0–20, then four waves of two 100 s tasks, then the stitch: 430 s,
    // as measured.
    assert_eq!(json["wall_s"], 430.0);
    std::fs::remove_dir_all(dir).unwrap();
}
