//! HSV planes, Otsu thresholds and the pixel mask equal what scikit-image
//! computes on the same pixels — bit for bit — on real images: the tissue
//! tiles, a 1000×1000 H&E image, the CMU-1 thumbnail, plus a synthetic image
//! full of ties between channels. The reference runs in the venv's Python
//! inside the test; the pixels it sees are the bytes Rust used. It states
//! the whole rule: Otsu of the whole planes (`threshold_otsu` itself), the
//! rule's thresholds over the pixels that are not ink (t_S capped at 0.24),
//! and the fluorescence branch for a dark image.

mod common;

use std::path::Path;

use slidescale_core::RgbImage;
use slidescale_tissue::hsv::rgb_to_hsv;
use slidescale_tissue::{pixel_mask, threshold_otsu, TissueParams};

const REFERENCE: &str = r#"
import sys, numpy as np
from skimage.color import rgb2hsv
from skimage.filters import threshold_otsu
RED=[(55,35,50),(150,80,90),(110,20,30),(185,65,105),(195,85,125),(220,115,145),(125,40,70),(100,50,65),(85,25,45)]
GREEN=[(150,160,140),(70,110,110),(45,115,100),(30,75,60),(195,220,210),(225,230,225),(170,210,200),
       (20,30,20),(50,60,40),(30,50,35),(65,70,60),(100,110,105),(165,180,180),(140,140,150),(185,195,195)]
BLUE=[(60,120,190),(120,170,200),(175,210,230),(145,180,210),(37,95,160),(30,65,130),(130,155,180),
      (40,35,85),(30,20,65),(90,90,140),(60,60,120),(110,110,175)]
for line in open(sys.argv[1]):
    raw, w, h = line.split('\t')
    a = np.fromfile(raw, dtype=np.uint8).reshape(int(h), int(w), 3)
    hsv = rgb2hsv(a)
    H, S, V = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    th, ts = threshold_otsu(H), threshold_otsu(S)
    r, g, b = (a[..., i].astype(int) for i in range(3))
    pen = np.zeros(r.shape, bool)
    for R, G, B in RED: pen |= (r > R) & (g < G) & (b < B)
    for R, G, B in GREEN: pen |= (r < R) & (g > G) & (b > B)
    for R, G, B in BLUE: pen |= (r < R) & (g < G) & (b > B)
    if np.median(V) < 0.3:
        rule = 'fluorescence'
        rh = rs = float('nan')
        mask = (V > threshold_otsu(V)) & (V >= 0.08)
    else:
        rule = 'brightfield'
        rh, rs = threshold_otsu(H[~pen]), min(threshold_otsu(S[~pen]), 0.24)
        mask = (H > rh) & (S > rs) & (S >= 0.1) & ~pen
    np.ascontiguousarray(H).tofile(raw + '.h')
    np.ascontiguousarray(S).tofile(raw + '.s')
    mask.astype(np.uint8).tofile(raw + '.mask')
    print(repr(float(th)), repr(float(ts)), repr(float(rh)), repr(float(rs)), rule)
"#;

struct Case {
    name: String,
    image: RgbImage,
}

fn read_f64s(path: &Path) -> Vec<f64> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn check_against_python(cases: &[Case]) {
    let dir = slidescale_testutil::temp_dir("tissue-parity");
    let mut list = String::new();
    for (i, case) in cases.iter().enumerate() {
        let raw = dir.join(format!("{i}.rgb"));
        std::fs::write(&raw, &case.image.data).unwrap();
        list += &format!(
            "{}\t{}\t{}\n",
            raw.display(),
            case.image.width,
            case.image.height
        );
    }
    std::fs::write(dir.join("list.tsv"), list).unwrap();
    let out = slidescale_testutil::run_python(REFERENCE, &[dir.join("list.tsv").to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), cases.len());
    let params = TissueParams::default();
    for (i, (case, line)) in cases.iter().zip(lines).enumerate() {
        let raw = dir.join(format!("{i}.rgb"));
        let name = &case.name;
        let fields: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| fields[i].parse::<f64>().unwrap();
        let (th, ts, rule_h, rule_s) = (num(0), num(1), num(2), num(3));
        let hsv = rgb_to_hsv(&case.image.data);
        let py_h = read_f64s(&raw.with_extension("rgb.h"));
        let py_s = read_f64s(&raw.with_extension("rgb.s"));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(bits(&hsv.h) == bits(&py_h), "{name}: hue planes differ");
        assert!(
            bits(&hsv.s) == bits(&py_s),
            "{name}: saturation planes differ"
        );
        assert_eq!(
            threshold_otsu(&hsv.h).unwrap().to_bits(),
            th.to_bits(),
            "{name}: t_H"
        );
        assert_eq!(
            threshold_otsu(&hsv.s).unwrap().to_bits(),
            ts.to_bits(),
            "{name}: t_S"
        );
        let mask = pixel_mask(&case.image, &params);
        assert_eq!(mask.modality.name(), fields[4], "{name}: rule");
        // NaN (fluorescence) compares equal by its bits too
        assert_eq!(mask.otsu_h.to_bits(), rule_h.to_bits(), "{name}: rule t_H");
        assert_eq!(mask.otsu_s.to_bits(), rule_s.to_bits(), "{name}: rule t_S");
        let py_mask = std::fs::read(raw.with_extension("rgb.mask")).unwrap();
        assert!(mask.mask == py_mask, "{name}: pixel masks differ");
        println!(
            "{name}: Otsu t_H {th} t_S {ts}, rule t_H {rule_h} t_S {rule_s}, tissue {:.3}",
            mask.fraction()
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every RGB combination on a coarse lattice, so channels tie often (the
/// cases where scikit-image's assignment order decides the hue).
fn lattice_image() -> RgbImage {
    const STEPS: [u8; 8] = [0, 1, 64, 127, 128, 200, 254, 255];
    let mut data = Vec::with_capacity(512 * 3);
    for r in STEPS {
        for g in STEPS {
            for b in STEPS {
                data.extend([r, g, b]);
            }
        }
    }
    RgbImage::from_raw(64, 8, data)
}

#[test]
fn tiles_and_a_large_he_image_match_scikit_image_bit_for_bit() {
    let mut cases: Vec<Case> = common::tissue_tiles()
        .iter()
        .map(|p| Case {
            name: common::file_name(p),
            image: common::load_png(p),
        })
        .collect();
    cases.push(Case {
        name: "stain_target_he.png".into(),
        image: common::load_png(&slidescale_testutil::shared(
            "data/patches/stain_target_he.png",
        )),
    });
    cases.push(Case {
        name: "lattice".into(),
        image: lattice_image(),
    });
    // the same ties on a dark background: the fluorescence rule
    let mut dark = lattice_image();
    dark.data.iter_mut().for_each(|v| *v /= 4);
    cases.push(Case {
        name: "dark lattice".into(),
        image: dark,
    });
    check_against_python(&cases);
}

#[test]
fn cmu_thumbnail_matches_scikit_image_bit_for_bit() {
    let path = slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs");
    let mut cases = Vec::new();
    for kind in [
        slidescale_slide::ReaderKind::OpenSlide,
        slidescale_slide::ReaderKind::Auto,
    ] {
        let slide = slidescale_slide::open(&path, kind).unwrap();
        let thumb = slidescale_tissue::read_thumbnail(slide.as_ref()).unwrap();
        assert_eq!((thumb.image.width, thumb.image.height), (70, 93));
        cases.push(Case {
            name: format!("CMU-1-Small-Region thumbnail ({})", slide.driver()),
            image: thumb.image,
        });
    }
    check_against_python(&cases);
}
