//! End to end on the single-node SGE cell of `scripts/cluster/ci.sh`:
//! `cargo test -p slidescale --test cluster_sge` (as root, cell started).
//! The work directory's name has a space: the scripts then send the
//! scheduler's own output nowhere and rely on the per-task logs.

mod cluster_support;

#[test]
fn sge_end_to_end_with_hostile_names_failure_and_resume() {
    cluster_support::end_to_end(slidescale_cluster::SchedulerKind::Sge, "work dir");
}
