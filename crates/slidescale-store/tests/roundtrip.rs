//! Stores written here are read back by this crate and by h5py (with
//! hdf5plugin for blosc), for every compression: layout, dtypes, chunking,
//! attributes and every tile byte.

use std::path::Path;

use slidescale_core::{Grid, RgbImage, TileGeometry};
use slidescale_store::{
    encode_tile, is_complete, Compression, Store, StoreError, StoreInfo, StoreWriter,
};

const TILE_BYTES: usize = TileGeometry::PAPER.context_bytes() as usize;

/// A tile that compresses like a real one: smooth colour plus a noisy patch
/// (and one all-noise tile, which no compressor shrinks).
fn tile(i: usize) -> Vec<u8> {
    let mut x = 0x9E3779B9u32.wrapping_mul(i as u32 + 1);
    let mut noise = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    };
    (0..TILE_BYTES)
        .map(|j| {
            let (p, ch) = (j / 3, j % 3);
            let (px, py) = (p % 448, p / 448);
            if i == 2 || (px < 100 && py < 100) {
                noise()
            } else {
                (px / 4 + py / 8 + ch * 40 + i * 7) as u8
            }
        })
        .collect()
}

fn info(name: &str, compression: Compression, n_patches: u64, group_size: u32) -> StoreInfo {
    StoreInfo {
        name: name.into(),
        slidescale_version: "test".into(),
        source_path: format!("/slides/{name} $(x) 'q'.svs"),
        source_size: 12345,
        source_mtime: 1.7e9 + 0.25,
        level0_width: 2220,
        level0_height: 2967,
        mpp_x: Some(0.499),
        mpp_y: None,
        vendor: "aperio".into(),
        reader: "openslide".into(),
        grid: Grid { cols: 10, rows: 14 },
        geometry: slidescale_core::TileGeometry::PAPER,
        resolution: slidescale_core::Resolution::default(),
        analysis: slidescale_core::Analysis::level0(2220, 2967, None),
        bbox: [2, 0, 9, 14],
        otsu_h: 0.16658528645833337,
        otsu_s: 0.17840401785714285,
        tissue_min_fraction: 0.3,
        tissue_min_saturation: 0.1,
        tissue_pen_filter: true,
        tissue_rule: 2,
        tissue_modality: "brightfield".into(),
        otsu_v: None,
        openslide: "test".into(),
        thumbnail_level: 0,
        group_size,
        n_groups: slidescale_store::n_groups(n_patches, group_size),
        n_patches,
        compression,
    }
}

fn coords(n: usize) -> Vec<(i32, i32)> {
    (0..n).map(|i| ((i % 10) as i32, (i / 10) as i32)).collect()
}

fn write_store(path: &Path, info: &StoreInfo) -> u64 {
    let thumb = RgbImage::from_raw(70, 93, (0..70 * 93 * 3).map(|i| i as u8).collect());
    let mask: Vec<u8> = (0..140).map(|i| (i % 3 == 0) as u8).collect();
    let all = coords(info.n_patches as usize);
    let mut w = StoreWriter::create(path, info, &thumb, &mask, &all).unwrap();
    for i in 0..info.n_patches as usize {
        w.write_tile(&encode_tile(tile(i), info.compression))
            .unwrap();
    }
    w.finish().unwrap()
}

const H5PY_CHECK: &str = r#"
import sys, h5py, hdf5plugin, json, zlib, numpy as np
f = h5py.File(sys.argv[1], 'r')
expected = np.fromfile(sys.argv[2], dtype=np.uint8).reshape(-1, 448, 448, 3)
a = {k: (v.tolist() if hasattr(v, 'tolist') else v) for k, v in f.attrs.items()}
out = {'attrs': a, 'root': sorted(f.keys()), 'groups': sorted(f['groups'].keys())}
out['thumbnail'] = [list(f['thumbnail'].shape), str(f['thumbnail'].dtype)]
out['tissue_mask'] = [list(f['tissue_mask'].shape), str(f['tissue_mask'].dtype), int(f['tissue_mask'][...].sum())]
gs = []
for name in sorted(f['groups']):
    g = f['groups'][name]
    t = g['tiles']
    gs.append({'name': name, 'keys': sorted(g.keys()), 'n': int(g.attrs['n']),
               'first': int(g.attrs['first_patch_index']),
               'shape': list(t.shape), 'dtype': str(t.dtype), 'chunks': list(t.chunks),
               'filters': [t.id.get_create_plist().get_filter(i)[0] for i in range(t.id.get_create_plist().get_nfilters())],
               'coords': g['coords'][...].tolist(), 'coords_dtype': str(g['coords'].dtype),
               'equal': [bool((t[i] == expected[g.attrs['first_patch_index'] + i]).all()) for i in range(t.shape[0])],
               # the checksums, as docs/store.md tells h5py users to check them
               'crc_ok': [zlib.crc32(t[i].tobytes()) == int(g['tile_crc32'][i]) for i in range(t.shape[0])]
                         + [zlib.crc32(g['coords'][...].astype('<i4').tobytes()) == int(g.attrs['coords_crc32'])]})
out['group_list'] = gs
print(json.dumps(out))
"#;

#[test]
fn every_compression_reads_back_here_and_in_h5py() {
    let dir = slidescale_testutil::temp_dir("store-roundtrip");
    // 7 tiles in groups of 3: 3, 3, 1
    for c in Compression::ALL {
        let path = dir.join(format!("s-{c}.h5"));
        let info = info(&format!("s-{c}"), c, 7, 3);
        let size = write_store(&path, &info);
        assert!(size > 0);
        assert!(!slidescale_core::workdir::unique_partial_path(&path).exists());
        if let Err(e) = Store::open(&path).and_then(|s| s.validate()) {
            panic!("{c}: {e}");
        }
        assert!(is_complete(&path), "{c}");

        // this crate
        let store = Store::open(&path).unwrap();
        assert_eq!(store.info(), &info);
        store.validate().unwrap();
        assert_eq!(store.thumbnail().unwrap().width, 70);
        assert_eq!(store.tissue_mask().unwrap().len(), 140);
        for k in 1..=3 {
            let g = store.read_group(k).unwrap();
            let first = (k as usize - 1) * 3;
            assert_eq!(g.first_patch_index, first as u64);
            for (j, i) in (first..first + g.len()).enumerate() {
                assert!(
                    g.tiles[j * TILE_BYTES..(j + 1) * TILE_BYTES] == tile(i)[..],
                    "{c} tile {i}"
                );
                assert_eq!(g.coords[j], coords(7)[i]);
            }
        }
        assert!(matches!(
            store.read_group(4),
            Err(StoreError::NoSuchGroup { group: 4, .. })
        ));

        // h5py
        let expected: Vec<u8> = (0..7).flat_map(tile).collect();
        let expected_path = dir.join("expected.bin");
        std::fs::write(&expected_path, expected).unwrap();
        let out = slidescale_testutil::run_python(
            H5PY_CHECK,
            &[path.to_str().unwrap(), expected_path.to_str().unwrap()],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let a = &v["attrs"];
        assert_eq!(a["schema"], 3);
        assert_eq!(
            (a["window"].clone(), a["analysis_level"].clone()),
            (224.into(), 0.into())
        );
        assert_eq!(a["analysis_downsample"], 1.0);
        assert_eq!(a["resolution"], r#"{"level":0}"#);
        assert_eq!(a["name"], info.name.as_str());
        assert_eq!(a["source_path"], info.source_path.as_str());
        assert_eq!(a["source_mtime"], 1.7e9 + 0.25);
        assert_eq!(a["mpp_x"], 0.499);
        assert!(a.get("mpp_y").is_none());
        assert_eq!(a["bbox"], serde_json::json!([2, 0, 9, 14]));
        assert_eq!(a["otsu_h"], 0.16658528645833337);
        assert_eq!(a["tile"], 224);
        assert_eq!(a["context"], 448);
        assert_eq!(
            (a["grid_cols"].clone(), a["grid_rows"].clone()),
            (10.into(), 14.into())
        );
        assert_eq!(
            (
                a["group_size"].clone(),
                a["n_groups"].clone(),
                a["n_patches"].clone()
            ),
            (3.into(), 3.into(), 7.into())
        );
        assert_eq!(a["compression"], c.name());
        assert_eq!(
            v["root"],
            serde_json::json!(["groups", "thumbnail", "tissue_mask"])
        );
        assert_eq!(
            v["groups"],
            serde_json::json!(["000001", "000002", "000003"])
        );
        assert_eq!(v["thumbnail"], serde_json::json!([[93, 70, 3], "uint8"]));
        assert_eq!(v["tissue_mask"], serde_json::json!([[14, 10], "uint8", 47]));
        let expected_filter = match c {
            Compression::None => None,
            Compression::Lzf => Some(32000),
            Compression::BloscLz4 => Some(32001),
            Compression::Deflate => Some(1),
        };
        for (k, g) in v["group_list"].as_array().unwrap().iter().enumerate() {
            let n = [3, 3, 1][k];
            assert_eq!(
                g["keys"],
                serde_json::json!(["coords", "tile_crc32", "tiles"])
            );
            assert_eq!(g["crc_ok"], serde_json::json!(vec![true; n + 1]), "{c}");
            assert_eq!(g["n"], n);
            assert_eq!(g["first"], 3 * k);
            assert_eq!(g["shape"], serde_json::json!([n, 448, 448, 3]));
            assert_eq!(g["dtype"], "uint8");
            assert_eq!(g["chunks"], serde_json::json!([1, 448, 448, 3]));
            assert_eq!(g["coords_dtype"], "int32");
            let filters: Vec<i64> = g["filters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_i64().unwrap())
                .collect();
            assert_eq!(
                filters,
                expected_filter.into_iter().collect::<Vec<_>>(),
                "{c}"
            );
            assert_eq!(
                g["equal"],
                serde_json::json!(vec![true; n]),
                "{c}: tiles in h5py"
            );
            for j in 0..n {
                let i = 3 * k + j;
                let (col, row) = coords(7)[i];
                assert_eq!(g["coords"][j], serde_json::json!([col, row]));
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tiles_read_in_pieces_equal_the_whole_group() {
    let dir = slidescale_testutil::temp_dir("store-pieces");
    let path = dir.join("p.h5");
    write_store(&path, &info("p", Compression::BloscLz4, 7, 4));
    let store = Store::open(&path).unwrap();
    let whole = store.read_group(1).unwrap().tiles;
    let pieces = [0..1, 1..3, 3..4]
        .into_iter()
        .flat_map(|r| store.read_tiles(1, r).unwrap())
        .collect::<Vec<u8>>();
    assert!(pieces == whole);
    assert!(store.read_tiles(2, 0..3).unwrap() == store.read_group(2).unwrap().tiles);
    assert!(store.read_tiles(2, 1..1).unwrap().is_empty());
    assert!(matches!(
        store.read_tiles(2, 2..4),
        Err(StoreError::Invalid { .. })
    ));
}

#[test]
fn an_unfinished_store_never_has_the_final_name() {
    // (a killed process cannot clean up: split_failures.rs checks that case)
    let dir = slidescale_testutil::temp_dir("store-partial");
    let path = dir.join("slide.h5");
    let info = info("slide", Compression::BloscLz4, 4, 2);
    let thumb = RgbImage::white(70, 93);
    // wrong tile counts are refused before anything is written
    assert!(StoreWriter::create(&path, &info, &thumb, &[0; 140], &coords(3)).is_err());
    let mut w = StoreWriter::create(&path, &info, &thumb, &[0; 140], &coords(4)).unwrap();
    w.write_tile(&encode_tile(tile(0), info.compression))
        .unwrap();
    assert_eq!(w.written(), 1);
    drop(w);
    assert!(!path.exists());
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "an abandoned writer cleans up: {left:?}");
    assert!(matches!(Store::open(&path), Err(StoreError::Missing(_))));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn foreign_and_damaged_files_are_refused_with_a_reason() {
    let dir = slidescale_testutil::temp_dir("store-bad");
    let foreign = dir.join("foreign.h5");
    slidescale_testutil::run_python(
        "import sys,h5py\nf=h5py.File(sys.argv[1],'w'); f.attrs['schema']=7",
        &[foreign.to_str().unwrap()],
    );
    let err = Store::open(&foreign).err().unwrap().to_string();
    assert!(
        err.contains("foreign.h5") && err.contains("schema 7"),
        "{err}"
    );

    let text = dir.join("text.h5");
    std::fs::write(&text, "not hdf5").unwrap();
    let err = Store::open(&text).err().unwrap().to_string();
    assert!(err.contains("text.h5"), "{err}");

    // a group deleted behind our back
    let path = dir.join("cut.h5");
    write_store(&path, &info("cut", Compression::None, 5, 2));
    assert!(is_complete(&path));
    slidescale_testutil::run_python(
        "import sys,h5py\nf=h5py.File(sys.argv[1],'a'); del f['groups/000002']",
        &[path.to_str().unwrap()],
    );
    let err = Store::open(&path)
        .unwrap()
        .validate()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("2 groups, attributes say 3"), "{err}");
    assert!(!is_complete(&path));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_groups_digest_is_fnv1a_of_its_stored_checksums_and_ignores_compression() {
    let dir = slidescale_testutil::temp_dir("store-digest");
    let (a, b) = (dir.join("a.h5"), dir.join("b.h5"));
    write_store(&a, &info("a", Compression::BloscLz4, 7, 3));
    write_store(&b, &info("b", Compression::None, 7, 3));
    let (a, b) = (Store::open(&a).unwrap(), Store::open(&b).unwrap());
    let digests: Vec<u64> = (1..=3).map(|k| a.group_digest(k).unwrap()).collect();
    assert_eq!(
        digests,
        (1..=3)
            .map(|k| b.group_digest(k).unwrap())
            .collect::<Vec<_>>()
    );
    assert!(digests[0] != digests[1] && digests[1] != digests[2]);
    // the same digest from h5py, as docs/store.md describes it
    let py = slidescale_testutil::run_python(
        "import sys, h5py, hdf5plugin, numpy as np\n\
         g = h5py.File(sys.argv[1], 'r')['groups/000002']\n\
         data = g['tile_crc32'][...].astype('<u4').tobytes() + int(g.attrs['coords_crc32']).to_bytes(4, 'little')\n\
         h = 0xcbf29ce484222325\n\
         for byte in data: h = ((h ^ byte) * 0x100000001b3) % 2**64\n\
         print('%016x' % h)",
        &[a.path().to_str().unwrap()],
    );
    assert_eq!(py.trim(), format!("{:016x}", digests[1]));
    std::fs::remove_dir_all(dir).unwrap();
}
