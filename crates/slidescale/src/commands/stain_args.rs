//! Stain-normalisation options, flattened into `process` and `run` through
//! [`super::model_args::ModelArgs`].

use std::path::{Path, PathBuf};

use slidescale_stain::{fit_cached, FittedTarget, Method, StainError};

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

impl StainArgs {
    /// The fitted target, cached as JSON at `cache` (e.g. a file in the work
    /// directory); `None` when `--stain none`.
    pub fn fitted(&self, cache: &Path) -> Result<Option<FittedTarget>, StainError> {
        if self.stain == Method::None {
            return Ok(None);
        }
        fit_cached(self.stain, self.stain_target.as_deref(), cache).map(Some)
    }
}
