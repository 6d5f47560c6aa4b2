//! End to end on the single-node SLURM cluster of `scripts/cluster/ci.sh`:
//! `cargo test -p slidescale --test cluster_slurm` (as root, cluster started).

mod cluster_support;

#[test]
fn slurm_end_to_end_with_hostile_names_failure_and_resume() {
    cluster_support::end_to_end(slidescale_cluster::SchedulerKind::Slurm, "work");
}
