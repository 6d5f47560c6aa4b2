//! Arguments `detect` and `evaluate` share: which heatmaps, how lesions are
//! detected in them. Each group turns into typed settings in one method.

use std::path::{Path, PathBuf};

use slidescale_core::WorkDir;
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
pub enum DetectRule {
    /// The authors' rule: threshold, morphological close then open with an
    /// elliptical kernel, connected regions; one detection per region at
    /// its centroid with the region's mean probability.
    Regions,
    /// Local maxima above the threshold, with non-maximum suppression
    /// within a radius (as NCRF does).
    LocalMax,
}

/// Detection settings, as flags.
// TODO(lead): align names and defaults with i8-det's parameter type when merging.
#[derive(clap::Args, Debug, Clone)]
pub struct DetectArgs {
    /// Detection rule.
    #[arg(long = "detect", value_enum, default_value = "regions")]
    pub rule: DetectRule,
    /// Probability threshold: regions are `heatmap > P`; local maxima must
    /// exceed P.
    #[arg(long, default_value_t = 0.9, value_name = "P")]
    pub threshold: f64,
    /// Regions: diameter of the elliptical structuring element of the close
    /// and open, in stride-16 heatmap pixels (the authors' 20; scaled to
    /// the heatmap's stride).
    #[arg(long, default_value_t = 20, value_name = "PX")]
    pub kernel: u32,
    /// Local maxima: suppression radius in level-0 pixels.
    #[arg(long = "nms-radius", default_value_t = 256, value_name = "PX")]
    pub nms_radius: u32,
}

/// Typed detection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub rule: DetectRule,
    pub threshold: f64,
    pub kernel: u32,
    pub nms_radius: u32,
}

impl DetectArgs {
    pub fn settings(&self) -> anyhow::Result<DetectSettings> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(bad_input(format!(
                "--threshold {}: a probability, 0 to 1",
                self.threshold
            )));
        }
        Ok(DetectSettings {
            rule: self.rule,
            threshold: self.threshold,
            kernel: self.kernel,
            nms_radius: self.nms_radius,
        })
    }
}
