//! Issue 7, requirement 3: seeded single-bit flips in a tile's chunk data,
//! in a group's coordinates and in the thumbnail are errors on every read
//! that returns them, named by group and tile, and `Store::verify` lists
//! exactly the damaged parts. Chunks are located with HDF5's chunk index.

use slidescale_testutil::flip_bit;
use std::path::Path;

use hdf5_metno as hdf5;
use slidescale_core::{Grid, RgbImage, TileGeometry};
use slidescale_store::{
    encode_tile, Compression, DamagedPart, Store, StoreError, StoreInfo, StoreWriter,
};

const TILE_BYTES: usize = TileGeometry::PAPER.context_bytes() as usize;

/// Smooth colour (compresses) with a noisy corner, like a tissue tile.
fn tile(i: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9u32.wrapping_mul(i as u32 + 1);
    (0..TILE_BYTES)
        .map(|j| {
            let (p, ch) = (j / 3, j % 3);
            let (px, py) = (p % 448, p / 448);
            if px < 60 && py < 60 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            } else {
                (px / 4 + py / 8 + ch * 40 + i * 7) as u8
            }
        })
        .collect()
}

fn write_store(path: &Path, compression: Compression) {
    let info = StoreInfo {
        name: "s".into(),
        slidescale_version: "test".into(),
        source_path: "/slides/s.svs".into(),
        source_size: 1,
        source_mtime: 1.0,
        level0_width: 1000,
        level0_height: 1000,
        mpp_x: None,
        mpp_y: None,
        vendor: "test".into(),
        reader: "native".into(),
        grid: Grid { cols: 5, rows: 5 },
        geometry: slidescale_core::TileGeometry::PAPER,
        resolution: slidescale_core::Resolution::default(),
        analysis: slidescale_core::Analysis::level0(1000, 1000, None),
        bbox: [0, 0, 5, 5],
        otsu_h: 0.1,
        otsu_s: 0.1,
        tissue_min_fraction: 0.3,
        tissue_min_saturation: 0.1,
        tissue_pen_filter: true,
        tissue_rule: 2,
        tissue_modality: "brightfield".into(),
        otsu_v: None,
        openslide: "test".into(),
        thumbnail_level: 0,
        group_size: 3,
        n_groups: 2,
        n_patches: 5,
        compression,
    };
    let coords: Vec<(i32, i32)> = (0..5).map(|i| (i, i)).collect();
    let thumb = RgbImage::white(31, 31);
    let mut w = StoreWriter::create(path, &info, &thumb, &[1; 25], &coords).unwrap();
    for i in 0..5 {
        w.write_tile(&encode_tile(tile(i), compression)).unwrap();
    }
    w.finish().unwrap();
}

/// Opened as the store opens its files, without HDF5's `flock`: a locked
/// descriptor is inherited by the Python child another test forks, and this
/// test's next open of that file then fails with EAGAIN (a CI failure).
fn open_unlocked(path: &Path) -> hdf5::File {
    let mut b = hdf5::File::with_options();
    b.with_fapl(|p| p.file_locking(false));
    b.open(path).unwrap()
}

/// (file offset, size) of tile `i`'s chunk in group `k`.
fn chunk(path: &Path, k: u32, i: usize) -> (u64, u64) {
    let f = open_unlocked(path);
    let d = f.dataset(&format!("groups/{k:06}/tiles")).unwrap();
    let c = d.chunk_info(i).unwrap();
    assert_eq!(c.offset[0], i as u64);
    (c.addr, c.size)
}

/// xorshift, so the flipped positions are seeded and reproducible.
fn seeded(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn assert_tile_damage(e: StoreError, path: &Path, group: u32, tile: usize, what: &str) {
    let text = e.to_string();
    match e {
        StoreError::Corrupt { damage, .. } => {
            assert_eq!(
                damage.part,
                DamagedPart::Tile { group, tile },
                "{what}: {text}"
            )
        }
        other => panic!("{what}: not Corrupt: {other}"),
    }
    assert!(
        text.contains(&path.display().to_string())
            && text.contains(&format!("group {group} tile {tile}"))
            && text.contains("split the slide again"),
        "{what}: {text}"
    );
}

#[test]
fn a_flipped_bit_anywhere_in_a_tile_chunk_is_an_error_naming_the_tile() {
    let dir = slidescale_testutil::temp_dir("store-integrity");
    let mut next = seeded(0x5EED_0007);
    let mut trials = 0;
    for c in Compression::ALL {
        for trial in 0..6 {
            let path = dir.join(format!("{c}-{trial}.h5"));
            write_store(&path, c);
            // group 2 holds tiles 3, 4 of the slide as its tiles 0, 1
            let (k, i) = if trial % 2 == 0 { (1, 1) } else { (2, 1) };
            let (addr, size) = chunk(&path, k, i);
            // Past blosc's 16-byte header: a flip in its version or flag
            // bytes can leave every decoded byte as it was (docs/store.md).
            let skip = if c == Compression::BloscLz4 { 16 } else { 0 };
            let byte = addr + skip + next() % (size - skip);
            flip_bit(&path, byte, next() % 8);
            let what = format!("{c} trial {trial} byte {}", byte - addr);
            let store = Store::open(&path).unwrap();
            store.validate().unwrap(); // structure is intact: no tile is read
            assert_tile_damage(store.read_group(k).unwrap_err(), &path, k, i, &what);
            assert_tile_damage(store.read_tiles(k, 0..2).unwrap_err(), &path, k, i, &what);
            assert_tile_damage(
                store.read_tiles(k, i..i + 1).unwrap_err(),
                &path,
                k,
                i,
                &what,
            );
            assert!(store.read_tiles(k, 0..1).is_ok(), "{what}: neighbour");
            assert!(store.read_group(3 - k).is_ok(), "{what}: other group");
            let found = store.verify().unwrap();
            assert_eq!(found.tiles, 5);
            let parts: Vec<_> = found.damage.iter().map(|d| d.part.clone()).collect();
            assert_eq!(parts, [DamagedPart::Tile { group: k, tile: i }], "{what}");
            trials += 1;
        }
    }
    assert_eq!(trials, 24);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn damaged_coordinates_and_thumbnail_are_named_and_intact_stores_verify_clean() {
    let dir = slidescale_testutil::temp_dir("store-integrity-meta");
    let path = dir.join("s.h5");
    write_store(&path, Compression::BloscLz4);
    let found = Store::open(&path).unwrap().verify().unwrap();
    assert_eq!((found.tiles, found.damage.len()), (5, 0));

    let (coords_at, thumb_at) = {
        let f = open_unlocked(&path);
        let at = |name: &str| f.dataset(name).unwrap().offset().unwrap();
        (at("groups/000002/coords"), at("thumbnail"))
    };
    flip_bit(&path, coords_at + 4, 0); // group 2, first tile's row: 3 → 2
    flip_bit(&path, thumb_at + 100, 7);
    let store = Store::open(&path).unwrap();
    let err = store.group_coords(2).unwrap_err().to_string();
    assert!(err.contains("group 2 coordinates"), "{err}");
    assert!(store.read_group(2).is_err() && store.validate().is_err());
    let err = store.thumbnail().unwrap_err().to_string();
    assert!(err.contains("thumbnail"), "{err}");
    let parts: Vec<_> = store
        .verify()
        .unwrap()
        .damage
        .into_iter()
        .map(|d| d.part)
        .collect();
    assert_eq!(
        parts,
        [DamagedPart::Thumbnail, DamagedPart::Coords { group: 2 }]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_schema_1_store_is_refused_with_a_message_to_split_again() {
    let dir = slidescale_testutil::temp_dir("store-schema1");
    let path = dir.join("old.h5");
    write_store(&path, Compression::None);
    slidescale_testutil::run_python(
        "import sys,h5py\nf=h5py.File(sys.argv[1],'a'); f.attrs['schema']=1",
        &[path.to_str().unwrap()],
    );
    let err = Store::open(&path).err().unwrap().to_string();
    assert!(
        err.contains("old.h5") && err.contains("schema 1") && err.contains("split the slide again"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn verify_reports_the_blosc_header_bits_the_decoder_ignores() {
    let dir = slidescale_testutil::temp_dir("store-integrity-header");
    let path = dir.join("h.h5");
    write_store(&path, Compression::BloscLz4);
    let pristine = std::fs::read(&path).unwrap();
    let (addr, _) = chunk(&path, 1, 1);
    let mut read_errors = 0;
    // Bit 20 is blosc's "do not split blocks" flag: with one-byte items a
    // block has one stream either way, so it decodes the same and cannot be
    // told from a chunk a blosc build that splits differently wrote.
    for bit in (0..128u64).filter(|&b| b != 20) {
        std::fs::write(&path, &pristine).unwrap();
        flip_bit(&path, addr + bit / 8, bit % 8);
        let store = Store::open(&path).unwrap();
        read_errors += store.read_group(1).is_err() as u32;
        let parts: Vec<_> = store
            .verify()
            .unwrap()
            .damage
            .into_iter()
            .map(|d| d.part)
            .collect();
        assert_eq!(
            parts,
            [DamagedPart::Tile { group: 1, tile: 1 }],
            "header bit {bit}"
        );
    }
    // most header bits break decoding or the CRC on every read; the rest
    // (shuffle flags, typesize, cbytes) change no decoded byte
    assert!(read_errors >= 90, "{read_errors}");
    std::fs::remove_dir_all(dir).unwrap();
}
