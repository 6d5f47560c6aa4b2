//! Dense scoring (`--mode dense`): the model rewritten once into a fully
//! convolutional one ([`slidescale_onnx::dense`]), each context tile scored
//! in as few passes as its stride needs, and the scores put back in the
//! sliding path's `[T/s, T/s]` order, so everything downstream is unchanged.
//!
//! A pass over a region starting at x scores windows at x, x + P, x + 2P…
//! (P the network's stride). Window k of a tile starts at ⌊s/2⌋ + k·s, so
//! windows with the same (k·s) mod P share a pass: one pass per axis when P
//! divides s, P / gcd(s, P) below it (shift-and-stitch), each pass only as
//! large as its own windows need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slidescale_core::Stride;

use crate::backend::{self, Backend, BackendChoice};
use crate::config::{Activation, Layout};
use crate::model::ModelInfo;
use crate::scorer::activate;
use crate::window::Preprocessor;
use crate::{InferError, ScorerOptions};

/// How windows are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreMode {
    /// Every window on its own (exact; the reference).
    #[default]
    Sliding,
    /// Rewritten model, one pass per phase (fast; differs where a window
    /// would see padding at its border and the pass sees real neighbours).
    Dense,
}

impl std::str::FromStr for ScoreMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sliding" => Ok(ScoreMode::Sliding),
            "dense" => Ok(ScoreMode::Dense),
            _ => Err(format!("unknown mode {s:?} (sliding|dense)")),
        }
    }
}

impl std::fmt::Display for ScoreMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScoreMode::Sliding => "sliding",
            ScoreMode::Dense => "dense",
        })
    }
}

/// One axis of a dense pass: the region's start and side in the context
/// tile, and for each window k it covers, the pass output that is its score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisPass {
    pub start: u32,
    pub side: u32,
    /// (k, output index).
    pub picks: Vec<(u32, u32)>,
}

/// The passes along one axis for `n` windows of side `window` at `stride`
/// with a network stride `net`; a tile takes every pair of them (rows ×
/// columns).
pub fn axis_passes(window: u32, stride: Stride, n: u32, net: u32) -> Vec<AxisPass> {
    let s = stride.get();
    let mut phases: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for k in 0..n {
        phases.entry(k * s % net).or_default().push(k);
    }
    phases
        .into_values()
        .map(|ks| {
            let (first, last) = (ks[0], ks[ks.len() - 1]);
            AxisPass {
                start: stride.window_offset(first),
                side: (last - first) * s + window,
                picks: ks.iter().map(|&k| (k, (k - first) * s / net)).collect(),
            }
        })
        .collect()
}

/// The rewritten model and its buffers.
pub(crate) struct DenseScorer {
    backend: Box<dyn Backend>,
    path: PathBuf,
    /// P: the network's stride.
    net: u32,
    buf: Vec<f32>,
    raw: Vec<f32>,
}

impl DenseScorer {
    /// Rewrite `model` (already validated as `info`) and open it with ONNX
    /// Runtime, or say why dense mode cannot score it.
    pub fn load(
        model: &Path,
        info: &ModelInfo,
        opts: &ScorerOptions,
    ) -> Result<DenseScorer, InferError> {
        let refuse = |reason: String| InferError::Dense {
            path: model.to_path_buf(),
            reason,
        };
        if info.layout != Layout::Nchw {
            return Err(refuse("dense mode needs an NCHW input".into()));
        }
        if opts.backend == BackendChoice::Tract {
            return Err(refuse(
                "dense mode runs on ONNX Runtime (tract plans one window shape)".into(),
            ));
        }
        let proto = slidescale_onnx::read(model).map_err(|e| backend::model_error(model, e))?;
        let dense = slidescale_onnx::dense::convert(&proto, &info.input, &info.output, info.window)
            .map_err(refuse)?;
        let bytes = slidescale_onnx::encode(&dense.model);
        drop(proto);
        let lib = crate::locate::find_library(opts.ort_lib.as_deref())?;
        let backend = backend::ort::load_bytes(model, &bytes, info, &lib, opts)?;
        tracing::debug!(
            "dense {}: network stride {}, final feature map {}²",
            model.display(),
            dense.stride,
            dense.feature
        );
        Ok(DenseScorer {
            backend,
            path: model.to_path_buf(),
            net: dense.stride,
            buf: Vec::new(),
            raw: Vec::new(),
        })
    }

    /// Score the n×n windows of one context tile at `stride`; append them
    /// in the sliding path's row-major order.
    #[allow(clippy::too_many_arguments)]
    pub fn score_tile(
        &mut self,
        prep: &Preprocessor,
        tile: &[u8],
        stride: Stride,
        n: u32,
        act: Activation,
        col: usize,
        scores: &mut Vec<f32>,
    ) -> Result<(), InferError> {
        let passes = axis_passes(prep.window as u32, stride, n, self.net);
        let n = n as usize;
        let mut block = vec![f32::NAN; n * n];
        let mut row = Vec::new();
        for py in &passes {
            for px in &passes {
                let (h, w) = (py.side as usize, px.side as usize);
                self.buf.resize(3 * w * h, 0.0);
                let (x0, y0) = (px.start as usize, py.start as usize);
                prep.region(tile, x0, y0, w, h, &mut self.buf);
                self.raw.clear();
                let shape = self
                    .backend
                    .run_shaped(&self.buf, [1, 3, h, w], &mut self.raw)?;
                let (k, rows, cols) = match shape[..] {
                    [1, k, r, c] => (k, r, c),
                    _ => return Err(self.error(format!("dense output shape {shape:?}"))),
                };
                let need = |p: &AxisPass| p.picks.last().map_or(0, |&(_, a)| a as usize + 1);
                if need(py) > rows || need(px) > cols || col >= k {
                    return Err(self.error(format!(
                        "dense output {shape:?} for a {w}×{h} region lacks the windows' scores"
                    )));
                }
                for &(i, a) in &py.picks {
                    for &(j, b) in &px.picks {
                        row.clear();
                        let at = a as usize * cols + b as usize;
                        row.extend((0..k).map(|c| self.raw[c * rows * cols + at]));
                        block[i as usize * n + j as usize] = activate(act, &row, col);
                    }
                }
            }
        }
        scores.extend_from_slice(&block);
        Ok(())
    }

    fn error(&self, reason: String) -> InferError {
        InferError::Run {
            path: self.path.clone(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u32) -> Stride {
        Stride::new(v).unwrap()
    }

    #[test]
    fn a_multiple_of_the_network_stride_takes_one_pass() {
        let p = axis_passes(224, s(64), 7, 32);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].start, p[0].side), (32, 6 * 64 + 224));
        assert_eq!(p[0].picks[3], (3, 6));
    }

    #[test]
    fn below_the_network_stride_windows_split_by_phase() {
        // s = 16, P = 32: even and odd windows, each pass 7 outputs wide
        let p = axis_passes(224, s(16), 14, 32);
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].start, p[0].side, p[0].picks.len()), (8, 192 + 224, 7));
        assert_eq!(
            (p[1].start, p[1].picks[0], p[1].picks[6]),
            (24, (1, 0), (13, 6))
        );
        // s = 56, P = 32: four phases of one window each, never wider than
        // a window (never slower than sliding)
        let q = axis_passes(224, s(56), 4, 32);
        assert_eq!(q.len(), 4);
        assert!(q.iter().all(|a| a.side == 224 && a.picks.len() == 1));
        // every window is picked exactly once
        let mut ks: Vec<u32> = p.iter().flat_map(|a| a.picks.iter().map(|x| x.0)).collect();
        ks.sort_unstable();
        assert_eq!(ks, (0..14).collect::<Vec<_>>());
    }

    #[test]
    fn modes_parse_and_print() {
        assert_eq!("dense".parse::<ScoreMode>(), Ok(ScoreMode::Dense));
        assert_eq!(ScoreMode::default().to_string(), "sliding");
        assert!("fast".parse::<ScoreMode>().is_err());
    }
}
