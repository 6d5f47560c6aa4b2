//! The stages of a slidescale run as library functions; the CLI's
//! subcommands and the executors are thin layers over them.
//!
//! * [`split`]: slides → one grouped HDF5 patch store per slide;
//! * [`plan`]: the look-up table of global group ids over a work directory.

pub mod plan;
pub mod split;
