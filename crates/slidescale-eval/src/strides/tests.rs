use super::*;
use slidescale_heatmap::read_npy_f32;

/// Seeded heatmaps (background cells and scattered NaN) and their
/// downsampled versions computed by NumPy: NaN-padded blocks reduced with
/// `nanmean` (in float64) / `nanmax`, and `a[::k, ::k]`.
const NUMPY_DOWNSAMPLE: &str = r#"
import sys, warnings, numpy as np
warnings.simplefilter('ignore', RuntimeWarning)
out = sys.argv[1]
for seed, (rows, cols) in enumerate([(42, 70), (29, 31), (224, 98)]):
    rng = np.random.default_rng(seed)
    a = rng.random((rows, cols)).astype(np.float32)
    for _ in range(3):  # background cells
        r, c = rng.integers(0, rows // 14 + 1), rng.integers(0, cols // 14 + 1)
        a[r * 14:(r + 1) * 14, c * 14:(c + 1) * 14] = np.nan
    a[rng.random((rows, cols)) < 0.1] = np.nan
    np.save(f'{out}/in{seed}.npy', a)
    for k in (2, 4, 8, 14):
        h, w = -(-rows // k) * k, -(-cols // k) * k
        p = np.full((h, w), np.nan, np.float64)
        p[:rows, :cols] = a
        b = p.reshape(h // k, k, w // k, k)
        np.save(f'{out}/mean{seed}_{k}.npy', np.nanmean(b, axis=(1, 3)).astype(np.float32))
        np.save(f'{out}/max{seed}_{k}.npy', np.nanmax(b, axis=(1, 3)).astype(np.float32))
        np.save(f'{out}/decimate{seed}_{k}.npy', a[::k, ::k])
"#;

fn raster(path: &std::path::Path) -> Raster<f32> {
    let (shape, data) = read_npy_f32(path).unwrap();
    Raster::from_vec(shape[1] as usize, shape[0] as usize, data)
}

fn same(a: f32, b: f32) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

#[test]
fn every_method_equals_numpy_on_seeded_maps_with_nan_and_partial_blocks() {
    let dir = slidescale_testutil::temp_dir("strides");
    slidescale_testutil::run_python(NUMPY_DOWNSAMPLE, &[dir.to_str().unwrap()]);
    for seed in 0..3 {
        let input = raster(&dir.join(format!("in{seed}.npy")));
        for k in [2u32, 4, 8, 14] {
            for how in [Downsample::Mean, Downsample::Max, Downsample::Decimate] {
                let expected = raster(&dir.join(format!("{how}{seed}_{k}.npy")));
                let got = downsample(&input, 16, 16 * k, how).unwrap();
                assert_eq!(
                    (got.width, got.height),
                    (expected.width, expected.height),
                    "{how} seed {seed} k {k}"
                );
                for (i, (&g, &e)) in got.data.iter().zip(&expected.data).enumerate() {
                    assert!(same(g, e), "{how} seed {seed} k {k} pixel {i}: {g} vs {e}");
                }
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn strides_must_be_whole_multiples() {
    assert_eq!(factor(16, 224), Ok(14));
    assert_eq!(factor(16, 16), Ok(1));
    assert_eq!(
        factor(16, 100),
        Err(StrideError::NotAMultiple { from: 16, to: 100 })
    );
    assert_eq!(factor(0, 64), Err(StrideError::Zero));
    let map = Raster::from_vec(2, 1, vec![0.5, f32::NAN]);
    assert!(downsample(&map, 32, 48, Downsample::Mean).is_err());
    let same_map = downsample(&map, 32, 32, Downsample::Max).unwrap();
    assert!(same_map.data[0] == 0.5 && same_map.data[1].is_nan());
    // a block of NaN only stays NaN, a partly-NaN one ignores them
    let map = Raster::from_vec(3, 1, vec![f32::NAN, 0.25, f32::NAN]);
    let down = downsample(&map, 16, 32, Downsample::Mean).unwrap();
    assert_eq!(down.data[0], 0.25);
    assert!(down.data[1].is_nan());
    assert_eq!("MAX".parse::<Downsample>(), Ok(Downsample::Max));
    assert!("median".parse::<Downsample>().is_err());
}
