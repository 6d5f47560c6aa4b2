//! Overlapping tile production (HDF5 read, stain normalisation) with
//! inference: the producer runs on its own thread and hands tiles over a
//! bounded channel, while the calling thread keeps the model busy.
//!
//! ```no_run
//! # use slidescale_infer::{Scorer, ScorerOptions};
//! # use slidescale_core::Stride;
//! # fn read_tile(k: usize) -> Result<Vec<u8>, std::io::Error> { Ok(vec![255; 448 * 448 * 3]) }
//! let mut scorer = Scorer::load("model.onnx".as_ref(), &ScorerOptions::default())?;
//! let scored = scorer.score_prefetched(Stride::new(32)?, 4, |tx| {
//!     for k in 0..400 {
//!         let tile = read_tile(k)?;      // read + normalise here
//!         if tx.send(tile).is_err() {
//!             break;                     // the scorer failed; its error is returned
//!         }
//!     }
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::Instant;

use slidescale_core::Stride;
use thiserror::Error;

use crate::{BatchProgress, InferError, Scored, Scorer};

/// The producer's end: sends buffers of whole context tiles (any number of
/// tiles per buffer, n × 448×448×3 bytes).
pub struct TileSender {
    tx: SyncSender<Vec<u8>>,
}

/// The scorer stopped (it failed); the producer should stop too.
#[derive(Debug, Error)]
#[error("the scorer stopped")]
pub struct ScorerStopped;

impl TileSender {
    /// Blocks while `depth` buffers are already waiting.
    pub fn send(&self, tiles: Vec<u8>) -> Result<(), ScorerStopped> {
        self.tx.send(tiles).map_err(|_| ScorerStopped)
    }
}

/// Either side's failure; the producer's error type is the caller's.
#[derive(Debug, Error)]
pub enum PrefetchError<E> {
    #[error(transparent)]
    Producer(E),
    #[error(transparent)]
    Infer(#[from] InferError),
}

impl Scorer {
    /// Score the tiles `produce` sends, with production on another thread.
    /// `depth` bounds the buffers in flight (memory: depth × buffer size).
    /// Scores come back in send order, as [`Scorer::score_tiles`] would give.
    /// `stats.wait` is the time inference sat idle waiting for tiles.
    pub fn score_prefetched<E, F>(
        &mut self,
        stride: Stride,
        depth: usize,
        produce: F,
    ) -> Result<Scored, PrefetchError<E>>
    where
        E: Send,
        F: FnOnce(&TileSender) -> Result<(), E> + Send,
    {
        self.score_prefetched_with_progress(stride, depth, &|_| {}, produce)
    }

    /// [`Scorer::score_prefetched`], calling `progress` (on this thread)
    /// after every batch; see [`crate::BatchProgress`].
    pub fn score_prefetched_with_progress<E, F>(
        &mut self,
        stride: Stride,
        depth: usize,
        progress: BatchProgress<'_>,
        produce: F,
    ) -> Result<Scored, PrefetchError<E>>
    where
        E: Send,
        F: FnOnce(&TileSender) -> Result<(), E> + Send,
    {
        let (tx, rx) = sync_channel::<Vec<u8>>(depth.max(1));
        std::thread::scope(|s| {
            let producer = s.spawn(move || produce(&TileSender { tx }));
            let mut stream = self.stream_with_progress(stride, progress);
            let mut infer_err = None;
            loop {
                let t0 = Instant::now();
                let Ok(tiles) = rx.recv() else { break };
                stream.add_wait(t0.elapsed());
                if let Err(e) = stream.push(&tiles) {
                    infer_err = Some(e);
                    break;
                }
            }
            // Dropping the receiver makes the producer's next send fail.
            drop(rx);
            let produced = producer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            if let Some(e) = infer_err {
                return Err(PrefetchError::Infer(e));
            }
            produced.map_err(PrefetchError::Producer)?;
            Ok(stream.finish()?)
        })
    }
}
