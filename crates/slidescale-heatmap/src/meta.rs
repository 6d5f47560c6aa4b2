//! A heatmap's sidecar, `NAME.json` beside `NAME.npy`: what the heatmap is
//! (stride, shape, the slide's level-0 size and MPP) and where it came from
//! (the model and the scoring settings of its run), so that evaluation needs
//! neither the store nor the work directory.
//!
//! The sidecar records the CRC-32 of the `.npy`'s data (the one its header
//! carries): [`read_heatmap`] refuses a sidecar paired with another heatmap,
//! e.g. after a stitch killed between writing the two files.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slidescale_core::workdir::{heatmap_sidecar_path, write_atomic};
use thiserror::Error;

use crate::npy::{read_npy, NpyError, NpyHeader};

/// Format version of the sidecar. Version 2 added the window and the
/// analysis resolution; a version-1 sidecar (level 0, 224-px windows) still
/// reads, any other version is refused.
pub const HEATMAP_META_VERSION: u32 = 2;

/// Everything a heatmap says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapMeta {
    pub format_version: u32,
    /// The slidescale that stitched it.
    pub slidescale_version: String,
    /// The slide's name (its file name without extension).
    pub slide: String,
    /// The slide file when it was split; `None` when not known.
    pub source_path: Option<String>,
    /// Stride of the windows, analysis pixels.
    pub stride: u32,
    /// Side of one heatmap pixel in level-0 pixels: stride × analysis
    /// downsample (= stride at level 0). Use [`HeatmapMeta::level0_per_pixel`].
    pub pixel_size: f64,
    /// Heatmap `[rows, cols]`.
    pub shape: [u64; 2],
    /// Side of a grid cell in analysis pixels (T): the heatmap is
    /// `tile / stride` pixels per cell.
    pub tile: u32,
    /// Side of the window the model scored (W), analysis pixels.
    #[serde(default = "paper_window")]
    pub window: u32,
    /// Level-0 pixels per analysis pixel (1 at level 0).
    #[serde(default = "one")]
    pub analysis_downsample: f64,
    /// The pyramid level analysis pixels were read from.
    #[serde(default)]
    pub analysis_level: u32,
    /// µm per analysis pixel, when the slide's MPP is known.
    #[serde(default)]
    pub analysis_mpp: Option<f64>,
    pub level0_width: u64,
    pub level0_height: u64,
    /// Level-0 µm per pixel, as the slide gives it; `None` when unknown.
    pub mpp_x: Option<f64>,
    pub mpp_y: Option<f64>,
    /// The model of the run; `None` when the run recorded no spec.
    pub model: Option<ModelMeta>,
    /// The settings the scores were computed with; `None` for a heatmap
    /// described by [`HeatmapMeta::assumed`].
    pub scoring: Option<ScoringMeta>,
    /// CRC-32 (`zlib.crc32`) of the `.npy`'s data: pairs the sidecar with
    /// exactly one heatmap.
    pub npy_crc32: u32,
}

fn paper_window() -> u32 {
    slidescale_core::TileGeometry::PAPER.window
}

fn one() -> f64 {
    1.0
}

/// The model a heatmap's scores came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The model's file name, without its directory.
    pub file: String,
    /// Size and 64-bit FNV-1a hash of the model file, as `run.json` records it.
    pub bytes: String,
    /// The effective model config (`MODEL.json` with every override), as
    /// `run.json` records it.
    pub config: serde_json::Value,
}

/// How the scores were computed, besides the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringMeta {
    /// "none", "macenko", "reinhard" or "vahadane"; `None` when the run
    /// recorded no spec.
    pub stain_method: Option<String>,
    /// The fitted stain target's identity; empty for "none".
    pub stain_target: Option<String>,
    /// The slide driver that read the tiles ("openslide" or "native").
    pub reader: String,
    /// Context tile side, level-0 pixels.
    pub context: u32,
    pub min_tissue: f64,
    pub min_saturation: f64,
    pub pen_filter: bool,
}

#[derive(Debug, Error)]
pub enum HeatmapReadError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(
        "{npy}: no sidecar {}: the heatmap was made by a slidescale that did not yet \
         describe its heatmaps, or by another tool; run `slidescale stitch` again, or give \
         its stride (--heatmap-stride)",
        .sidecar.display()
    )]
    NoSidecar { npy: PathBuf, sidecar: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: unreadable heatmap sidecar: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: sidecar format {found}, this slidescale reads 1 and {HEATMAP_META_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("{sidecar} does not describe {}: {what}", .npy.display())]
    Mismatch {
        npy: PathBuf,
        sidecar: String,
        what: String,
    },
}

/// Write `meta` as the sidecar of the heatmap `npy`, atomically.
pub fn write_heatmap_meta(npy: &Path, meta: &HeatmapMeta) -> Result<PathBuf, HeatmapReadError> {
    let path = heatmap_sidecar_path(npy);
    let mut text = serde_json::to_string_pretty(meta).expect("a HeatmapMeta serialises");
    text.push('\n');
    write_atomic(&path, text.as_bytes()).map_err(|source| HeatmapReadError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Read the sidecar of the heatmap `npy`, without checking its pairing.
pub fn read_heatmap_meta(npy: &Path) -> Result<HeatmapMeta, HeatmapReadError> {
    let path = heatmap_sidecar_path(npy);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(HeatmapReadError::NoSidecar {
                npy: npy.to_path_buf(),
                sidecar: path,
            })
        }
        Err(source) => return Err(HeatmapReadError::Io { path, source }),
    };
    let version: serde_json::Value = serde_json::from_str(&text).map_err(|e| corrupt(&path, e))?;
    let found = version["format_version"].as_u64().unwrap_or(0) as u32;
    // Version 1 is version 2 at level 0 with 224-px windows (the defaults
    // of the fields it lacks).
    if found != HEATMAP_META_VERSION && found != 1 {
        return Err(HeatmapReadError::Version { path, found });
    }
    serde_json::from_value(version).map_err(|e| corrupt(&path, e))
}

fn corrupt(path: &Path, e: serde_json::Error) -> HeatmapReadError {
    HeatmapReadError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Read the heatmap `npy` and its sidecar, checking that they belong
/// together (shape and CRC-32). Values are row-major, `meta.shape`.
///
/// `stride` stands in for a missing sidecar (a heatmap made before
/// sidecars, or by another tool): the description is then
/// [`HeatmapMeta::assumed`]. A sidecar that exists is always checked.
pub fn read_heatmap(
    npy: &Path,
    stride: Option<u32>,
) -> Result<(HeatmapMeta, Vec<f32>), HeatmapReadError> {
    let (header, values) = read_npy(npy)?;
    let meta = match (read_heatmap_meta(npy), stride) {
        (Err(HeatmapReadError::NoSidecar { .. }), Some(s)) => {
            HeatmapMeta::assumed(npy, &header, s)?
        }
        (meta, _) => meta?,
    };
    check_pairing(npy, &meta, &header)?;
    Ok((meta, values))
}

/// The one rule for a sidecar and a `.npy` belonging together.
fn check_pairing(
    npy: &Path,
    meta: &HeatmapMeta,
    header: &NpyHeader,
) -> Result<(), HeatmapReadError> {
    let mismatch = |what: String| HeatmapReadError::Mismatch {
        npy: npy.to_path_buf(),
        sidecar: heatmap_sidecar_path(npy).display().to_string(),
        what,
    };
    if header.shape != meta.shape {
        return Err(mismatch(format!(
            "shape {:?}, the sidecar says {:?}",
            header.shape, meta.shape
        )));
    }
    match header.crc32 {
        Some(crc) if crc == meta.npy_crc32 => Ok(()),
        Some(crc) => Err(mismatch(format!(
            "data CRC-32 {crc:08x}, the sidecar says {:08x} (stitched again since?)",
            meta.npy_crc32
        ))),
        // a heatmap from elsewhere, described by an assumed sidecar
        None if meta.npy_crc32 == 0 => Ok(()),
        None => Err(mismatch("the .npy records no CRC-32".into())),
    }
}

impl HeatmapMeta {
    /// Level-0 pixels per heatmap pixel along each axis: the stride times
    /// the analysis resolution's downsample (the stride itself at level 0).
    /// Every mapping of a heatmap pixel to level-0 coordinates uses this.
    pub fn level0_per_pixel(&self) -> f64 {
        self.pixel_size
    }

    /// The description of a heatmap without a sidecar, at stride `stride`
    /// given by the user: the slide is taken to be as large as the heatmap
    /// covers (rows·stride × cols·stride, an upper bound), MPP, model and
    /// settings unknown.
    pub fn assumed(
        npy: &Path,
        header: &NpyHeader,
        stride: u32,
    ) -> Result<HeatmapMeta, HeatmapReadError> {
        let [rows, cols] = match header.shape[..] {
            [r, c] => [r, c],
            _ => {
                return Err(HeatmapReadError::Mismatch {
                    npy: npy.to_path_buf(),
                    sidecar: "a heatmap".into(),
                    what: format!("shape {:?} is not 2-D", header.shape),
                })
            }
        };
        Ok(HeatmapMeta {
            format_version: HEATMAP_META_VERSION,
            slidescale_version: String::new(),
            slide: slidescale_core::workdir::slide_name(npy),
            source_path: None,
            stride,
            pixel_size: stride as f64,
            shape: [rows, cols],
            tile: slidescale_core::TileGeometry::PAPER.tile,
            window: slidescale_core::TileGeometry::PAPER.window,
            analysis_downsample: 1.0,
            analysis_level: 0,
            analysis_mpp: None,
            level0_width: cols * stride as u64,
            level0_height: rows * stride as u64,
            mpp_x: None,
            mpp_y: None,
            model: None,
            scoring: None,
            npy_crc32: header.crc32.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::write_npy_f32;

    fn meta_of(npy: &Path, shape: [u64; 2]) -> HeatmapMeta {
        let header = crate::npy::read_npy_header(npy).unwrap();
        let mut meta = HeatmapMeta::assumed(npy, &header, 16).unwrap();
        meta.shape = shape;
        meta.mpp_x = Some(0.2425);
        meta.model = Some(ModelMeta {
            file: "m.onnx".into(),
            bytes: "12:abcd".into(),
            config: serde_json::json!({"activation": "softmax"}),
        });
        meta
    }

    #[test]
    fn a_sidecar_round_trips_and_pairs_only_with_its_heatmap() {
        let dir = slidescale_testutil::temp_dir("meta");
        let npy = dir.join("s.npy");
        let values = [0.5, f32::NAN, 0.25, 1.0, 0.0, 0.75];
        write_npy_f32(&npy, &[2, 3], &values).unwrap();
        let meta = meta_of(&npy, [2, 3]);
        let written = write_heatmap_meta(&npy, &meta).unwrap();
        assert_eq!(written, dir.join("s.json"));
        let (read, v) = read_heatmap(&npy, None).unwrap();
        assert_eq!(read, meta);
        assert_eq!(v[3], 1.0);

        // stitched again with other scores: the old sidecar no longer pairs
        write_npy_f32(&npy, &[2, 3], &[0.0; 6]).unwrap();
        let err = read_heatmap(&npy, Some(16)).unwrap_err();
        assert!(err.to_string().contains("data CRC-32"), "{err}");
        write_npy_f32(&npy, &[3, 2], &values).unwrap();
        let err = read_heatmap(&npy, None).unwrap_err();
        assert!(err.to_string().contains("shape [3, 2]"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_heatmap_without_a_sidecar_needs_a_stride() {
        let dir = slidescale_testutil::temp_dir("meta-none");
        let npy = dir.join("old.npy");
        write_npy_f32(&npy, &[28, 14], &[0.5; 28 * 14]).unwrap();
        let err = read_heatmap(&npy, None).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, HeatmapReadError::NoSidecar { .. }));
        assert!(
            text.contains("old.npy: no sidecar") && text.contains("slidescale stitch"),
            "{text}"
        );
        let (meta, _) = read_heatmap(&npy, Some(16)).unwrap();
        assert_eq!(
            (meta.stride, meta.level0_width, meta.level0_height),
            (16, 224, 448)
        );
        assert_eq!(
            (meta.slide.as_str(), meta.mpp_x, meta.model),
            ("old", None, None)
        );

        std::fs::write(dir.join("old.json"), "{\"format_version\": 7}").unwrap();
        let err = read_heatmap(&npy, Some(16)).unwrap_err();
        assert!(err.to_string().contains("sidecar format 7"), "{err}");
        std::fs::write(dir.join("old.json"), "{\"format_version\": 1}").unwrap();
        let err = read_heatmap(&npy, Some(16)).unwrap_err();
        assert!(
            err.to_string()
                .contains("old.json: unreadable heatmap sidecar"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
