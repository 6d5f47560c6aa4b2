use super::*;

const RUN: [&str; 3] = ["split", "process", "stitch"];

fn model(cores: u32, per_task: u32, max_array: u32) -> ClusterModel {
    ClusterModel {
        cores,
        cores_per_task: per_task,
        max_array_size: max_array,
        submit_overhead_s: 0.0,
        dispatch_latency_s: 0.0,
        plan_s: 0.0,
        task_overhead_s: 0.0,
        max_running: None,
    }
}

fn slide(split: Option<f64>, groups: &[f64], stitch: Option<f64>) -> SlideWork {
    SlideWork {
        name: "s".into(),
        split_s: split,
        groups: groups.to_vec(),
        stitch_s: stitch,
    }
}

#[test]
fn four_tasks_on_two_cores_without_overheads() {
    let p = simulate(&[slide(None, &[10.0; 4], None)], &model(2, 1, 1000));
    assert_eq!(p.wall_s, 20.0);
    assert_eq!(p.task_s, 40.0);
    assert_eq!((p.speedup, p.task_speedup, p.efficiency), (2.0, 2.0, 1.0));
    assert_eq!(p.submissions, 2); // master + one array
}

/// Worked by hand: run submits the split array (t=1) and the master (t=2);
/// the split gets its core at 1 and runs 3–8; the master is eligible at 8,
/// runs 10–16 (plan until 13, submits array 1 at 14, array 2 at 15 — array
/// limit 1 — and the stitch at 16). Group 1 gets the free core at 14 and runs
/// 16–26; group 2 waits for the master's core (16) and runs 18–28; the
/// stitch is eligible at 28 and runs 30–31.
#[test]
fn overheads_and_dependencies_worked_by_hand() {
    let m = ClusterModel {
        submit_overhead_s: 1.0,
        dispatch_latency_s: 2.0,
        plan_s: 3.0,
        ..model(2, 1, 1)
    };
    let p = simulate(&[slide(Some(5.0), &[10.0, 10.0], Some(1.0))], &m);
    assert_eq!(p.wall_s, 31.0);
    assert_eq!(p.submissions, 5);
    let by = |name| p.stages.iter().find(|s| s.stage == name).unwrap();
    assert_eq!(
        (by("split").first_start_s, by("split").last_end_s),
        (3.0, 8.0)
    );
    assert_eq!(
        (by("master").first_start_s, by("master").last_end_s),
        (10.0, 16.0)
    );
    assert_eq!(
        (by("process").first_start_s, by("process").last_end_s),
        (16.0, 28.0)
    );
    assert_eq!(
        (by("stitch").first_start_s, by("stitch").last_end_s),
        (30.0, 31.0)
    );
    assert_eq!(p.task_s, 26.0);
}

/// Multi-core tasks leave cores idle when they do not divide the cluster, and
/// one-core stitch jobs use them.
#[test]
fn cores_per_task_and_backfill() {
    // 8 cores, 3 per task: 2 slots, 2 cores left for the one-core stitch.
    let p = simulate(
        &[
            slide(None, &[10.0; 4], Some(1.0)),
            slide(None, &[10.0; 2], Some(1.0)),
        ],
        &model(8, 3, 1000),
    );
    assert_eq!(p.slots, 2);
    assert_eq!(p.wall_s, 31.0);
    let process = p.stages.iter().find(|s| s.stage == "process").unwrap();
    assert_eq!(process.core_s, 180.0);
}

#[test]
fn task_overhead_is_added_to_every_task() {
    let m = ClusterModel {
        task_overhead_s: 1.0,
        max_running: None,
        ..model(2, 1, 1000)
    };
    let p = simulate(&[slide(None, &[10.0; 4], None)], &m);
    // master 1 s (its overhead), then two rounds of 11 s.
    assert_eq!(p.wall_s, 23.0);
}

#[test]
fn array_limit_splits_submissions() {
    let slides = from_distribution(2500, 2, &Distribution::Constant(1.0), 1, None, Some(1.0));
    assert_eq!(slides[0].groups.len(), 1250);
    let p = simulate(&slides, &model(100, 1, 1000));
    // 1 master + per slide 2 arrays + 1 stitch
    assert_eq!(p.submissions, 1 + 2 * 3);
}

/// The paper's run (Li, Mikailov & Chen 2023): 27,280 groups of 399 slides,
/// 133,034 CPU-hours of serial inference, 4,000 cores, 7 cores per task →
/// about 34 h. With realistic scheduler costs and varying task times the
/// model must land there; the ideal bound is 133,034 / 4,000 = 33.3 h.
#[test]
fn the_papers_setting_takes_about_34_hours() {
    let per_group = 133_034.0 * 3600.0 / 27_280.0 / 7.0;
    let m = ClusterModel {
        submit_overhead_s: 0.5,
        dispatch_latency_s: 10.0,
        plan_s: 60.0,
        ..model(4000, 7, 1000)
    };
    for dist in [
        Distribution::Constant(per_group),
        Distribution::LogNormal {
            mean: per_group,
            cv: 0.25,
        },
        Distribution::Uniform {
            lo: 0.5 * per_group,
            hi: 1.5 * per_group,
        },
    ] {
        let slides = from_distribution(27_280, 399, &dist, 7, None, None);
        let p = simulate(&slides, &m);
        let hours = p.wall_s / 3600.0;
        assert!(
            (33.0..=35.0).contains(&hours),
            "{dist:?}: {hours:.2} h\n{p:?}"
        );
        assert_eq!(p.slots, 571);
        assert!(p.efficiency > 0.95 && p.efficiency <= 1.0, "{p:?}");
        let core_hours = p.core_s / 3600.0;
        assert!((core_hours / 133_034.0 - 1.0).abs() < 0.01, "{core_hours}");
    }
}

#[test]
fn distributions_parse_and_keep_their_mean() {
    assert_eq!(
        "12.5".parse::<Distribution>().unwrap(),
        Distribution::Constant(12.5)
    );
    let d: Distribution = "lognormal:100,0.5".parse().unwrap();
    let slides = from_distribution(20_000, 1, &d, 3, None, None);
    let mean = slides[0].groups.iter().sum::<f64>() / 20_000.0;
    assert!((mean / 100.0 - 1.0).abs() < 0.02, "{mean}");
    assert!("normal:1".parse::<Distribution>().is_err());
    assert!("uniform:5,1".parse::<Distribution>().is_err());
    assert_eq!(d.with_mean(50.0).mean(), 50.0);
}

#[test]
fn timings_replay_per_slide_and_rescale() {
    use slidescale_core::timing::TaskTiming;
    let line = |stage: &str, slide: &str, secs: f64, threads: u32, status: &str| TaskTiming {
        stage: stage.into(),
        slide: slide.into(),
        seconds: secs,
        threads,
        status: status.into(),
        ..Default::default()
    };
    let lines = vec![
        line("split", "a", 3.0, 1, "ok"),
        line("process", "a", 8.0, 2, "ok"),
        line("process", "a", 9.0, 2, "skipped"),
        line("process", "b", 4.0, 2, "ok"),
        line("stitch", "b", 1.0, 1, "ok"),
    ];
    let (w, notes) = from_timings(&lines, Some(4), RUN);
    assert_eq!(w.len(), 2);
    assert_eq!((w[0].split_s, w[0].groups.clone()), (Some(3.0), vec![4.0]));
    assert_eq!((w[1].stitch_s, w[1].groups.clone()), (Some(1.0), vec![2.0]));
    assert_eq!(notes.len(), 2);
    let (same, _) = from_timings(&lines, None, RUN);
    assert_eq!(same[0].groups, vec![8.0]);
}

#[test]
fn max_running_caps_the_tasks_that_run_at_once() {
    let slides = vec![SlideWork {
        name: "a".into(),
        split_s: Some(10.0),
        groups: vec![10.0; 8],
        stitch_s: Some(1.0),
    }];
    let free = simulate(&slides, &model(64, 1, 1000));
    let capped = simulate(
        &slides,
        &ClusterModel {
            max_running: Some(2),
            ..model(64, 1, 1000)
        },
    );
    // 8 groups of 10 s: all at once without the cap, four rounds of two with it.
    assert!(
        capped.wall_s >= free.wall_s + 30.0,
        "{} vs {}",
        capped.wall_s,
        free.wall_s
    );
}

#[test]
fn a_first_level_alone_has_no_master() {
    // A batch without parts: three 10 s input tasks on two cores.
    let slides: Vec<SlideWork> = (0..3).map(|_| slide(Some(10.0), &[], None)).collect();
    let p = simulate(&slides, &model(2, 1, 1000));
    assert_eq!(p.wall_s, 20.0);
    assert_eq!(p.submissions, 1);
    let stages: Vec<&str> = p.stages.iter().map(|s| s.stage).collect();
    assert_eq!(stages, ["split"]);
}
