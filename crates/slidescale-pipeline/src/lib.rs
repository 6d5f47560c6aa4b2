//! The stages of a slidescale run as library functions; the CLI's
//! subcommands and the executors are thin layers over them.
//!
//! * [`split`]: slides → one grouped HDF5 patch store per slide;
//! * [`plan`]: the look-up table of global group ids over a work directory;
//! * [`process`]: one group → its scores (the unit a scheduler runs);
//! * [`stitch`]: a slide's group results → heatmap `.npy` and `.png`;
//! * [`engine`]: the one local hierarchical engine (first level per unit,
//!   master, parts, final job) that `run` and `batch` run through;
//! * [`local`]: `run`'s stages through it, in this process;
//! * [`check_fast`]: how far a fast scoring mode is from exact sliding fp32;
//! * [`quantize`]: a static int8 copy of a model, calibrated on the stores;
//! * [`status`]: what is done, failed and missing in a work directory;
//! * [`results`], [`spec`]: result validity and the run's typed job spec
//!   (its identity and how it runs), which resume relies on.

pub mod batch;
pub mod check_fast;
pub mod engine;
pub mod local;
pub mod plan;
pub mod process;
pub mod quantize;
pub mod results;
pub mod spec;
pub mod split;
pub mod status;
pub mod stitch;
