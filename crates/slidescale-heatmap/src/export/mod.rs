//! A stitched heatmap in the forms pathologists' viewers open: a
//! probability map as pyramidal TIFF aligned to the slide (ASAP's
//! `<slide>_likelihood_map.tif`), a colour overlay as pyramidal TIFF
//! (QuPath, OpenSlide), and QuPath tile objects as GeoJSON. Each file is
//! written atomically; nothing here prints.

pub mod pyramid;
pub mod tiles;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::meta::{read_heatmap, HeatmapReadError};
use crate::render::ColourRange;
pub use pyramid::{tiff_downsample, Dtype, HeatmapPyramid};
pub use tiles::{tile_features, SCORE, SCORE_MAX, SCORE_MEAN};

/// The files an export can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// `NAME_likelihood_map.tif`: the scores, f32 or u8.
    Tiff,
    /// `NAME_overlay.tif`: the scores colour-mapped, RGBA.
    Overlay,
    /// `NAME_tiles.geojson`: one QuPath tile per scored cell.
    Geojson,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Tiff, Format::Overlay, Format::Geojson];

    /// The name the command line uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Tiff => "tiff",
            Format::Overlay => "overlay",
            Format::Geojson => "geojson",
        }
    }

    /// Where this format of slide `name`'s heatmap goes in `dir`.
    pub fn path(self, dir: &Path, name: &str) -> PathBuf {
        dir.join(match self {
            Format::Tiff => format!("{name}_likelihood_map.tif"),
            Format::Overlay => format!("{name}_overlay.tif"),
            Format::Geojson => format!("{name}_tiles.geojson"),
        })
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?}: expected tiff, overlay or geojson"))
    }
}

/// What to write, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    pub formats: Vec<Format>,
    pub dtype: Dtype,
    /// Scores mapped to the ends of the colour map (and of u8).
    pub range: ColourRange,
    /// Whether a file already at an output's name may be replaced: where
    /// the names are slidescale's own (the work directory's `heatmaps/`),
    /// or when the user says so; otherwise a file slidescale may not have
    /// written is refused, never lost.
    pub replace: bool,
}

/// What one heatmap's export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub name: String,
    /// The files, in the order of the options' formats.
    pub files: Vec<PathBuf>,
    /// Level-0 pixels per TIFF level-0 pixel.
    pub downsample: u32,
    /// TIFF level-0 size and number of levels.
    pub size: (usize, usize),
    pub levels: usize,
    /// Scored cells (GeoJSON features), when GeoJSON was written.
    pub tiles: Option<usize>,
}

#[derive(Debug, Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] HeatmapReadError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} exists; remove it, choose another --out, or give --replace")]
    Exists { path: PathBuf },
}

/// Exports the heatmap `npy` (with its sidecar; `stride` stands in for a
/// missing one, as in [`read_heatmap`]) into `dir`.
pub fn export_heatmap(
    npy: &Path,
    stride: Option<u32>,
    dir: &Path,
    options: &ExportOptions,
) -> Result<Exported, ExportError> {
    let (meta, values) = read_heatmap(npy, stride)?;
    let name = slidescale_core::workdir::slide_name(npy);
    let paths: Vec<PathBuf> = options.formats.iter().map(|f| f.path(dir, &name)).collect();
    if !options.replace {
        if let Some(path) = paths.iter().find(|p| p.exists()) {
            return Err(ExportError::Exists { path: path.clone() });
        }
    }
    let pyramid = HeatmapPyramid::new(&meta, &values);
    let mut tiles = None;
    for (format, path) in options.formats.iter().zip(&paths) {
        let io = |source| ExportError::Io {
            path: path.clone(),
            source,
        };
        match format {
            Format::Tiff => pyramid
                .write_likelihood(path, options.dtype, options.range)
                .map_err(io)?,
            Format::Overlay => pyramid.write_overlay(path, options.range).map_err(io)?,
            Format::Geojson => {
                let features = tile_features(&meta, &values);
                let text = slidescale_viewer::geojson::feature_collection(&features);
                slidescale_core::workdir::write_atomic(path, text.as_bytes()).map_err(io)?;
                tiles = Some(features.len());
            }
        }
    }
    let (w, h, _) = &pyramid.levels[0];
    Ok(Exported {
        name,
        files: paths,
        downsample: pyramid.downsample,
        size: (*w, *h),
        levels: pyramid.levels.len(),
        tiles,
    })
}
