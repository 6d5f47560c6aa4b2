//! Stain normalisation of H&E tiles for slidescale's `process` stage.
//!
//! [`fit`] estimates a method's parameters from a target image once; the
//! resulting [`FittedTarget`] is plain JSON (`process` caches it in the work
//! directory so every task reuses it); [`FittedTarget::apply`] normalises one
//! tile (any interleaved RGB buffer; in practice a 448×448 context tile) in
//! place, re-estimating the tile's own stains each time.
//!
//! | method | what | reference it is tested against |
//! |---|---|---|
//! | `macenko` | OD plane of the two main eigenvectors, angular percentiles α = 1, β = 0.15 ([`macenko`]) | numpy port of Veta's `normalizeStaining.m` |
//! | `reinhard` | mean/std transfer in CIE L*a*b* (sRGB, D65, skimage's formulas) ([`reinhard`]) | `skimage.color.rgb2lab`/`lab2rgb` |
//! | `vahadane` | sparse NMF (λ = 0.1), non-negative lasso concentrations (λ = 0.01) ([`vahadane`]) | scikit-learn `DictionaryLearning` + `sparse_encode` |
//!
//! A tile with too little tissue to estimate stains (fewer than 1% of its
//! pixels, or 64, with OD ≥ 0.15 in every channel; e.g. all white) is left
//! unchanged: [`Outcome::NoTissue`].
//!
//! ```
//! use slidescale_stain::{default_target, fit, Method, Outcome};
//! let target = fit(Method::Macenko, &default_target()).unwrap();
//! let json = target.to_json();                      // cache it
//! let target = slidescale_stain::FittedTarget::from_json(&json).unwrap();
//! let mut white = vec![255u8; 448 * 448 * 3];
//! assert_eq!(target.apply(&mut white), Outcome::NoTissue);
//! assert!(white.iter().all(|&v| v == 255));
//! ```

mod linalg;
pub mod macenko;
pub mod reinhard;
mod stains;
mod target;
pub mod vahadane;

use std::path::Path;

use serde::{Deserialize, Serialize};
use slidescale_core::RgbImage;
use thiserror::Error;

pub use reinhard::LabStats;
pub use stains::{StainParams, MIN_TISSUE_FRACTION, MIN_TISSUE_PIXELS, OD_THRESHOLD};
pub use target::{default_target, load_target, DEFAULT_TARGET_NAME};

/// A normalisation method (`--stain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    #[default]
    None,
    Macenko,
    Reinhard,
    Vahadane,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Method::None),
            "macenko" => Ok(Method::Macenko),
            "reinhard" => Ok(Method::Reinhard),
            "vahadane" => Ok(Method::Vahadane),
            _ => Err(format!(
                "unknown stain method {s:?} (none|macenko|reinhard|vahadane)"
            )),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::None => "none",
            Method::Macenko => "macenko",
            Method::Reinhard => "reinhard",
            Method::Vahadane => "vahadane",
        })
    }
}

/// The parameters a method learned from the target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Params {
    None,
    Stains(StainParams),
    Lab(LabStats),
}

/// A method fitted to a target image; serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTarget {
    pub method: Method,
    pub params: Params,
    /// Which image it was fitted to (see [`target_id`]), so a cached fit is
    /// only reused for the same target.
    pub target: String,
}

/// What [`FittedTarget::apply`] did to a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Normalised,
    /// Method `none`: nothing to do.
    Unchanged,
    /// Too little tissue to estimate the tile's stains: left as it was.
    NoTissue,
}

#[derive(Debug, Error)]
pub enum StainError {
    #[error("stain target {what} has too little tissue to fit {method} (needs ≥ 1% of pixels with optical density ≥ 0.15 in every channel)")]
    NoTissue { what: String, method: Method },
    #[error("cannot read stain target {path}: {reason}")]
    Image { path: String, reason: String },
    #[error("bad fitted stain target: {0}")]
    Json(String),
    #[error("cannot write fitted stain target {path}: {reason}")]
    Cache { path: String, reason: String },
}

/// Fit `method` to `target`.
pub fn fit(method: Method, target: &RgbImage) -> Result<FittedTarget, StainError> {
    fit_pixels(method, &target.data, &target_id(target))
}

/// Identity of a target image: its size and a 64-bit FNV-1a hash of its
/// pixels (file names can lie; pixels cannot).
pub fn target_id(target: &RgbImage) -> String {
    let h = slidescale_core::fnv1a64(&target.data);
    format!("{}x{} fnv1a64:{h:016x}", target.width, target.height)
}

/// The identity of the target `method` would be fitted to (the bundled one
/// when `target` is `None`), without fitting or caching anything; empty for
/// [`Method::None`]. A run records it before any work is done.
pub fn target_identity(method: Method, target: Option<&Path>) -> Result<String, StainError> {
    if method == Method::None {
        return Ok(String::new());
    }
    let image = match target {
        Some(p) => load_target(p)?,
        None => default_target(),
    };
    Ok(target_id(&image))
}

/// Fit `method` to interleaved RGB pixels; `what` identifies them (errors,
/// and [`FittedTarget::target`]).
pub fn fit_pixels(method: Method, rgb: &[u8], what: &str) -> Result<FittedTarget, StainError> {
    let params = match method {
        Method::None => Some(Params::None),
        Method::Macenko => macenko::estimate(rgb).map(Params::Stains),
        Method::Reinhard => reinhard::estimate(rgb).map(Params::Lab),
        Method::Vahadane => vahadane::estimate(rgb).map(Params::Stains),
    };
    let params = params.ok_or_else(|| StainError::NoTissue {
        what: what.to_string(),
        method,
    })?;
    Ok(FittedTarget {
        method,
        params,
        target: what.to_string(),
    })
}

/// The fitted target for `method` and `target` (a PNG, or the bundled
/// default when `None`), reused from the JSON file `cache` when it holds a
/// fit of the same method to the same pixels, else fitted and written there
/// atomically (temp name + fsync + rename: concurrent tasks may race, they
/// write identical bytes because fitting is deterministic).
pub fn fit_cached(
    method: Method,
    target: Option<&Path>,
    cache: &Path,
) -> Result<FittedTarget, StainError> {
    let image = match target {
        Some(p) => load_target(p)?,
        None => default_target(),
    };
    let id = target_id(&image);
    if let Ok(text) = std::fs::read_to_string(cache) {
        match FittedTarget::from_json(&text) {
            Ok(t) if t.method == method && t.target == id => return Ok(t),
            _ => {} // stale or foreign: refit and replace
        }
    }
    let fitted = fit(method, &image)?;
    slidescale_core::workdir::write_atomic(cache, fitted.to_json().as_bytes()).map_err(|e| {
        StainError::Cache {
            path: cache.display().to_string(),
            reason: e.to_string(),
        }
    })?;
    Ok(fitted)
}

impl FittedTarget {
    /// Normalise `tile` (interleaved RGB, length a multiple of 3) in place.
    pub fn apply(&self, tile: &mut [u8]) -> Outcome {
        let done = match (self.method, &self.params) {
            (Method::None, _) | (_, Params::None) => return Outcome::Unchanged,
            (Method::Macenko, Params::Stains(p)) => macenko::apply(p, tile),
            (Method::Vahadane, Params::Stains(p)) => vahadane::apply(p, tile),
            (Method::Reinhard, Params::Lab(s)) => reinhard::apply(s, tile),
            (m, p) => unreachable!("{m} fitted with {p:?}: from_json checks this"),
        };
        if done {
            Outcome::Normalised
        } else {
            Outcome::NoTissue
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises")
    }

    /// Parse a cached target, checking that method and parameters agree.
    pub fn from_json(s: &str) -> Result<FittedTarget, StainError> {
        let t: FittedTarget =
            serde_json::from_str(s).map_err(|e| StainError::Json(e.to_string()))?;
        let ok = matches!(
            (t.method, &t.params),
            (Method::None, Params::None)
                | (Method::Macenko | Method::Vahadane, Params::Stains(_))
                | (Method::Reinhard, Params::Lab(_))
        );
        if !ok {
            return Err(StainError::Json(format!(
                "method {} with parameters {:?}",
                t.method, t.params
            )));
        }
        Ok(t)
    }
}
