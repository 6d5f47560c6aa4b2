//! End to end on the single-node SLURM cluster of `scripts/cluster/ci.sh`:
//! `cargo test -p slidescale --test cluster_slurm` (as root, cluster started).

mod cluster_support;
mod heatmap_support;

use slidescale_cluster::SchedulerKind;

#[test]
fn slurm_end_to_end_with_hostile_names_failure_and_resume() {
    cluster_support::end_to_end(SchedulerKind::Slurm, "work");
}

/// The cluster path asks `split::store_decision` as the local run does: a
/// store a `process` task found damaged is split again by the resumed
/// cluster run, and every result (same tile digests) is kept.
#[test]
fn slurm_resume_splits_a_damaged_store_again_and_keeps_every_result() {
    use heatmap_support::{chunk, cmu, mtime, result_path, run, CMU};
    use slidescale_testutil::flip_bit;
    cluster_support::require(SchedulerKind::Slurm);
    let root = slidescale_testutil::temp_dir("slurm-repair");
    let work = root.join("work");
    let slides = vec![cmu()];
    cluster_support::cluster_run(SchedulerKind::Slurm, &work, &slides, false);
    let heatmap = work.join("heatmaps").join(format!("{CMU}.npy"));
    let results = || -> Vec<_> {
        (1..=5) // 54 tiles in groups of 12
            .map(|k| result_path(&work, CMU, k))
            .map(|p| (std::fs::read(&p).unwrap(), mtime(&p)))
            .collect()
    };
    let (pristine, kept) = (std::fs::read(&heatmap).unwrap(), results());
    let store = work.join(format!("{CMU}.h5"));
    let (addr, size, mask) = chunk(&store, 2, 7);
    let skip = if mask & 1 == 0 { 16 } else { 0 };
    flip_bit(&store, addr + skip + (size - skip) / 2, 3);
    let stored = mtime(&store);
    let model = slidescale_testutil::fixture("models/smallcnn.onnx");
    let p = run(&[
        "process".as_ref(),
        store.as_os_str(),
        "--group".as_ref(),
        "2".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        cluster_support::STRIDE.as_ref(),
        "--force".as_ref(),
    ]);
    assert_eq!(p.code, 65, "{}", p.stderr);
    assert!(p.stderr.contains("group 2 tile 7"), "{}", p.stderr);

    cluster_support::cluster_run(SchedulerKind::Slurm, &work, &slides, true);
    assert!(mtime(&store) > stored, "the store was split again");
    assert_eq!(results(), kept, "every result kept, bytes and times");
    assert!(std::fs::read(&heatmap).unwrap() == pristine, "same heatmap");
    let v = run(&["status".as_ref(), work.as_os_str(), "--verify".as_ref()]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    std::fs::remove_dir_all(&root).ok();
}
