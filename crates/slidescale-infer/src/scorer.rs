//! [`Scorer`]: a loaded model plus a reusable batch buffer; turns context
//! tiles into window scores, all at once ([`Scorer::score_tiles`]) or as they
//! arrive ([`Scorer::stream`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slidescale_core::{Stride, TileGeometry};

use crate::backend::{self, Backend, BackendChoice};
use crate::config::Activation;
use crate::dense::{DenseScorer, ScoreMode};
use crate::model::ModelInfo;
use crate::window::Preprocessor;
use crate::{InferError, ModelConfig};

/// Default windows per batch. googlenet at 2 threads is flat from 16 to 64
/// (DESIGN §5); smallcnn `process` at stride 16 is 30% faster at 32 than at
/// 64 (the 19 MB batch buffer stays in cache; bench/run/README.md), and the
/// bare model too (3397 vs 2771 img/s).
pub const DEFAULT_BATCH: usize = 32;

/// How to load a model. `Default` fits the shared models on this machine.
#[derive(Debug, Clone)]
pub struct ScorerOptions {
    pub backend: BackendChoice,
    /// Explicit `libonnxruntime.so` (the CLI's `--ort-lib`); see [`crate::locate`].
    pub ort_lib: Option<PathBuf>,
    /// Intra-op threads (inter-op is always 1).
    pub threads: usize,
    /// Windows per inference call.
    pub batch: usize,
    /// `None`: `MODEL.json` beside the model, else the defaults.
    pub config: Option<ModelConfig>,
    /// Sliding (exact) or dense (rewritten model, see [`crate::dense`]).
    pub mode: ScoreMode,
}

impl Default for ScorerOptions {
    fn default() -> Self {
        ScorerOptions {
            backend: BackendChoice::Auto,
            ort_lib: None,
            threads: 2,
            batch: DEFAULT_BATCH,
            config: None,
            mode: ScoreMode::Sliding,
        }
    }
}

/// Where the time went while scoring (for the task's timing line).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreStats {
    pub windows: u64,
    /// Copying windows into the batch buffer.
    pub preprocess: Duration,
    /// Inside the backend's run.
    pub infer: Duration,
    /// Waiting for the producer (only [`Scorer::score_prefetched`]).
    pub wait: Duration,
}

/// Scores of all windows of some tiles, `[n_tiles, T/s, T/s]` row-major:
/// window (i, j) of tile t, which starts at x = ⌊s/2⌋ + j·s, y = ⌊s/2⌋ + i·s
/// in the context tile, is `scores[(t·n + i)·n + j]` with n = T/s.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub scores: Vec<f32>,
    pub stats: ScoreStats,
}

/// Told, on the scoring thread, how many windows each batch scored as soon
/// as it is scored: the windows of a group add up batch by batch, so a
/// caller can show progress inside a group (a stride-16 GoogLeNet group
/// takes minutes) and not only between groups.
pub type BatchProgress<'a> = &'a dyn Fn(u64);

/// A model ready to score windows; one per thread (running needs `&mut`).
pub struct Scorer {
    backend: Box<dyn Backend>,
    info: ModelInfo,
    config: ModelConfig,
    model: PathBuf,
    prep: Preprocessor,
    /// The tiles this scorer cuts windows from ([`Scorer::use_geometry`]).
    geometry: TileGeometry,
    batch: usize,
    buf: Vec<f32>,
    raw: Vec<f32>,
    /// Set in dense mode: tiles go through it instead of the batch buffer.
    dense: Option<DenseScorer>,
}

impl Scorer {
    /// Load and validate `model`; fails before any work if the model does
    /// not take square W×W×3 windows (32 ≤ W ≤ 1024) or has no usable score
    /// output. It scores tiles of T = W until told otherwise
    /// ([`Scorer::use_geometry`]).
    pub fn load(model: &Path, opts: &ScorerOptions) -> Result<Scorer, InferError> {
        let config = match &opts.config {
            Some(c) => {
                c.check().map_err(|reason| InferError::Config {
                    path: ModelConfig::sidecar_path(model),
                    reason,
                })?;
                c.clone()
            }
            None => ModelConfig::for_model(model)?,
        };
        let (backend, info) = backend::load(model, &config, opts)?;
        let batch = info.fixed_batch.unwrap_or(opts.batch.max(1));
        tracing::debug!(
            "model {} on {}: input {:?} {:?}, output {:?}, batch {batch}",
            model.display(),
            backend.name(),
            info.input,
            info.layout,
            info.output
        );
        let geometry =
            TileGeometry::new(info.window, None).map_err(|e| InferError::Unsupported {
                path: model.to_path_buf(),
                reason: e.to_string(),
            })?;
        let dense = match opts.mode {
            ScoreMode::Sliding => None,
            ScoreMode::Dense => Some(DenseScorer::load(model, &info, opts)?),
        };
        Ok(Scorer {
            dense,
            prep: Preprocessor {
                lut: config.lookup_table(),
                layout: info.layout,
                plain_scale: (config.mean.is_none() && config.std.is_none())
                    .then_some(config.scale),
                window: geometry.window as usize,
                context: geometry.context() as usize,
            },
            geometry,
            backend,
            info,
            config,
            model: model.to_path_buf(),
            batch,
            buf: vec![0.0; batch * geometry.window_floats()],
            raw: Vec::new(),
        })
    }

    /// The window side `model` takes (its input's, or the config's for a
    /// dynamic input), without loading it for scoring: what a run needs to
    /// know before it cuts tiles. The model is fully checked by
    /// [`Scorer::load`].
    pub fn model_window(model: &Path, opts: &ScorerOptions) -> Result<u32, InferError> {
        let config = match &opts.config {
            Some(c) => c.clone(),
            None => ModelConfig::for_model(model)?,
        };
        backend::input_window(model, &config, opts)
    }

    /// W: the side of the windows the model takes.
    pub fn window(&self) -> u32 {
        self.geometry.window
    }

    /// The tiles [`Scorer::score_tiles`] and [`Scorer::stream`] take.
    pub fn geometry(&self) -> TileGeometry {
        self.geometry
    }

    /// Score tiles cut with `geometry` from now on (a store's); refused
    /// when its window is not the model's.
    pub fn use_geometry(&mut self, geometry: TileGeometry) -> Result<(), InferError> {
        if geometry.window != self.geometry.window {
            return Err(InferError::Geometry {
                path: self.model.clone(),
                reason: format!(
                    "the tiles were cut for {}-px windows, the model takes {} px; \
                     split the slides again for this model",
                    geometry.window, self.geometry.window
                ),
            });
        }
        self.geometry = geometry;
        self.prep.context = geometry.context() as usize;
        Ok(())
    }

    /// How this scorer scores windows.
    pub fn mode(&self) -> ScoreMode {
        if self.dense.is_some() {
            ScoreMode::Dense
        } else {
            ScoreMode::Sliding
        }
    }

    /// "onnxruntime" or "tract".
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Score every window of `tiles` (n × C×C×3 bytes) at `stride`.
    pub fn score_tiles(&mut self, tiles: &[u8], stride: Stride) -> Result<Scored, InferError> {
        self.score_tiles_with_progress(tiles, stride, &|_| {})
    }

    /// [`Scorer::score_tiles`], calling `progress` after every batch (see
    /// [`BatchProgress`]).
    pub fn score_tiles_with_progress(
        &mut self,
        tiles: &[u8],
        stride: Stride,
        progress: BatchProgress<'_>,
    ) -> Result<Scored, InferError> {
        let mut stream = self.stream_with_progress(stride, progress);
        stream.push(tiles)?;
        stream.finish()
    }

    /// Score W×W windows given directly as u8 RGB (n × W×W×3 bytes), e.g.
    /// for benchmarks or a model check; one score per window.
    pub fn score_windows(&mut self, windows: &[u8]) -> Result<Vec<f32>, InferError> {
        let t = self.geometry.window as usize;
        let win_bytes = 3 * t * t;
        if !windows.len().is_multiple_of(win_bytes) {
            return Err(InferError::TileSize {
                len: windows.len(),
                side: t as u32,
            });
        }
        // Reuse the tile path: each window at the centre of a white tile of
        // T = W, scored at stride W (its one window is the target patch).
        let saved = self.geometry;
        let single = TileGeometry::new(saved.window, None).expect("the model's window is valid");
        self.use_geometry(single)?;
        let (c, m) = (single.context() as usize, single.margin() as usize);
        let mut tile = vec![255u8; single.context_bytes() as usize];
        let stride = Stride::new(single.tile).expect("a window is a valid stride");
        let result = (|| {
            let mut stream = self.stream(stride);
            for w in windows.chunks_exact(win_bytes) {
                for y in 0..t {
                    let dst = ((m + y) * c + m) * 3;
                    tile[dst..dst + t * 3].copy_from_slice(&w[y * t * 3..(y + 1) * t * 3]);
                }
                stream.push(&tile)?;
            }
            Ok(stream.finish()?.scores)
        })();
        self.use_geometry(saved)?;
        result
    }

    /// Score windows already in the model's input form (n × 3·W·W floats,
    /// preprocessed and in the model's layout), batch by batch, straight
    /// from `input` (no copy): the bare model, for benchmarks against other
    /// runtimes.
    pub fn score_floats(&mut self, input: &[f32]) -> Result<Vec<f32>, InferError> {
        let per = self.prep.window_floats();
        if !input.len().is_multiple_of(per) {
            return Err(InferError::TileSize {
                len: input.len(),
                side: self.geometry.window,
            });
        }
        let mut scores = Vec::with_capacity(input.len() / per);
        for chunk in input.chunks(self.batch * per) {
            let n = chunk.len() / per;
            if self.info.fixed_batch.is_some() {
                self.buf[..chunk.len()].copy_from_slice(chunk);
                self.run_batch(n, &mut scores)?;
            } else {
                self.run_slice(chunk, n, &mut scores)?;
            }
        }
        Ok(scores)
    }

    /// The model input of every window of `tiles` (n × C×C×3 bytes, cut
    /// with [`Scorer::geometry`]) at `stride`, in score order: n × 3·W·W
    /// floats, preprocessed and laid out exactly as scoring feeds them
    /// (calibrating an int8 model on what the model will see).
    pub fn model_input(&self, tiles: &[u8], stride: Stride) -> Result<Vec<f32>, InferError> {
        let tile_bytes = self.geometry.context_bytes() as usize;
        if !tiles.len().is_multiple_of(tile_bytes) {
            return Err(InferError::TileSize {
                len: tiles.len(),
                side: self.geometry.context(),
            });
        }
        let stride = self
            .geometry
            .check_stride(stride)
            .map_err(|e| InferError::Geometry {
                path: self.model.clone(),
                reason: e.to_string(),
            })?;
        let n = self.geometry.windows_per_axis(stride);
        let per = self.prep.window_floats();
        let count = tiles.len() / tile_bytes * (n * n) as usize;
        let mut input = vec![0f32; count * per];
        let mut slots = input.chunks_exact_mut(per);
        for tile in tiles.chunks_exact(tile_bytes) {
            for (ox, oy) in window_origins(stride, n) {
                let dst = slots.next().expect("one slot per window");
                self.prep.window(tile, ox, oy, dst);
            }
        }
        Ok(input)
    }

    /// The model file this scorer loaded.
    pub fn model_path(&self) -> &Path {
        &self.model
    }

    /// Start scoring tiles that arrive piece by piece; see [`TileStream`].
    pub fn stream(&mut self, stride: Stride) -> TileStream<'_> {
        self.stream_with_progress(stride, &|_| {})
    }

    /// [`Scorer::stream`], calling `progress` after every batch it runs.
    pub fn stream_with_progress<'s>(
        &'s mut self,
        stride: Stride,
        progress: BatchProgress<'s>,
    ) -> TileStream<'s> {
        TileStream {
            scorer: self,
            stride,
            filled: 0,
            scores: Vec::new(),
            stats: ScoreStats::default(),
            progress,
        }
    }

    /// Run the first `n` windows of the batch buffer; append their scores.
    fn run_batch(&mut self, n: usize, scores: &mut Vec<f32>) -> Result<(), InferError> {
        let run_n = match self.info.fixed_batch {
            Some(b) => {
                // A fixed-batch model needs full batches: pad with zeros and
                // drop the padding's scores.
                let per = self.prep.window_floats();
                self.buf[n * per..b * per].fill(0.0);
                b
            }
            None => n,
        };
        let buf = std::mem::take(&mut self.buf);
        let result = self.run_slice(&buf[..run_n * self.prep.window_floats()], run_n, scores);
        self.buf = buf;
        // keep only the real windows' scores (the padding's are dropped)
        if result.is_ok() {
            scores.truncate(scores.len() - (run_n - n));
        }
        result
    }

    /// Run `n` windows held in `input`; append their scores.
    fn run_slice(
        &mut self,
        input: &[f32],
        n: usize,
        scores: &mut Vec<f32>,
    ) -> Result<(), InferError> {
        self.raw.clear();
        let k = self.backend.run(input, n, &mut self.raw)?;
        let col = self.info.column;
        if col >= k {
            return Err(InferError::Run {
                path: self.model.clone(),
                reason: format!("output rows have {k} values, column {col} requested"),
            });
        }
        let act = self.config.activation;
        scores.extend(self.raw.chunks_exact(k).map(|row| activate(act, row, col)));
        Ok(())
    }
}

/// Top-left corners (x, y) of the n×n windows of a tile at `stride`, in
/// score order (row by row): window (i, j) starts at ⌊s/2⌋ + (j, i)·s.
fn window_origins(stride: Stride, n: u32) -> impl Iterator<Item = (usize, usize)> {
    (0..n).flat_map(move |i| {
        (0..n).map(move |j| {
            (
                stride.window_offset(j) as usize,
                stride.window_offset(i) as usize,
            )
        })
    })
}

/// The score of one output row.
pub(crate) fn activate(act: Activation, row: &[f32], col: usize) -> f32 {
    match act {
        Activation::None => row[col],
        Activation::Sigmoid => 1.0 / (1.0 + (-row[col]).exp()),
        Activation::Softmax => {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
            (row[col] - max).exp() / sum
        }
    }
}

/// Scoring in progress: [`push`](TileStream::push) tiles as they are read;
/// each full batch runs at once (batches cross tile boundaries), so only one
/// batch of windows is ever held; [`finish`](TileStream::finish) runs the rest.
pub struct TileStream<'s> {
    scorer: &'s mut Scorer,
    stride: Stride,
    filled: usize,
    scores: Vec<f32>,
    stats: ScoreStats,
    progress: BatchProgress<'s>,
}

impl TileStream<'_> {
    /// Add whole context tiles (n × C×C×3 bytes). The bytes are copied
    /// into the batch buffer before this returns, so the caller may reuse them.
    pub fn push(&mut self, tiles: &[u8]) -> Result<(), InferError> {
        let geometry = self.scorer.geometry;
        let tile_bytes = geometry.context_bytes() as usize;
        if !tiles.len().is_multiple_of(tile_bytes) {
            return Err(InferError::TileSize {
                len: tiles.len(),
                side: geometry.context(),
            });
        }
        let stride = geometry
            .check_stride(self.stride)
            .map_err(|e| InferError::Geometry {
                path: self.scorer.model.clone(),
                reason: e.to_string(),
            })?;
        let n = geometry.windows_per_axis(stride);
        if self.scorer.dense.is_some() {
            return self.push_dense(tiles, tile_bytes, n);
        }
        let per = self.scorer.prep.window_floats();
        for tile in tiles.chunks_exact(tile_bytes) {
            for (ox, oy) in window_origins(self.stride, n) {
                let t0 = Instant::now();
                let slot = self.filled * per;
                let s = &mut *self.scorer;
                s.prep.window(tile, ox, oy, &mut s.buf[slot..slot + per]);
                self.stats.preprocess += t0.elapsed();
                self.filled += 1;
                if self.filled == self.scorer.batch {
                    self.flush()?;
                }
            }
        }
        Ok(())
    }

    /// Dense mode: each tile in its own passes, scores straight out.
    fn push_dense(&mut self, tiles: &[u8], tile_bytes: usize, n: u32) -> Result<(), InferError> {
        let s = &mut *self.scorer;
        let dense = s.dense.as_mut().expect("dense mode");
        for tile in tiles.chunks_exact(tile_bytes) {
            let t0 = Instant::now();
            dense.score_tile(
                &s.prep,
                tile,
                self.stride,
                n,
                s.config.activation,
                s.info.column,
                &mut self.scores,
            )?;
            self.stats.infer += t0.elapsed();
            let windows = (n as u64).pow(2);
            self.stats.windows += windows;
            (self.progress)(windows);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), InferError> {
        if self.filled == 0 {
            return Ok(());
        }
        let t0 = Instant::now();
        self.scorer.run_batch(self.filled, &mut self.scores)?;
        self.stats.infer += t0.elapsed();
        self.stats.windows += self.filled as u64;
        (self.progress)(self.filled as u64);
        self.filled = 0;
        Ok(())
    }

    /// Windows pushed so far (scored or waiting in the batch buffer).
    pub fn windows(&self) -> u64 {
        self.stats.windows + self.filled as u64
    }

    /// Score what is left and return all scores in push order.
    pub fn finish(mut self) -> Result<Scored, InferError> {
        self.flush()?;
        Ok(Scored {
            scores: std::mem::take(&mut self.scores),
            stats: self.stats,
        })
    }

    pub(crate) fn add_wait(&mut self, d: Duration) {
        self.stats.wait += d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations() {
        assert_eq!(activate(Activation::None, &[0.3, 0.9], 1), 0.9);
        assert!((activate(Activation::Sigmoid, &[0.0], 0) - 0.5).abs() < 1e-7);
        let p = activate(Activation::Softmax, &[1.0, 1.0, 1000.0], 2);
        assert!((p - 1.0).abs() < 1e-6);
        let q = activate(Activation::Softmax, &[2.0, 2.0], 0);
        assert!((q - 0.5).abs() < 1e-7);
    }
}
