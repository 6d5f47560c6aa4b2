//! A fluorescence slide is recognised and segmented where its tissue is.
//! No fluorescence scan is in the shared data, so one is made from a real
//! slide: the haematoxylin and eosin of `CMU-1-Small-Region.svs`, separated
//! by colour deconvolution (`skimage.color.rgb2hed`), rendered as a
//! DAPI/TRITC scan is (nuclei blue, eosin's own fluorescence red, black
//! where nothing glows), written as a tiled TIFF and read through OpenSlide
//! like any slide. Where the tissue really is comes from the H&E slide
//! itself: its own tissue cells.

use slidescale_slide::ReaderKind;
use slidescale_tissue::{read_thumbnail, segment_thumbnail, Modality, Segmentation, TissueParams};

const RENDER: &str = r#"
import sys, numpy as np, openslide, tifffile
from skimage.color import rgb2hed
s = openslide.OpenSlide(sys.argv[1])
rgb = np.asarray(s.read_region((0, 0), 0, s.dimensions).convert('RGB'))
hed = rgb2hed(rgb)
def glow(c):
    # background (the median: most of the slide is glass) to black
    lo, hi = np.percentile(c, [50, 99.5])
    return np.clip((c - lo) / (hi - lo), 0, 1)
h, e = glow(hed[..., 0]), glow(hed[..., 1])
out = np.zeros(rgb.shape, np.uint8)
out[..., 0] = np.round(200 * e)
out[..., 1] = np.round(40 * h + 60 * e)
out[..., 2] = np.round(255 * h)
tifffile.imwrite(sys.argv[2], out, tile=(256, 256), photometric='rgb', compression='zlib')
"#;

fn segment_slide(path: &std::path::Path) -> Segmentation {
    let slide = slidescale_slide::open(path, ReaderKind::OpenSlide).unwrap();
    let props = slide.properties();
    let grid = slidescale_core::TileGeometry::PAPER.grid(props.width(), props.height());
    let thumb = read_thumbnail(slide.as_ref()).unwrap();
    segment_thumbnail(&thumb, grid, 7.0, &TissueParams::default())
}

#[test]
fn a_fluorescence_rendering_of_cmu_is_segmented_where_its_tissue_is() {
    let svs = slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs");
    let dir = slidescale_testutil::temp_dir("fluorescence");
    let tif = dir.join("cmu-dapi-tritc.tif");
    slidescale_testutil::run_python(RENDER, &[svs.to_str().unwrap(), tif.to_str().unwrap()]);

    let he = segment_slide(&svs);
    let fl = segment_slide(&tif);
    assert_eq!(he.pixels.modality, Modality::Brightfield);
    let Modality::Fluorescence { otsu_v } = fl.pixels.modality else {
        panic!("not recognised as fluorescence: {:?}", fl.pixels.modality);
    };
    let truth = &he.cells.mask;
    let n = truth.len();
    let both = (0..n)
        .filter(|&i| truth[i] != 0 && fl.cells.mask[i] != 0)
        .count();
    let (n_he, n_fl) = (he.cells.n_tissue(), fl.cells.n_tissue());
    println!(
        "t_V {otsu_v:.3}; cells {n}: H&E tissue {n_he}, fluorescence tissue {n_fl}, both {both}"
    );
    // not tissue from edge to edge, and where the H&E tissue is
    assert!(n_fl * 2 < n, "{n_fl} of {n} cells");
    assert!(both * 100 >= n_fl * 85, "precision {both}/{n_fl}");
    assert!(both * 5 >= n_he * 4, "recall {both}/{n_he}");
    // the bottom row of thumbnail pixels is partly white padding: it is not
    // signal (it would make the whole bottom row of cells tissue)
    let cols = fl.cells.grid.cols as usize;
    let bottom = &fl.cells.mask[n - cols..];
    let bottom_he = &truth[n - cols..];
    assert!(
        bottom.iter().zip(bottom_he).all(|(&f, &h)| f <= h),
        "{bottom:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
