//! Activation ranges for static int8 quantization (`slidescale quantize`):
//! the model, with the tensors to quantize added as outputs
//! ([`slidescale_onnx::quant::calibration_model`]), run by ONNX Runtime over
//! windows preprocessed exactly as scoring feeds them
//! ([`crate::Scorer::model_input`]); each tensor's minimum and maximum over
//! all of them (MinMax, `onnxruntime.quantization`'s default method).

use std::collections::BTreeMap;

use slidescale_onnx::ModelProto;

use crate::backend::ort::TensorSession;
use crate::config::Layout;
use crate::{BackendChoice, InferError, Scorer, ScorerOptions};

/// Windows per calibration run: one, as `onnxruntime.quantization`'s
/// calibration feeds its samples. ONNX Runtime's float kernels do not give
/// a window bit-identical intermediate values in a batch of 8 and alone
/// (GoogLeNet: ranges 4·10⁻⁷ apart); one at a time, every range and so
/// every scale equals the oracle's exactly, and the whole calibration is
/// barely slower (GoogLeNet, 32 windows: 8.6 s vs 7.1 s here).
pub const CALIBRATION_BATCH: usize = 1;

/// (min, max) of each tensor of `tensors` over the windows in `input` (n ×
/// 3·W·W floats from `scorer`'s [`Scorer::model_input`]), computed on
/// `calibration` (the scorer's model with those tensors as outputs). The
/// model's own input is measured on `input` itself. `progress(done, n)`
/// after each batch.
pub fn tensor_ranges(
    scorer: &Scorer,
    opts: &ScorerOptions,
    calibration: &ModelProto,
    tensors: &[String],
    input: &[f32],
    progress: &dyn Fn(usize, usize),
) -> Result<BTreeMap<String, (f32, f32)>, InferError> {
    let info = scorer.info();
    let path = scorer.model_path();
    if opts.backend == BackendChoice::Tract {
        return Err(InferError::Unsupported {
            path: path.to_path_buf(),
            reason: "int8 calibration runs on ONNX Runtime, not tract".into(),
        });
    }
    let (inside, outside): (Vec<String>, Vec<String>) =
        tensors.iter().cloned().partition(|t| *t != info.input);
    let mut ranges: BTreeMap<String, (f32, f32)> = BTreeMap::new();
    let mut widen = |name: &str, data: &[f32]| {
        let r = ranges
            .entry(name.to_string())
            .or_insert((f32::INFINITY, f32::NEG_INFINITY));
        for &v in data {
            r.0 = r.0.min(v);
            r.1 = r.1.max(v);
        }
    };
    for t in &outside {
        widen(t, input);
    }
    let lib = crate::locate::find_library(opts.ort_lib.as_deref())?;
    let bytes = slidescale_onnx::encode(calibration);
    let mut session = TensorSession::open(path, &bytes, &info.input, &lib, opts)?;
    let w = info.window as usize;
    let per = 3 * w * w;
    let n = input.len() / per;
    let batch = info.fixed_batch.unwrap_or(CALIBRATION_BATCH);
    let mut padded = Vec::new();
    for (k, chunk) in input.chunks(batch * per).enumerate() {
        // a fixed-batch model gets full batches: the last window repeated
        // (a repeat changes no minimum or maximum)
        let chunk = if info.fixed_batch.is_some() && chunk.len() < batch * per {
            padded.clear();
            padded.extend_from_slice(chunk);
            while padded.len() < batch * per {
                padded.extend_from_slice(&chunk[chunk.len() - per..]);
            }
            &padded[..]
        } else {
            chunk
        };
        let m = chunk.len() / per;
        let shape = match info.layout {
            Layout::Nchw => [m, 3, w, w],
            Layout::Nhwc => [m, w, w, 3],
        };
        session.run_each(chunk, shape, &inside, |i, data| widen(&inside[i], data))?;
        progress(((k + 1) * batch).min(n), n);
    }
    Ok(ranges)
}
