//! [`Scorer`]: a loaded model plus a reusable batch buffer; turns context
//! tiles into window scores, all at once ([`Scorer::score_tiles`]) or as they
//! arrive ([`Scorer::stream`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slidescale_core::Stride;

use crate::backend::{self, Backend, BackendChoice};
use crate::config::Activation;
use crate::model::ModelInfo;
use crate::window::{Preprocessor, TILE_BYTES, WINDOW_FLOATS};
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
}

impl Default for ScorerOptions {
    fn default() -> Self {
        ScorerOptions {
            backend: BackendChoice::Auto,
            ort_lib: None,
            threads: 2,
            batch: DEFAULT_BATCH,
            config: None,
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

/// Scores of all windows of some tiles, `[n_tiles, 224/s, 224/s]` row-major:
/// window (i, j) of tile t, which starts at x = s/2 + j·s, y = s/2 + i·s in
/// the context tile, is `scores[(t·n + i)·n + j]` with n = 224/s.
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
    batch: usize,
    buf: Vec<f32>,
    raw: Vec<f32>,
}

impl Scorer {
    /// Load and validate `model`; fails before any work if the model does
    /// not take 224×224×3 windows or has no usable score output.
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
        Ok(Scorer {
            prep: Preprocessor {
                lut: config.lookup_table(),
                layout: info.layout,
                plain_scale: (config.mean.is_none() && config.std.is_none())
                    .then_some(config.scale),
            },
            backend,
            info,
            config,
            model: model.to_path_buf(),
            batch,
            buf: vec![0.0; batch * WINDOW_FLOATS],
            raw: Vec::new(),
        })
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

    /// Score every window of `tiles` (n × 448×448×3 bytes) at `stride`.
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

    /// Score 224×224 windows given directly as u8 RGB (n × 224×224×3 bytes),
    /// e.g. for benchmarks or a model check; one score per window.
    pub fn score_windows(&mut self, windows: &[u8]) -> Result<Vec<f32>, InferError> {
        const WIN_BYTES: usize = 3 * (slidescale_core::TILE as usize).pow(2);
        if !windows.len().is_multiple_of(WIN_BYTES) {
            return Err(InferError::TileSize { len: windows.len() });
        }
        // Reuse the tile path: put each window at the centre of a white tile.
        let mut tile = vec![255u8; TILE_BYTES];
        let stride = Stride::new(slidescale_core::TILE).expect("224 divides 224");
        let mut stream = self.stream(stride);
        let t = slidescale_core::TILE as usize;
        let c = slidescale_core::CONTEXT as usize;
        let m = slidescale_core::MARGIN as usize;
        for w in windows.chunks_exact(WIN_BYTES) {
            for y in 0..t {
                let dst = ((m + y) * c + m) * 3;
                tile[dst..dst + t * 3].copy_from_slice(&w[y * t * 3..(y + 1) * t * 3]);
            }
            stream.push(&tile)?;
        }
        Ok(stream.finish()?.scores)
    }

    /// Score windows already in the model's input form (n × 3·224·224
    /// floats, preprocessed and in the model's layout), batch by batch,
    /// straight from `input` (no copy): the bare model, for benchmarks
    /// against other runtimes.
    pub fn score_floats(&mut self, input: &[f32]) -> Result<Vec<f32>, InferError> {
        if !input.len().is_multiple_of(WINDOW_FLOATS) {
            return Err(InferError::TileSize { len: input.len() });
        }
        let mut scores = Vec::with_capacity(input.len() / WINDOW_FLOATS);
        for chunk in input.chunks(self.batch * WINDOW_FLOATS) {
            let n = chunk.len() / WINDOW_FLOATS;
            if self.info.fixed_batch.is_some() {
                self.buf[..chunk.len()].copy_from_slice(chunk);
                self.run_batch(n, &mut scores)?;
            } else {
                self.run_slice(chunk, n, &mut scores)?;
            }
        }
        Ok(scores)
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
                self.buf[n * WINDOW_FLOATS..b * WINDOW_FLOATS].fill(0.0);
                b
            }
            None => n,
        };
        let buf = std::mem::take(&mut self.buf);
        let result = self.run_slice(&buf[..run_n * WINDOW_FLOATS], run_n, scores);
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

/// The score of one output row.
fn activate(act: Activation, row: &[f32], col: usize) -> f32 {
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
    /// Add whole context tiles (n × 448×448×3 bytes). The bytes are copied
    /// into the batch buffer before this returns, so the caller may reuse them.
    pub fn push(&mut self, tiles: &[u8]) -> Result<(), InferError> {
        if !tiles.len().is_multiple_of(TILE_BYTES) {
            return Err(InferError::TileSize { len: tiles.len() });
        }
        let n = self.stride.windows_per_axis();
        for tile in tiles.chunks_exact(TILE_BYTES) {
            for i in 0..n {
                for j in 0..n {
                    let t0 = Instant::now();
                    let slot = self.filled * WINDOW_FLOATS;
                    let (ox, oy) = (self.stride.window_offset(j), self.stride.window_offset(i));
                    let s = &mut *self.scorer;
                    s.prep.window(
                        tile,
                        ox as usize,
                        oy as usize,
                        &mut s.buf[slot..slot + WINDOW_FLOATS],
                    );
                    self.stats.preprocess += t0.elapsed();
                    self.filled += 1;
                    if self.filled == self.scorer.batch {
                        self.flush()?;
                    }
                }
            }
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
