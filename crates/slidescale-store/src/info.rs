//! Root attributes of a store (DESIGN §4, schema 3) and their mapping to and
//! from HDF5 attributes.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use hdf5_metno as hdf5;
use slidescale_core::{Analysis, Grid, Resolution, TileGeometry};

use crate::compression::Compression;
use crate::StoreError;

/// The store layout version this crate writes. Schema 3 records the tile
/// geometry (window, tile, context) and the analysis resolution (requested,
/// and the level, resampling and size it resolved to); schema-2 stores, which
/// predate it, are read as the paper's geometry at level 0, which is what
/// they hold. Schema 2 added the checksums (`tile_crc32`, `coords_crc32`,
/// `thumbnail_crc32`, `tissue_mask_crc32`); schema-1 stores are refused with
/// a message to split the slide again (`run` and `split` do that by
/// themselves when the slide is still there, as for any invalid store).
pub const SCHEMA: i64 = 3;

/// Everything a store says about itself in its root attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreInfo {
    /// The slide's name (file name without extension); the store is NAME.h5.
    pub name: String,
    pub slidescale_version: String,
    /// Absolute path of the slide when the store was written.
    pub source_path: String,
    /// Size in bytes and modification time (Unix seconds) of the slide file,
    /// so a rerun can tell whether the store still matches its source.
    pub source_size: u64,
    pub source_mtime: f64,
    pub level0_width: u64,
    pub level0_height: u64,
    pub mpp_x: Option<f64>,
    pub mpp_y: Option<f64>,
    pub vendor: String,
    /// Slide driver that read the tiles: "openslide" or "native".
    pub reader: String,
    /// Window, tile and context sides, in analysis pixels.
    pub geometry: TileGeometry,
    /// The resolution the split was asked for.
    pub resolution: Resolution,
    /// What it resolved to on this slide; maps analysis pixels to level 0.
    pub analysis: Analysis,
    /// The grid over the analysis image.
    pub grid: Grid,
    /// Half-open box of tissue cells `[c0, r0, c1, r1)`; `[0, 0, 0, 0]` when
    /// there is no tissue.
    pub bbox: [u32; 4],
    pub otsu_h: f64,
    pub otsu_s: f64,
    pub tissue_min_fraction: f64,
    pub tissue_min_saturation: f64,
    pub tissue_pen_filter: bool,
    /// Version of the tissue rule (`slidescale_tissue::TISSUE_RULE`); 1 for
    /// a schema-2 store, whose rule took Otsu over ink pixels too.
    pub tissue_rule: u32,
    /// "brightfield" or "fluorescence" (the thumbnail's background).
    pub tissue_modality: String,
    /// Otsu threshold on brightness, for a fluorescence slide.
    pub otsu_v: Option<f64>,
    /// The OpenSlide library loaded when the store was split ("4.0.1
    /// (slidescale install location)"), or why none was; empty for schema 2.
    pub openslide: String,
    /// Pyramid level the thumbnail was reduced from.
    pub thumbnail_level: u32,
    pub group_size: u32,
    pub n_groups: u32,
    pub n_patches: u64,
    pub compression: Compression,
}

impl StoreInfo {
    /// Tiles in group `k` (1-based).
    pub fn group_len(&self, k: u32) -> u64 {
        if k == 0 || k > self.n_groups {
            return 0;
        }
        let start = (k as u64 - 1) * self.group_size as u64;
        (self.n_patches - start).min(self.group_size as u64)
    }

    /// Index (0-based, over the slide) of the first tile of group `k`.
    pub fn first_patch_index(&self, k: u32) -> u64 {
        (k.max(1) as u64 - 1) * self.group_size as u64
    }

    pub(crate) fn write_attrs(&self, loc: &hdf5::Location) -> hdf5::Result<()> {
        put_i64(loc, "schema", SCHEMA)?;
        put_str(loc, "name", &self.name)?;
        put_str(loc, "slidescale_version", &self.slidescale_version)?;
        put_str(loc, "source_path", &self.source_path)?;
        put_i64(loc, "source_size", self.source_size as i64)?;
        put_f64(loc, "source_mtime", self.source_mtime)?;
        put_i64(loc, "level0_width", self.level0_width as i64)?;
        put_i64(loc, "level0_height", self.level0_height as i64)?;
        if let Some(v) = self.mpp_x {
            put_f64(loc, "mpp_x", v)?;
        }
        if let Some(v) = self.mpp_y {
            put_f64(loc, "mpp_y", v)?;
        }
        put_str(loc, "vendor", &self.vendor)?;
        put_str(loc, "reader", &self.reader)?;
        self.write_geometry(loc)?;
        put_i64(loc, "grid_cols", self.grid.cols as i64)?;
        put_i64(loc, "grid_rows", self.grid.rows as i64)?;
        let bbox = self.bbox.map(|v| v as i64);
        loc.new_attr::<i64>()
            .shape(4)
            .create("bbox")?
            .write_raw(&bbox)?;
        put_f64(loc, "otsu_h", self.otsu_h)?;
        put_f64(loc, "otsu_s", self.otsu_s)?;
        put_f64(loc, "tissue_min_fraction", self.tissue_min_fraction)?;
        put_f64(loc, "tissue_min_saturation", self.tissue_min_saturation)?;
        put_i64(loc, "tissue_pen_filter", self.tissue_pen_filter as i64)?;
        put_i64(loc, "tissue_rule", self.tissue_rule as i64)?;
        put_str(loc, "tissue_modality", &self.tissue_modality)?;
        if let Some(v) = self.otsu_v {
            put_f64(loc, "otsu_v", v)?;
        }
        put_str(loc, "openslide", &self.openslide)?;
        put_i64(
            loc,
            "thumbnail_downsample",
            slidescale_core::THUMB_DOWNSAMPLE as i64,
        )?;
        put_i64(loc, "thumbnail_level", self.thumbnail_level as i64)?;
        put_i64(loc, "group_size", self.group_size as i64)?;
        put_i64(loc, "n_groups", self.n_groups as i64)?;
        put_i64(loc, "n_patches", self.n_patches as i64)?;
        put_str(loc, "compression", self.compression.name())
    }

    fn write_geometry(&self, loc: &hdf5::Location) -> hdf5::Result<()> {
        let (g, a) = (&self.geometry, &self.analysis);
        put_i64(loc, "window", g.window as i64)?;
        put_i64(loc, "tile", g.tile as i64)?;
        put_i64(loc, "context", g.context() as i64)?;
        let resolution = serde_json::to_string(&self.resolution).expect("serialises");
        put_str(loc, "resolution", &resolution)?;
        put_i64(loc, "analysis_level", a.level as i64)?;
        put_f64(loc, "analysis_level_downsample", a.level_downsample)?;
        put_f64(loc, "analysis_resample", a.resample)?;
        put_f64(loc, "analysis_downsample", a.downsample())?;
        if let Some(m) = a.mpp {
            put_f64(loc, "analysis_mpp", m)?;
        }
        put_i64(loc, "analysis_width", a.width as i64)?;
        put_i64(loc, "analysis_height", a.height as i64)
    }

    /// Geometry, requested resolution and analysis of a schema-3 store; a
    /// schema-2 store holds the paper's geometry at level 0.
    fn read_geometry(
        r: &AttrReader,
        schema: i64,
        level0: (u64, u64, Option<f64>),
    ) -> Result<(TileGeometry, Resolution, Analysis), StoreError> {
        if schema == 2 {
            let analysis = Analysis::level0(level0.0, level0.1, level0.2);
            return Ok((TileGeometry::PAPER, Resolution::default(), analysis));
        }
        let geometry = TileGeometry::new(r.u32("window")?, Some(r.u32("tile")?))
            .map_err(|e| r.bad(format!("attributes window, tile: {e}")))?;
        if r.u32("context")? != geometry.context() {
            return Err(r.bad(format!(
                "attribute context is not tile + 2·⌊window/2⌋ ({})",
                geometry.context()
            )));
        }
        let resolution = serde_json::from_str(&r.string("resolution")?)
            .map_err(|e| r.bad(format!("attribute resolution: {e}")))?;
        let analysis = Analysis {
            level: r.u32("analysis_level")?,
            level_downsample: r.f64("analysis_level_downsample")?,
            resample: r.f64("analysis_resample")?,
            mpp: r.optional_f64("analysis_mpp")?,
            width: r.u64("analysis_width")?,
            height: r.u64("analysis_height")?,
        };
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(analysis.level_downsample) && positive(analysis.resample)) {
            return Err(r.bad(
                "attributes analysis_level_downsample, analysis_resample must be positive".into(),
            ));
        }
        Ok((geometry, resolution, analysis))
    }

    pub(crate) fn read_attrs(loc: &hdf5::Location, path: &Path) -> Result<StoreInfo, StoreError> {
        let r = AttrReader { loc, path };
        let schema = r.i64("schema")?;
        if schema == 1 {
            return Err(r.bad(format!(
                "schema 1 (no checksums), this slidescale reads schema {SCHEMA}: \
                 split the slide again (slidescale split SLIDE --force)"
            )));
        }
        if schema != SCHEMA && schema != 2 {
            return Err(r.bad(format!(
                "schema {schema}, this slidescale reads schemas 2 and {SCHEMA}"
            )));
        }
        let bbox = r.i64s("bbox", 4)?;
        let compression = r.string("compression")?;
        let level0 = (
            r.u64("level0_width")?,
            r.u64("level0_height")?,
            r.optional_f64("mpp_x")?,
        );
        let (geometry, resolution, analysis) = Self::read_geometry(&r, schema, level0)?;
        Ok(StoreInfo {
            geometry,
            resolution,
            analysis,
            name: r.string("name")?,
            slidescale_version: r.string("slidescale_version")?,
            source_path: r.string("source_path")?,
            source_size: r.u64("source_size")?,
            source_mtime: r.f64("source_mtime")?,
            level0_width: r.u64("level0_width")?,
            level0_height: r.u64("level0_height")?,
            mpp_x: r.optional_f64("mpp_x")?,
            mpp_y: r.optional_f64("mpp_y")?,
            vendor: r.string("vendor")?,
            reader: r.string("reader")?,
            grid: Grid {
                cols: r.u32("grid_cols")?,
                rows: r.u32("grid_rows")?,
            },
            bbox: [0, 1, 2, 3].map(|i| bbox[i].max(0) as u32),
            otsu_h: r.f64("otsu_h")?,
            otsu_s: r.f64("otsu_s")?,
            tissue_min_fraction: r.f64("tissue_min_fraction")?,
            tissue_min_saturation: r.f64("tissue_min_saturation")?,
            tissue_pen_filter: r.i64("tissue_pen_filter")? != 0,
            tissue_rule: if schema == 2 {
                1
            } else {
                r.u32("tissue_rule")?
            },
            tissue_modality: if schema == 2 {
                "brightfield".into()
            } else {
                r.string("tissue_modality")?
            },
            otsu_v: r.optional_f64("otsu_v")?,
            openslide: if schema == 2 {
                String::new()
            } else {
                r.string("openslide")?
            },
            thumbnail_level: r.u32("thumbnail_level")?,
            group_size: r.u32("group_size")?,
            n_groups: r.u32("n_groups")?,
            n_patches: r.u64("n_patches")?,
            compression: compression
                .parse()
                .map_err(|e: String| r.bad(format!("attribute compression: {e}")))?,
        })
    }
}

pub(crate) fn put_i64(loc: &hdf5::Location, name: &str, v: i64) -> hdf5::Result<()> {
    loc.new_attr::<i64>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

fn put_f64(loc: &hdf5::Location, name: &str, v: f64) -> hdf5::Result<()> {
    loc.new_attr::<f64>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

fn put_str(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
    // Slide paths are arbitrary bytes on Unix; an interior NUL is the only
    // thing HDF5 strings cannot hold.
    let v: VarLenUnicode = v.replace('\0', "").parse().expect("no NUL left");
    loc.new_attr::<VarLenUnicode>()
        .shape(())
        .create(name)?
        .write_scalar(&v)
}

/// Reads typed root attributes, naming the file and attribute on failure.
pub(crate) struct AttrReader<'a> {
    pub loc: &'a hdf5::Location,
    pub path: &'a Path,
}

impl AttrReader<'_> {
    pub fn bad(&self, reason: String) -> StoreError {
        StoreError::Invalid {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn attr(&self, name: &str) -> Result<hdf5::Attribute, StoreError> {
        self.loc
            .attr(name)
            .map_err(|_| self.bad(format!("missing attribute {name}")))
    }

    pub fn i64(&self, name: &str) -> Result<i64, StoreError> {
        self.attr(name)?
            .read_scalar::<i64>()
            .map_err(|e| self.bad(format!("attribute {name}: {e}")))
    }

    fn u64(&self, name: &str) -> Result<u64, StoreError> {
        let v = self.i64(name)?;
        u64::try_from(v).map_err(|_| self.bad(format!("attribute {name} is negative: {v}")))
    }

    pub fn u32(&self, name: &str) -> Result<u32, StoreError> {
        let v = self.i64(name)?;
        u32::try_from(v).map_err(|_| self.bad(format!("attribute {name} out of range: {v}")))
    }

    fn f64(&self, name: &str) -> Result<f64, StoreError> {
        self.attr(name)?
            .read_scalar::<f64>()
            .map_err(|e| self.bad(format!("attribute {name}: {e}")))
    }

    fn optional_f64(&self, name: &str) -> Result<Option<f64>, StoreError> {
        if self
            .loc
            .attr_names()
            .unwrap_or_default()
            .iter()
            .any(|n| n == name)
        {
            self.f64(name).map(Some)
        } else {
            Ok(None)
        }
    }

    fn string(&self, name: &str) -> Result<String, StoreError> {
        self.attr(name)?
            .read_scalar::<VarLenUnicode>()
            .map(|s| s.as_str().to_string())
            .map_err(|e| self.bad(format!("attribute {name}: {e}")))
    }

    fn i64s(&self, name: &str, n: usize) -> Result<Vec<i64>, StoreError> {
        let v = self
            .attr(name)?
            .read_raw::<i64>()
            .map_err(|e| self.bad(format!("attribute {name}: {e}")))?;
        if v.len() != n {
            return Err(self.bad(format!(
                "attribute {name} has {} values, expected {n}",
                v.len()
            )));
        }
        Ok(v)
    }
}
