//! Streaming and prefetched scoring give the same scores as scoring a whole
//! group at once, and either side's failure ends the scoring cleanly.

mod common;

use slidescale_core::Stride;
const TILE_BYTES: usize = slidescale_core::TileGeometry::PAPER.context_bytes() as usize;

use slidescale_infer::{BackendChoice, InferError, PrefetchError, Scorer, ScorerOptions};
use slidescale_testutil::fixture;

fn scorer(batch: usize) -> Scorer {
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        batch,
        ..ScorerOptions::default()
    };
    Scorer::load(&fixture("models/smallcnn.onnx"), &opts).unwrap()
}

fn tiles() -> Vec<u8> {
    std::fs::read(common::cut_cmu_tiles(common::CELLS, "stream")).unwrap()
}

#[test]
fn prefetched_and_streamed_scores_equal_whole_group_scores() {
    let tiles = tiles();
    let stride = Stride::new(56).unwrap();
    let mut s = scorer(7);
    let whole = s.score_tiles(&tiles, stride).unwrap();
    // one tile at a time through a stream
    let mut stream = s.stream(stride);
    for t in tiles.chunks_exact(TILE_BYTES) {
        stream.push(t).unwrap();
    }
    assert_eq!(stream.windows(), whole.scores.len() as u64);
    assert_eq!(stream.finish().unwrap().scores, whole.scores);
    // produced on another thread, unevenly sized buffers
    let piped = s
        .score_prefetched(stride, 2, |tx| {
            let (a, b) = tiles.split_at(TILE_BYTES * 2);
            tx.send(a.to_vec()).unwrap();
            tx.send(b.to_vec()).unwrap();
            Ok::<(), String>(())
        })
        .unwrap();
    assert_eq!(piped.scores, whole.scores);
    assert_eq!(piped.stats.windows, whole.stats.windows);
}

#[test]
fn producer_error_is_returned() {
    let tiles = tiles();
    let mut s = scorer(16);
    let r = s.score_prefetched(Stride::new(224).unwrap(), 1, |tx| {
        tx.send(tiles[..TILE_BYTES].to_vec()).unwrap();
        Err("slide read failed")
    });
    assert!(matches!(
        r,
        Err(PrefetchError::Producer("slide read failed"))
    ));
}

#[test]
fn scorer_error_stops_the_producer() {
    let mut s = scorer(16);
    let mut sent = 0;
    let r = s.score_prefetched(Stride::new(224).unwrap(), 1, |tx| {
        // a buffer that is not whole tiles makes the scorer fail
        for _ in 0..100 {
            if tx.send(vec![0u8; 10]).is_err() {
                return Ok::<(), String>(());
            }
            sent += 1;
        }
        Ok(())
    });
    assert!(matches!(
        r,
        Err(PrefetchError::Infer(InferError::TileSize {
            len: 10,
            side: 448
        }))
    ));
    assert!(sent < 100, "producer kept going after the scorer failed");
}

/// What a progress callback was told, batch by batch.
fn recorded(calls: &std::sync::Mutex<Vec<u64>>) -> Vec<u64> {
    calls.lock().unwrap().clone()
}

#[test]
fn progress_hears_every_batch_and_adds_up_to_the_windows() {
    let tiles = tiles();
    let stride = Stride::new(56).unwrap(); // 16 windows a tile
    let batch = 7;
    let total = (tiles.len() / TILE_BYTES * 16) as u64;
    let batches = total.div_ceil(batch as u64) as usize;
    let mut s = scorer(batch);
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |n: u64| calls.lock().unwrap().push(n);
    let whole = s
        .score_tiles_with_progress(&tiles, stride, &progress)
        .unwrap();
    let seen = recorded(&calls);
    assert_eq!(seen.len(), batches, "{seen:?}");
    assert!(seen.iter().all(|&n| (1..=batch as u64).contains(&n)));
    assert_eq!(seen.iter().sum::<u64>(), total);
    assert_eq!(whole.stats.windows, total);

    calls.lock().unwrap().clear();
    let piped = s
        .score_prefetched_with_progress(stride, 2, &progress, |tx| {
            for t in tiles.chunks_exact(TILE_BYTES) {
                tx.send(t.to_vec()).unwrap();
            }
            Ok::<(), String>(())
        })
        .unwrap();
    let seen = recorded(&calls);
    assert_eq!(seen.len(), batches, "{seen:?}");
    assert_eq!(seen.iter().sum::<u64>(), total);
    assert_eq!(piped.scores, whole.scores, "progress changes no score");
}
