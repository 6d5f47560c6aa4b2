//! The thumbnail is the exact 32×32 block mean of the slide's level-0 pixels
//! (white past the edge), checked against openslide-python + numpy on the
//! CMU slide, whose only level is level 0.

use slidescale_slide::ReaderKind;
use slidescale_tissue::read_thumbnail;

const REFERENCE: &str = r#"
import sys, numpy as np, openslide
s = openslide.OpenSlide(sys.argv[1])
W, H = s.dimensions
rgba = np.asarray(s.read_region((0, 0), 0, (W, H))).astype(np.float64)
a = rgba[..., 3:4] / 255.0
rgb = np.rint(rgba[..., :3] * a + 255.0 * (1.0 - a))
tw, th = -(-W // 32), -(-H // 32)
pad = np.full((th * 32, tw * 32, 3), 255.0)
pad[:H, :W] = rgb
mean = pad.reshape(th, 32, tw, 32, 3).mean(axis=(1, 3))
np.floor(mean + 0.5).astype(np.uint8).tofile(sys.argv[2])
"#;

#[test]
fn cmu_thumbnail_is_the_block_mean_of_level_0() {
    let path = slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs");
    let dir = slidescale_testutil::temp_dir("thumb");
    let out = dir.join("thumb.rgb");
    slidescale_testutil::run_python(REFERENCE, &[path.to_str().unwrap(), out.to_str().unwrap()]);
    let want = std::fs::read(&out).unwrap();
    let slide = slidescale_slide::open(&path, ReaderKind::OpenSlide).unwrap();
    let thumb = read_thumbnail(slide.as_ref()).unwrap();
    assert_eq!(thumb.level, 0);
    assert_eq!((thumb.image.width, thumb.image.height), (70, 93));
    assert!(
        thumb.image.data == want,
        "thumbnail differs from the block mean"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
