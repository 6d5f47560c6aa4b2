//! Reference data for the integration tests, computed independently in the
//! venv's Python: context tiles cut with openslide-python (DESIGN §3:
//! origin (224c−112, 224r−112), 448², composited on white) and window scores
//! from Python onnxruntime with the baseline's session options.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use slidescale_testutil::{fixture, run_python, temp_dir};

/// Cut the context tiles of `cells` (col, row) from the CMU fixture with
/// openslide-python; returns the path of a raw u8 [N,448,448,3] file.
pub fn cut_cmu_tiles(cells: &[(u32, u32)], tag: &str) -> PathBuf {
    let out = temp_dir(tag).join("tiles.u8");
    let cells_arg: Vec<String> = cells.iter().map(|(c, r)| format!("{c},{r}")).collect();
    run_python(
        r#"
import sys, numpy as np, openslide
from PIL import Image
slide = openslide.OpenSlide(sys.argv[1])
tiles = []
for cr in sys.argv[3:]:
    c, r = map(int, cr.split(","))
    rgba = slide.read_region((c * 224 - 112, r * 224 - 112), 0, (448, 448))
    rgb = Image.new("RGB", rgba.size, (255, 255, 255))
    rgb.paste(rgba, mask=rgba.split()[3])
    tiles.append(np.asarray(rgb, dtype=np.uint8))
np.stack(tiles).tofile(sys.argv[2])
"#,
        &[
            fixture("slides/CMU-1-Small-Region.svs").to_str().unwrap(),
            out.to_str().unwrap(),
        ]
        .into_iter()
        .chain(cells_arg.iter().map(String::as_str))
        .collect::<Vec<_>>(),
    );
    out
}

/// Scores of every window of the tiles at `stride`, from Python
/// onnxruntime: x/255 in float32, NCHW, batches of 64, output column 0.
pub fn python_scores(model: &Path, tiles: &Path, stride: u32) -> Vec<f32> {
    let out = tiles.with_extension(format!("scores{stride}.f32"));
    run_python(
        r#"
import sys, numpy as np, onnxruntime as ort
model, tiles_path, stride, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tiles = np.fromfile(tiles_path, np.uint8).reshape(-1, 448, 448, 3)
so = ort.SessionOptions()
so.intra_op_num_threads = 2
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
offs = [stride // 2 + k * stride for k in range(224 // stride)]
wins = []
for t in tiles:
    f = np.multiply(t.transpose(2, 0, 1), np.float32(1.0 / 255.0), dtype=np.float32)
    for oy in offs:
        for ox in offs:
            wins.append(f[:, oy:oy + 224, ox:ox + 224])
wins = np.ascontiguousarray(np.stack(wins))
scores = []
for k in range(0, len(wins), 64):
    prob = sess.run(None, {sess.get_inputs()[0].name: wins[k:k + 64]})[0]
    scores.append(prob.reshape(len(prob), -1)[:, 0])
np.concatenate(scores).astype(np.float32).tofile(out)
"#,
        &[
            model.to_str().unwrap(),
            tiles.to_str().unwrap(),
            &stride.to_string(),
            out.to_str().unwrap(),
        ],
    );
    read_f32(&out)
}

pub fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Largest absolute difference and the number of bit-identical values.
pub fn compare(a: &[f32], b: &[f32]) -> (f32, usize) {
    assert_eq!(a.len(), b.len(), "score counts differ");
    let max = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    let same = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.to_bits() == y.to_bits())
        .count();
    (max, same)
}

/// Cells of the CMU fixture (10×14 grid) used by the tests: the top-left
/// corner (mostly white padding), tissue in the middle, the partial
/// bottom-right cell.
pub const CELLS: &[(u32, u32)] = &[(0, 0), (4, 5), (5, 7), (3, 10), (9, 13)];
