//! The default tissue rule on real tiles whose names say what they are
//! (`shared/data/patches/tissue_tiles`, from histolab): each tile is treated
//! as a thumbnail and classified as one cell. `tissue-*` must be tissue;
//! `no-tissue*` (pen, a line, blank glass) and `almost-white*` must not.
//! The other tiles (nuclei-score crops, IHC, liver) carry no label that says
//! tissue or not; their fractions are printed for the record.

mod common;

use slidescale_tissue::{image_is_tissue, TissueParams, DEFAULT_MIN_FRACTION};

#[test]
fn labelled_tiles_are_classified_by_the_default_rule() {
    let params = TissueParams::default();
    let mut wrong = Vec::new();
    let (mut min_tissue, mut max_empty) = (f64::INFINITY, 0f64);
    for path in common::tissue_tiles() {
        let name = common::file_name(&path);
        let (is_tissue, fraction) = image_is_tissue(&common::load_png(&path), &params);
        println!("{name:48} fraction {fraction:.3} tissue {is_tissue}");
        let expected = if name.starts_with("tissue-") {
            min_tissue = min_tissue.min(fraction);
            Some(true)
        } else if name.starts_with("no-tissue") || name.starts_with("almost-white") {
            max_empty = max_empty.max(fraction);
            Some(false)
        } else {
            None
        };
        if expected.is_some_and(|e| e != is_tissue) {
            wrong.push(name);
        }
    }
    println!("lowest tissue fraction {min_tissue:.3}, highest non-tissue {max_empty:.3}");
    assert!(wrong.is_empty(), "misclassified: {wrong:?}");
    // the default is not on a knife edge: both classes clear it by ≥ 0.05
    assert!(min_tissue - DEFAULT_MIN_FRACTION >= 0.05, "{min_tissue}");
    assert!(DEFAULT_MIN_FRACTION - max_empty >= 0.05, "{max_empty}");
}

#[test]
fn without_the_guards_otsu_alone_gets_blank_and_pen_tiles_wrong() {
    // Why the saturation floor and the pen filter exist.
    let bare = TissueParams {
        min_saturation: 0.0,
        pen_filter: false,
        ..TissueParams::default()
    };
    let dir = slidescale_testutil::shared("data/patches/tissue_tiles");
    for name in [
        "almost-white-1.png",
        "no-tissue-green-pen.png",
        "no-tissue-red-pen.png",
    ] {
        let img = common::load_png(&dir.join(name));
        assert!(
            image_is_tissue(&img, &bare).0,
            "{name} would pass with Otsu alone"
        );
        assert!(!image_is_tissue(&img, &TissueParams::default()).0, "{name}");
    }
}
