//! The run's job spec: everything its tasks need, typed, written once per
//! run and read by every task (`WORK/run.json`, and a copy in each cluster
//! run's job directory).
//!
//! A spec has two parts. Its [`RunIdentity`] is everything that changes a
//! score — the model's bytes and its effective config after `MODEL.json` and
//! every override, the stride, the scoring mode, the stain method and fitted target, and the
//! split settings the stores record (reader, geometry, grouping, tissue
//! rule). [`RunSpec::admit`] is the one rule every executor and command
//! calls before any work: a run whose identity differs from the one recorded
//! in the work directory is refused, naming each field and both values. Its
//! [`Execution`] part (threads, batch, engine, where the model is) may change
//! from one resume to the next.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use slidescale_core::workdir::write_atomic;
use slidescale_core::{Resolution, Stride, TileGeometry, WorkDir};
use slidescale_infer::{BackendChoice, ModelConfig, ScoreMode, ScorerOptions};
use slidescale_slide::ReaderKind;
use slidescale_stain::{fit_cached, FittedTarget, Method};
use slidescale_store::{Compression, StoreInfo};
use slidescale_tissue::TissueParams;
use thiserror::Error;

use crate::split::SplitOptions;

/// Format version of the spec file; a file of another version is refused
/// with a message that says what to do.
pub const SPEC_VERSION: u32 = 3;

/// Everything a run's tasks need to compute its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub spec_version: u32,
    /// What changes a score: compared field by field on every resume.
    pub identity: RunIdentity,
    /// How the work is done: free to change between a run and its resume.
    pub execution: Execution,
}

/// Everything that changes a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    pub model: ModelIdentity,
    pub stride: u32,
    /// Sliding or dense scoring (dense changes scores near padding); absent
    /// in specs written before it existed, which were all sliding.
    #[serde(default)]
    pub mode: ScoreMode,
    pub stain: StainIdentity,
    /// `None` when the spec was recorded by a `process` task alone, which
    /// does not know how its store was split; filled in by the first `run`.
    pub split: Option<SplitIdentity>,
}

/// The model: its bytes and how it is fed and read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// Size and 64-bit FNV-1a hash of the model file.
    pub bytes: String,
    /// The effective config: `MODEL.json` (or `--model-config`, or the
    /// defaults) with every command-line override applied.
    pub config: ModelConfig,
}

/// Stain normalisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StainIdentity {
    /// "none", "macenko", "reinhard" or "vahadane".
    pub method: String,
    /// The fitted target's pixel identity; empty for "none".
    pub target: String,
}

/// How the stores are split: what each store records about its tiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitIdentity {
    /// "auto", "openslide" or "native": their pixels differ slightly.
    pub reader: String,
    /// Window, target patch and context tile sides, in analysis pixels.
    pub window: u32,
    pub tile: u32,
    pub context: u32,
    /// The analysis resolution asked for.
    pub resolution: Resolution,
    pub group_size: u32,
    pub min_tissue: f64,
    pub min_saturation: f64,
    pub pen_filter: bool,
    /// Version of the tissue rule (`slidescale_tissue::TISSUE_RULE`).
    pub tissue_rule: u32,
}

/// How the work is done; none of it changes a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// The work directory, absolute.
    pub work: PathBuf,
    /// The model file, absolute (its bytes are in the identity).
    pub model: PathBuf,
    /// The stain target image given with `--stain-target`, absolute.
    pub stain_target_image: Option<PathBuf>,
    /// "auto", "ort" or "tract".
    pub backend: String,
    pub ort_lib: Option<PathBuf>,
    /// The OpenSlide library given with `--openslide`, absolute; tasks load
    /// it too (else each searches as the submitting command did).
    #[serde(default)]
    pub openslide_lib: Option<PathBuf>,
    /// Inference threads of one task.
    pub threads: u32,
    /// Threads a split reads and compresses with; 0: every core.
    pub split_threads: u32,
    pub batch: usize,
    /// How tile chunks are compressed (lossless: not part of the identity).
    pub compression: String,
}

/// One field in which two identities differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Dotted path of the field, e.g. `model.config.activation`.
    pub field: String,
    pub recorded: String,
    pub requested: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (recorded {}, now {})",
            self.field, self.recorded, self.requested
        )
    }
}

#[derive(Debug, Error)]
pub enum SpecError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unreadable run spec: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "{path} was written by an older slidescale that did not record the whole run identity \
         (model config, reader, split settings); start over with --force or use another --out"
    )]
    OldFormat { path: PathBuf },
    #[error(
        "{path}: this run differs from the one recorded there in {}; use the recorded \
         settings, another --out, or --force to start over",
        list(.differences)
    )]
    Mismatch {
        path: PathBuf,
        differences: Vec<Difference>,
    },
    #[error("{0} already holds a run: add --resume to finish it, or --force to start over")]
    AlreadyStarted(PathBuf),
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{cache}: cannot fit the stain target: {reason}")]
    Stain { cache: PathBuf, reason: String },
    #[error(
        "stain target fitted in {cache} is {found}, but this run was recorded with {recorded}"
    )]
    StainTarget {
        cache: PathBuf,
        found: String,
        recorded: String,
    },
}

fn list(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(Difference::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the caller asked for about an existing run in the work directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A new run: refused if the work directory already holds one.
    Fresh,
    /// `--resume`, or a `process` task: the identity must equal the recorded one.
    Resume,
    /// `--force`: the recorded run is replaced (its outputs are discarded by the caller).
    Replace,
}

/// The parts of a spec a command knows, from its flags.
pub struct SpecInputs<'a> {
    pub work: &'a Path,
    pub model: &'a Path,
    pub scorer: &'a ScorerOptions,
    pub stride: Stride,
    pub stain: Method,
    /// [`slidescale_stain::target_identity`] of the target image.
    pub stain_target: String,
    pub stain_target_image: Option<&'a Path>,
    /// `None` for a `process` task, which does not split.
    pub split: Option<&'a SplitOptions>,
}

impl RunSpec {
    /// The spec of a run with these settings. Hashes the model file.
    pub fn new(inputs: &SpecInputs) -> Result<RunSpec, SpecError> {
        let absolute = |p: &Path| {
            std::path::absolute(p).map_err(|source| SpecError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let config = inputs.scorer.config.clone().unwrap_or_default();
        let identity = RunIdentity {
            model: ModelIdentity {
                bytes: file_id(inputs.model)?,
                config,
            },
            stride: inputs.stride.get(),
            mode: inputs.scorer.mode,
            stain: StainIdentity {
                method: inputs.stain.to_string(),
                target: inputs.stain_target.clone(),
            },
            split: inputs.split.map(SplitIdentity::of_options),
        };
        let execution = Execution {
            work: absolute(inputs.work)?,
            model: absolute(inputs.model)?,
            stain_target_image: inputs.stain_target_image.map(absolute).transpose()?,
            backend: inputs.scorer.backend.to_string(),
            ort_lib: inputs.scorer.ort_lib.as_deref().map(absolute).transpose()?,
            openslide_lib: slidescale_slide::openslide::explicit_library()
                .map(absolute)
                .transpose()?,
            threads: inputs.scorer.threads.max(1) as u32,
            split_threads: inputs.split.map_or(0, |s| s.threads as u32),
            batch: inputs.scorer.batch.max(1),
            compression: inputs
                .split
                .map_or(Compression::default(), |s| s.compression)
                .name()
                .to_string(),
        };
        let spec = RunSpec {
            spec_version: SPEC_VERSION,
            identity,
            execution,
        };
        spec.validate().map_err(|reason| SpecError::Invalid {
            path: inputs.model.to_path_buf(),
            reason,
        })?;
        Ok(spec)
    }

    /// Where a work directory records its run.
    pub fn path(work: &WorkDir) -> PathBuf {
        work.settings_path()
    }

    /// The spec recorded in `work`, if any.
    pub fn load(work: &WorkDir) -> Result<Option<RunSpec>, SpecError> {
        let path = Self::path(work);
        match std::fs::read(&path) {
            Ok(bytes) => Self::parse(&bytes, &path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SpecError::Io { path, source }),
        }
    }

    /// Read a spec file (a job directory's copy, or `run.json`).
    pub fn read(path: &Path) -> Result<RunSpec, SpecError> {
        let bytes = std::fs::read(path).map_err(|source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes, path)
    }

    fn parse(bytes: &[u8], path: &Path) -> Result<RunSpec, SpecError> {
        let corrupt = |reason: String| SpecError::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let mut value: Value = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        match value.get("spec_version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(SPEC_VERSION) => {}
            Some(2) => upgrade_v2(&mut value),
            Some(v) => {
                return Err(corrupt(format!(
                    "spec version {v}, expected {SPEC_VERSION}"
                )))
            }
            None if value.get("model_id").is_some() => {
                return Err(SpecError::OldFormat {
                    path: path.to_path_buf(),
                })
            }
            None => return Err(corrupt("no spec_version".into())),
        }
        let spec: RunSpec = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        spec.validate().map_err(|reason| SpecError::Invalid {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(spec)
    }

    /// Write this spec to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<(), SpecError> {
        let text = serde_json::to_string_pretty(self).expect("spec serialises");
        write_atomic(path, text.as_bytes()).map_err(|source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// THE rule for starting work in a work directory that may already hold
    /// a run: a fresh run is refused where one is recorded; a resume (or a
    /// `process` task) is refused when its identity differs from the
    /// recorded one in any field; `Replace` records this run instead.
    /// Records the spec when none is; `record: false` only checks (a dry run
    /// leaves nothing behind). Called before any work by every executor and
    /// every task command.
    pub fn admit(
        &self,
        work: &WorkDir,
        admission: Admission,
        record: bool,
    ) -> Result<(), SpecError> {
        let path = Self::path(work);
        let existing = match admission {
            Admission::Replace => None,
            _ => Self::load(work)?,
        };
        let to_record = match existing {
            None => Some(self.clone()),
            Some(_) if admission == Admission::Fresh => {
                return Err(SpecError::AlreadyStarted(work.root().to_path_buf()))
            }
            Some(recorded) => {
                let differences = recorded.identity.differences(&self.identity);
                if !differences.is_empty() {
                    return Err(SpecError::Mismatch { path, differences });
                }
                // A spec recorded by a lone `process` task learns how its
                // stores were split from the first run that says so.
                (recorded.identity.split.is_none() && self.identity.split.is_some())
                    .then(|| self.clone())
            }
        };
        match to_record {
            Some(spec) if record => spec.write(&path),
            _ => Ok(()),
        }
    }

    pub fn stride(&self) -> Stride {
        Stride::new(self.identity.stride).expect("validated on load and construction")
    }

    /// The tile geometry of the run's split; `None` for a spec a lone
    /// `process` task recorded (its stores say).
    pub fn geometry(&self) -> Option<TileGeometry> {
        let s = self.identity.split.as_ref()?;
        TileGeometry::new(s.window, Some(s.tile)).ok()
    }

    /// The scorer options this spec runs the model with.
    pub fn scorer_options(&self) -> ScorerOptions {
        ScorerOptions {
            backend: self
                .execution
                .backend
                .parse()
                .unwrap_or(BackendChoice::Auto),
            ort_lib: self.execution.ort_lib.clone(),
            threads: self.execution.threads.max(1) as usize,
            batch: self.execution.batch.max(1),
            config: Some(self.identity.model.config.clone()),
            mode: self.identity.mode,
        }
    }

    /// The split options this spec splits with (`None`: not a split spec).
    pub fn split_options(&self, force: bool) -> Option<SplitOptions> {
        let s = self.identity.split.as_ref()?;
        Some(SplitOptions {
            out: self.execution.work.clone(),
            reader: s.reader.parse().unwrap_or(ReaderKind::Auto),
            geometry: TileGeometry::new(s.window, Some(s.tile)).expect("validated on load"),
            resolution: s.resolution,
            group_size: s.group_size,
            compression: self.execution.compression.parse().unwrap_or_default(),
            tissue: TissueParams {
                min_fraction: s.min_tissue,
                min_saturation: s.min_saturation,
                pen_filter: s.pen_filter,
            },
            force,
            threads: self.execution.split_threads as usize,
        })
    }

    /// The model file still has the bytes this spec was made with (a model
    /// replaced while a run is queued must not score half of it).
    pub fn check_model_file(&self) -> Result<(), SpecError> {
        let now = file_id(&self.execution.model)?;
        if now != self.identity.model.bytes {
            return Err(SpecError::Mismatch {
                path: self.execution.model.clone(),
                differences: vec![Difference {
                    field: "model.bytes".into(),
                    recorded: self.identity.model.bytes.clone(),
                    requested: now,
                }],
            });
        }
        Ok(())
    }

    /// A fitted stain target (read from the work directory's cache) is the
    /// one this spec was recorded with.
    fn check_stain(&self, fitted: Option<&FittedTarget>, cache: &Path) -> Result<(), SpecError> {
        let found = fitted.map(|t| t.target.clone()).unwrap_or_default();
        if found != self.identity.stain.target {
            return Err(SpecError::StainTarget {
                cache: cache.to_path_buf(),
                found,
                recorded: self.identity.stain.target.clone(),
            });
        }
        Ok(())
    }

    pub fn stain_method(&self) -> Method {
        self.identity.stain.method.parse().unwrap_or(Method::None)
    }

    /// The stain target this spec names, fitted once per work directory and
    /// cached there (`WORK/stain/METHOD.json`); `None` for no normalisation.
    /// Refused when the fit is not of the recorded target.
    pub fn fitted_stain(&self, work: &WorkDir) -> Result<Option<FittedTarget>, SpecError> {
        let method = self.stain_method();
        if method == Method::None {
            return Ok(None);
        }
        let cache = work.stain_target_path(&method.to_string());
        let image = self.execution.stain_target_image.as_deref();
        let fitted = fit_cached(method, image, &cache).map_err(|e| SpecError::Stain {
            cache: cache.clone(),
            reason: e.to_string(),
        })?;
        self.check_stain(Some(&fitted), &cache)?;
        Ok(Some(fitted))
    }

    fn validate(&self) -> Result<(), String> {
        Stride::new(self.identity.stride).map_err(|e| e.to_string())?;
        self.identity
            .stain
            .method
            .parse::<Method>()
            .map_err(|e| e.to_string())?;
        self.execution
            .backend
            .parse::<BackendChoice>()
            .map_err(|e| e.to_string())?;
        self.execution
            .compression
            .parse::<Compression>()
            .map_err(|e| e.to_string())?;
        if let Some(s) = &self.identity.split {
            s.reader.parse::<ReaderKind>()?;
            if s.group_size == 0 {
                return Err("group size 0".into());
            }
            let geometry = TileGeometry::new(s.window, Some(s.tile)).map_err(|e| e.to_string())?;
            if geometry.context() != s.context {
                return Err(format!("context {} for {geometry}", s.context));
            }
            geometry
                .check_stride(self.stride())
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl RunIdentity {
    /// Every field in which `requested` differs from `self` (the recorded
    /// identity), in a stable order. A split part that one side does not
    /// know (`None`: a `process` task's) is not a difference.
    pub fn differences(&self, requested: &RunIdentity) -> Vec<Difference> {
        let mut recorded = serde_json::to_value(self).expect("identity serialises");
        let mut requested_value = serde_json::to_value(requested).expect("identity serialises");
        if self.split.is_none() || requested.split.is_none() {
            recorded["split"] = Value::Null;
            requested_value["split"] = Value::Null;
        }
        let mut out = Vec::new();
        diff_values("", &recorded, &requested_value, &mut out);
        out
    }
}

/// A version-2 spec (before window sizes and resolutions) recorded the
/// paper's geometry at level 0: say so in version 3's terms.
fn upgrade_v2(value: &mut Value) {
    if let Some(split) = value
        .pointer_mut("/identity/split")
        .and_then(Value::as_object_mut)
    {
        split.insert("window".into(), Value::from(TileGeometry::PAPER.window));
        // the rule before ink-free thresholds
        split.insert("tissue_rule".into(), Value::from(1));
        let level0 = serde_json::to_value(Resolution::default()).expect("serialises");
        split.insert("resolution".into(), level0);
    }
    value["spec_version"] = Value::from(SPEC_VERSION);
}

/// Leaf-by-leaf comparison of two JSON trees, appending differing leaves.
fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<Difference>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_values(
                    &sub,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push(Difference {
            field: path.to_string(),
            recorded: a.to_string(),
            requested: b.to_string(),
        }),
        _ => {}
    }
}

impl SplitIdentity {
    pub fn of_options(opts: &SplitOptions) -> SplitIdentity {
        SplitIdentity {
            reader: opts.reader.to_string(),
            window: opts.geometry.window,
            tile: opts.geometry.tile,
            context: opts.geometry.context(),
            resolution: opts.resolution,
            group_size: opts.group_size,
            min_tissue: opts.tissue.min_fraction,
            min_saturation: opts.tissue.min_saturation,
            pen_filter: opts.tissue.pen_filter,
            tissue_rule: slidescale_tissue::TISSUE_RULE,
        }
    }

    /// Why a store does not hold tiles split this way, if it does not.
    /// (Compression is lossless and does not count.)
    pub fn store_mismatch(&self, info: &StoreInfo) -> Option<String> {
        let reader_ok = match self.reader.parse().unwrap_or(ReaderKind::Auto) {
            ReaderKind::Auto => true,
            ReaderKind::OpenSlide => info.reader == "openslide",
            ReaderKind::Native => info.reader == "native",
        };
        let geometry = TileGeometry::new(self.window, Some(self.tile));
        let checks = [
            (!reader_ok).then(|| format!("read by {}, not {}", info.reader, self.reader)),
            (geometry.as_ref().ok() != Some(&info.geometry)).then(|| {
                format!(
                    "{}, not window {} px, tile {} px",
                    info.geometry, self.window, self.tile
                )
            }),
            (info.resolution != self.resolution)
                .then(|| format!("{}, not {}", info.resolution, self.resolution)),
            (info.group_size != self.group_size)
                .then(|| format!("group size {}, not {}", info.group_size, self.group_size)),
            (info.tissue_min_fraction != self.min_tissue).then(|| {
                format!(
                    "min tissue {}, not {}",
                    info.tissue_min_fraction, self.min_tissue
                )
            }),
            (info.tissue_min_saturation != self.min_saturation).then(|| {
                format!(
                    "min saturation {}, not {}",
                    info.tissue_min_saturation, self.min_saturation
                )
            }),
            (info.tissue_rule != self.tissue_rule)
                .then(|| format!("tissue rule {}, not {}", info.tissue_rule, self.tissue_rule)),
            (info.tissue_pen_filter != self.pen_filter).then(|| {
                format!(
                    "pen filter {}, not {}",
                    info.tissue_pen_filter, self.pen_filter
                )
            }),
        ];
        let reasons: Vec<String> = checks.into_iter().flatten().collect();
        (!reasons.is_empty()).then(|| reasons.join(", "))
    }
}

/// Size and 64-bit FNV-1a hash of a file's bytes.
pub fn file_id(path: &Path) -> Result<String, SpecError> {
    let bytes = std::fs::read(path).map_err(|source| SpecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let h = slidescale_core::fnv1a64(&bytes);
    Ok(format!("{} bytes fnv1a64:{h:016x}", bytes.len()))
}

#[cfg(test)]
mod tests;
