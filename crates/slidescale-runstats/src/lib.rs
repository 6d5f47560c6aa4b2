//! Run statistics for slidescale, for local and cluster runs alike: what a
//! run took, measured from the timing line every task writes, and what a run
//! would take on a cluster, predicted by a discrete-event model.
//!
//! * [`report`]: per-stage statistics from `WORK/logs/timing/**.json`
//!   (serial and wall time, speedup, parallel efficiency, slowest tasks) in
//!   the shape of the paper's Tables I–III;
//! * [`simulate`]: the hierarchical plan (split array → master → process
//!   arrays → stitch) replayed on a modelled cluster, to predict wall time,
//!   speedup and efficiency before asking for 4,000 cores.
//!
//! Both return data; rendering is the caller's.

pub mod report;
pub mod simulate;
