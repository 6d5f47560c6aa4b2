//! DICOM through OpenSlide 4: a DICOM WSI made from CMU-1-Small-Region.svs
//! by `wsidicomizer` (a PyPI converter, run here into a temp dir) splits, read
//! by the OpenSlide 4 library `scripts/setup.sh` installs, with the same
//! tissue cells, thumbnail and tiles as the SVS; a truncated copy and a DICOM
//! file that is not a slide each fail alone, named, with a one-line cause,
//! while the two good slides of the same run are written.
//!
//! Tolerance: wsidicomizer (through opentile) copies the SVS's JPEG tile
//! bitstreams into the DICOM unchanged, so both decode to the same pixels;
//! measured maximum difference 0, and that is what is asserted.

mod split_support;

use std::path::{Path, PathBuf};

use slidescale_store::is_complete;
use split_support::{cmu, run, status_of};

/// Make `dir/dicom/CMU-dicom.dcm` (the converted slide, alone in its folder:
/// OpenSlide reads every file of a DICOM series in a folder),
/// `dir/truncated/CMU-truncated.dcm` (its first half) and
/// `dir/notwsi/notwsi.dcm` (a valid 8×8 Secondary Capture image).
const MAKE: &str = r#"
import sys, os, glob, shutil
from wsidicomizer import WsiDicomizer
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid, SecondaryCaptureImageStorage
svs, root = sys.argv[1:3]
tmp = os.path.join(root, 'convert')
os.makedirs(tmp)
WsiDicomizer.convert(svs, tmp, tile_size=None, include_label=False, include_overview=False,
                     include_thumbnail=False, workers=1)
made = glob.glob(os.path.join(tmp, '*.dcm'))
assert len(made) == 1, made
for d in ('dicom', 'truncated', 'notwsi'):
    os.makedirs(os.path.join(root, d))
good = os.path.join(root, 'dicom', 'CMU-dicom.dcm')
shutil.move(made[0], good)
data = open(good, 'rb').read()
open(os.path.join(root, 'truncated', 'CMU-truncated.dcm'), 'wb').write(data[:len(data) // 2])
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
ds.Modality, ds.Rows, ds.Columns, ds.SamplesPerPixel = 'OT', 8, 8, 1
ds.PhotometricInterpretation, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 'MONOCHROME2', 8, 8, 7
ds.PixelRepresentation, ds.PixelData = 0, bytes(64)
ds.save_as(os.path.join(root, 'notwsi', 'notwsi.dcm'), enforce_file_format=True)
"#;

/// The two stores side by side, read with h5py.
const COMPARE: &str = r#"
import sys, json, h5py, hdf5plugin, numpy as np
a, b = (h5py.File(p, 'r') for p in sys.argv[1:3])
out = {'vendor': [str(f.attrs['vendor']) for f in (a, b)],
       'mpp': [[float(f.attrs['mpp_x']), float(f.attrs['mpp_y'])] for f in (a, b)],
       'size': [[int(f.attrs['level0_width']), int(f.attrs['level0_height'])] for f in (a, b)]}
ma, mb = a['tissue_mask'][...], b['tissue_mask'][...]
out['cells'] = int(ma.sum())
out['mask_equal'] = bool(ma.shape == mb.shape and (ma == mb).all())
out['thumb_max_diff'] = int(np.abs(a['thumbnail'][...].astype(int) - b['thumbnail'][...].astype(int)).max())
def tiles(f):
    coords, ts = [], []
    for g in sorted(f['groups']):
        coords.append(f['groups'][g]['coords'][...]); ts.append(f['groups'][g]['tiles'][...])
    return np.concatenate(coords), np.concatenate(ts)
ca, ta = tiles(a); cb, tb = tiles(b)
out['coords_equal'] = bool(ca.shape == cb.shape and (ca == cb).all())
out['tiles'] = int(len(ta))
out['tile_max_diff'] = int(np.abs(ta.astype(int) - tb.astype(int)).max()) if ta.shape == tb.shape else -1
print(json.dumps(out))
"#;

/// The OpenSlide 4 library `scripts/setup.sh` installs; the test reads the
/// DICOM with it explicitly (`--openslide`), whatever the environment says.
fn openslide4() -> PathBuf {
    let lib = slidescale_core::install::install_dir()
        .expect("HOME or SLIDESCALE_HOME is set")
        .join(slidescale_slide::openslide::INSTALL_NAME);
    assert!(
        lib.is_file(),
        "OpenSlide 4 is not installed at {}: run scripts/setup.sh",
        lib.display()
    );
    lib
}

fn error_line<'a>(stderr: &'a str, file: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.starts_with("error:") && l.contains(file))
        .unwrap_or_else(|| panic!("{file} not named on stderr: {stderr}"))
}

#[test]
fn dicom_splits_like_its_svs_and_malformed_dicom_fails_alone() {
    let lib = openslide4();
    let dir = slidescale_testutil::temp_dir("split-dicom");
    slidescale_testutil::run_python(MAKE, &[cmu().to_str().unwrap(), dir.to_str().unwrap()]);
    let dicom = dir.join("dicom/CMU-dicom.dcm");
    let truncated = dir.join("truncated/CMU-truncated.dcm");
    let notwsi = dir.join("notwsi/notwsi.dcm");
    let out = dir.join("work");
    let svs = cmu();
    let slides: [&Path; 4] = [&svs, &dicom, &truncated, &notwsi];
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--openslide".as_ref(),
        lib.as_os_str(),
        "split".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--reader".as_ref(),
        "openslide".as_ref(),
    ];
    args.extend(slides.iter().map(|p| p.as_os_str()));
    let (code, stdout, stderr) = run(&args);
    eprintln!("{stdout}\n{stderr}");
    assert_eq!(code, 65, "{stdout}\n{stderr}");

    let svs_store = out.join("CMU-1-Small-Region.h5");
    let dicom_store = out.join("CMU-dicom.h5");
    assert!(is_complete(&svs_store), "{stdout}");
    assert!(is_complete(&dicom_store), "{stdout}");
    for (name, cause) in [
        ("CMU-truncated", "libdicom"),
        ("notwsi", "not a slide format OpenSlide recognises"),
    ] {
        assert_eq!(
            status_of(&stdout, name).as_deref(),
            Some("FAILED"),
            "{stdout}"
        );
        assert!(
            !out.join(format!("{name}.h5")).exists(),
            "{name}: store written"
        );
        let line = error_line(&stderr, &format!("{name}.dcm"));
        assert!(line.contains(cause), "{name}: cause not {cause:?}: {line}");
    }

    let v: serde_json::Value = serde_json::from_str(&slidescale_testutil::run_python(
        COMPARE,
        &[svs_store.to_str().unwrap(), dicom_store.to_str().unwrap()],
    ))
    .unwrap();
    eprintln!("{v}");
    assert_eq!(v["vendor"], serde_json::json!(["aperio", "dicom"]));
    assert_eq!(v["size"][0], v["size"][1]);
    assert_eq!(v["mpp"][0], v["mpp"][1]);
    assert_eq!(v["mask_equal"], true, "tissue cells differ");
    assert!(v["cells"].as_u64().unwrap() > 0);
    assert_eq!(v["coords_equal"], true);
    assert!(v["tiles"].as_u64().unwrap() > 0);
    assert_eq!(v["thumb_max_diff"], 0);
    assert_eq!(v["tile_max_diff"], 0);
    std::fs::remove_dir_all(&dir).ok();
}
