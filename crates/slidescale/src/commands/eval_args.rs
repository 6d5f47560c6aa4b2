//! Arguments `detect` and `evaluate` share: which heatmaps, how lesions are
//! detected in them. Each group turns into typed settings in one method.

use std::path::{Path, PathBuf};

use slidescale_core::WorkDir;
use slidescale_eval::evaluate::DetectionSpec;
use slidescale_eval::heatmap::{load_heatmap, HeatmapMeta};
use slidescale_eval::raster::Raster;

use super::bad_input;

/// How to read heatmaps that have no sidecar.
#[derive(clap::Args, Debug, Clone)]
pub struct HeatmapArgs {
    /// Stride of heatmaps that have no sidecar NAME.json (made by an older
    /// slidescale or another tool). A heatmap with a sidecar always uses
    /// the sidecar's stride.
    #[arg(long = "heatmap-stride", value_name = "S")]
    pub heatmap_stride: Option<u32>,
}

/// The heatmaps to read: `(slide name, .npy path)`, sorted by name.
pub struct HeatmapSet {
    pub heatmaps: Vec<(String, PathBuf)>,
    /// Stands in for a missing sidecar.
    pub stride: Option<u32>,
}

impl HeatmapArgs {
    /// The heatmaps of `slides` in `work` (all of them when `slides` is
    /// empty); a named slide without a heatmap is an error, as is a work
    /// directory without any.
    pub fn select(&self, work: &Path, slides: &[String]) -> anyhow::Result<HeatmapSet> {
        let dir = WorkDir::new(work);
        let found = dir
            .heatmap_names()
            .map_err(|e| bad_input(format!("{}: {e}", dir.heatmaps_dir().display())))?;
        let names = if slides.is_empty() {
            found
        } else {
            let missing: Vec<&str> = slides
                .iter()
                .filter(|s| !found.contains(s))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(bad_input(format!(
                    "{}: no heatmap of {}",
                    dir.heatmaps_dir().display(),
                    missing.join(", ")
                )));
            }
            slides.to_vec()
        };
        if names.is_empty() {
            return Err(bad_input(format!(
                "{}: no heatmaps (run `slidescale run` or `slidescale stitch` first)",
                dir.heatmaps_dir().display()
            )));
        }
        let heatmaps = names
            .into_iter()
            .map(|n| {
                let npy = dir.heatmap_npy(&n);
                (n, npy)
            })
            .collect();
        Ok(HeatmapSet {
            heatmaps,
            stride: self.heatmap_stride,
        })
    }
}

impl HeatmapSet {
    /// The `.npy` of `slide` (one of the selected).
    pub fn path(&self, slide: &str) -> PathBuf {
        self.heatmaps
            .iter()
            .find(|(n, _)| n == slide)
            .map(|(_, p)| p.clone())
            .expect("a selected slide")
    }

    /// Read one heatmap with its description (checked to belong together).
    pub fn load(&self, npy: &Path) -> anyhow::Result<(HeatmapMeta, Raster<f32>)> {
        load_heatmap(npy, self.stride).map_err(bad_input)
    }
}

/// How lesions are found in a heatmap.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectChoice {
    /// The authors' rule: threshold, morphological close then open with an
    /// elliptical kernel, connected regions; one detection per region at
    /// its centroid with the region's mean probability.
    Regions,
    /// Local maxima above the threshold, with non-maximum suppression
    /// within a radius (as NCRF does).
    LocalMax,
}

/// Detection settings, as flags.
#[derive(clap::Args, Debug, Clone)]
pub struct DetectArgs {
    /// Detection rule.
    #[arg(long = "detect", value_enum, default_value = "regions")]
    pub rule: DetectChoice,
    /// Probability threshold: regions are `heatmap > P`; local maxima must
    /// exceed P [default: 0.9 for regions (the authors'), 0.5 for local-max (NCRF's)].
    #[arg(long, value_name = "P")]
    pub threshold: Option<f64>,
    /// Regions: side of the elliptical structuring element of the close and
    /// open, in stride-16 heatmap pixels (the authors' 20 = 320 level-0
    /// pixels); at stride s it is round(16·PX / s) pixels, so every stride
    /// looks for the same lesions.
    #[arg(long, default_value_t = 20, value_name = "PX")]
    pub kernel: u32,
    /// Local maxima: suppression half-width in level-0 pixels (NCRF's 12
    /// pixels at stride 64).
    #[arg(long = "nms-radius", default_value_t = 768, value_name = "PX")]
    pub nms_radius: u32,
}

impl DetectArgs {
    /// The detection rule these flags ask for.
    pub fn spec(&self) -> anyhow::Result<DetectionSpec> {
        let threshold = self.threshold.unwrap_or(match self.rule {
            DetectChoice::Regions => 0.9,
            DetectChoice::LocalMax => 0.5,
        });
        if !(0.0..1.0).contains(&threshold) {
            return Err(bad_input(format!(
                "--threshold {threshold}: a probability in [0, 1)"
            )));
        }
        if self.kernel == 0 || self.nms_radius == 0 {
            return Err(bad_input("--kernel and --nms-radius: at least 1 pixel"));
        }
        Ok(match self.rule {
            DetectChoice::Regions => DetectionSpec::Regions {
                threshold,
                element_level0: f64::from(self.kernel) * 16.0,
            },
            DetectChoice::LocalMax => DetectionSpec::LocalMaxima {
                threshold,
                radius_level0: f64::from(self.nms_radius),
            },
        })
    }
}
