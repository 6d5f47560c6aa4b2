//! Shared by the `heatmap_*` CLI tests: running the binary, the models and
//! slides they use, and the independent Python reference (`reference.py`:
//! openslide-python or h5py for the pixels, onnxruntime for the scores).

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use serde_json::Value;

/// The Python reference script, run with `python -c`.
pub const REFERENCE_PY: &str = include_str!("reference.py");

/// Builds a small seeded CNN of any window size (`make_model.py`).
pub const MAKE_MODEL_PY: &str = include_str!("make_model.py");

/// A small seeded CNN taking `window`×`window` windows in `layout`
/// ("NCHW" or "NHWC"), written into `dir`.
pub fn window_model(dir: &Path, window: u32, layout: &str) -> PathBuf {
    classes_model(dir, window, layout, 1)
}

/// [`window_model`] with `classes` logits out (`logits` [N, K]) when K > 1.
pub fn classes_model(dir: &Path, window: u32, layout: &str, classes: u32) -> PathBuf {
    let path = dir.join(format!("cnn{window}-{layout}-{classes}.onnx"));
    slidescale_testutil::run_python(
        MAKE_MODEL_PY,
        &[
            &window.to_string(),
            layout,
            path.to_str().unwrap(),
            &classes.to_string(),
        ],
    );
    path
}

/// The exactness tolerance of issue 3, requirement 2.
pub const TOLERANCE: f64 = 1e-4;

pub fn slidescale() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slidescale"))
}

/// What a finished `slidescale` command did.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Panic with the command's output unless it exited 0.
    pub fn ok(self) -> Ran {
        assert_eq!(
            self.code, 0,
            "slidescale failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Run `slidescale ARGS…` to completion.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    let Output {
        status,
        stdout,
        stderr,
    } = slidescale().args(args).output().expect("start slidescale");
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub fn cmu() -> PathBuf {
    slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs")
}

pub const CMU: &str = "CMU-1-Small-Region";

/// A copy of the CMU slide under another file name.
pub fn cmu_as(dir: &Path, file_name: &str) -> PathBuf {
    let p = dir.join(file_name);
    std::fs::copy(cmu(), &p).unwrap();
    p
}

pub fn smallcnn() -> PathBuf {
    slidescale_testutil::fixture("models/smallcnn.onnx")
}

pub fn googlenet() -> PathBuf {
    slidescale_testutil::shared("models/googlenet.onnx")
}

/// `slidescale run SLIDES --model M --stride S --out WORK EXTRA…`, whatever its outcome.
pub fn run_with(slides: &[&Path], model: &Path, stride: u32, work: &Path, extra: &[&str]) -> Ran {
    let mut args: Vec<&OsStr> = vec!["run".as_ref()];
    args.extend(slides.iter().map(|s| s.as_os_str()));
    let stride = stride.to_string();
    args.extend::<[&OsStr; 6]>([
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        stride.as_ref(),
        "--out".as_ref(),
        work.as_os_str(),
    ]);
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// [`run_with`], which must succeed.
pub fn run_ok(slides: &[&Path], model: &Path, stride: u32, work: &Path, extra: &[&str]) -> Ran {
    run_with(slides, model, stride, work, extra).ok()
}

/// Where the tiles the reference scores come from.
#[derive(Clone, Copy, Debug)]
pub enum Source<'a> {
    /// Read again from the slide with openslide-python.
    OpenSlide(&'a Path),
    /// The tiles stored in the store, read with h5py.
    Store,
    /// Raw u8 tiles `[T, 448, 448, 3]` in a file, in the store's order.
    Raw(&'a Path),
}

/// The reference's verdict on one heatmap (see `reference.py`).
#[derive(Debug)]
pub struct Comparison {
    pub json: Value,
}

impl Comparison {
    pub fn get_f64(&self, key: &str) -> f64 {
        self.json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("no {key} in {}", self.json))
    }

    /// The heatmap has the reference's shape, NaN exactly on non-tissue
    /// cells, every tissue window within `TOLERANCE`; returns the max diff.
    pub fn assert_matches(&self, what: &str) -> f64 {
        let j = &self.json;
        assert_eq!(j["dtype"], "float32", "{what}: {j}");
        assert_eq!(j["got_shape"], j["ref_shape"], "{what}: {j}");
        assert_eq!(j["coords_match_mask"], true, "{what}: {j}");
        assert!(self.get_f64("tiles") > 0.0, "{what}: no tissue tiles: {j}");
        assert_eq!(self.get_f64("nan_mismatch"), 0.0, "{what}: NaN layout: {j}");
        // A model that answers one constant everywhere would match trivially.
        assert!(self.get_f64("ref_std") > 1e-3, "{what}: flat reference {j}");
        let diff = self.get_f64("max_abs_diff");
        assert!(
            diff <= TOLERANCE,
            "{what}: max |diff| {diff} > {TOLERANCE}: {j}"
        );
        println!(
            "{what}: {} tissue windows, max |diff| {diff:.3e}",
            j["scored"]
        );
        diff
    }
}

/// Compare `WORK/heatmaps/NAME.npy` with the reference's heatmap of the
/// same store's tissue cells.
pub fn compare(source: Source, work: &Path, name: &str, model: &Path, stride: u32) -> Comparison {
    compare_tile(source, work, name, model, stride, None)
}

/// [`compare`] for a run whose tile is `tile` (`None`: the model's window).
pub fn compare_tile(
    source: Source,
    work: &Path,
    name: &str,
    model: &Path,
    stride: u32,
    tile: Option<u32>,
) -> Comparison {
    let store = work.join(format!("{name}.h5"));
    let heatmap = work.join("heatmaps").join(format!("{name}.npy"));
    let (kind, pixels) = match source {
        Source::OpenSlide(p) => ("openslide", p.to_path_buf()),
        Source::Store => ("store", PathBuf::new()),
        Source::Raw(p) => ("raw", p.to_path_buf()),
    };
    let stride = stride.to_string();
    let tile = tile.map(|t| t.to_string());
    let mut args = vec![
        kind,
        pixels.to_str().unwrap(),
        store.to_str().unwrap(),
        model.to_str().unwrap(),
        &stride,
        heatmap.to_str().unwrap(),
    ];
    args.extend(tile.as_deref());
    let out = slidescale_testutil::run_python(REFERENCE_PY, &args);
    let line = out.lines().last().expect("reference printed nothing");
    Comparison {
        json: serde_json::from_str(line).expect("reference JSON"),
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Files whose name says a writer did not finish (`*.partial`).
pub fn partial_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// The result file of group `k` of slide `name`.
pub fn result_path(work: &Path, name: &str, k: u32) -> PathBuf {
    work.join("results").join(name).join(format!("{k:06}.npy"))
}

pub fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// (file offset, size, filter mask) of the chunk of tile `i` of group `k`.
pub fn chunk(store: &Path, k: u32, i: u64) -> (u64, u64, u64) {
    let out = slidescale_testutil::run_python(
        "import sys, h5py\n\
         f = h5py.File(sys.argv[1], 'r')\n\
         c = f[f'groups/{int(sys.argv[2]):06d}/tiles'].id.get_chunk_info(int(sys.argv[3]))\n\
         print(c.byte_offset, c.size, c.filter_mask)",
        &[store.to_str().unwrap(), &k.to_string(), &i.to_string()],
    );
    let v: Vec<u64> = out.split_whitespace().map(|s| s.parse().unwrap()).collect();
    (v[0], v[1], v[2])
}
