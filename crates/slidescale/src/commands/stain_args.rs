//! Stain-normalisation options, flattened into `process` and `run` through
//! [`super::model_args::ModelArgs`].

use std::path::PathBuf;

use slidescale_stain::Method;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct StainArgs {
    /// Stain normalisation of each tile before inference:
    /// none | macenko | reinhard | vahadane.
    #[arg(long, default_value = "none", value_name = "METHOD")]
    pub stain: Method,
    /// Target image (PNG) the stains are normalised to [default: the bundled
    /// H&E target, models/stain_target_he.png].
    #[arg(long, value_name = "IMAGE")]
    pub stain_target: Option<PathBuf>,
}
