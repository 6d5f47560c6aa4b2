//! Issue 7, requirement 3, through the command line: seeded single-bit flips
//! in a store's tile chunks and in results' data are found by `process`,
//! `stitch`, `status --verify` and `run --resume`, which recomputes exactly
//! the damaged results. Chunks are located with h5py's `get_chunk_info`;
//! flips keep the file's modification time, as bit rot does.

mod heatmap_support;

use slidescale_testutil::flip_bit;
use std::fs::File;
use std::path::{Path, PathBuf};

use heatmap_support::*;

const EXTRA: [&str; 2] = ["--group-size", "20"]; // CMU: 54 tiles, groups of 20, 20, 14
const GROUPS: u32 = 3;

/// xorshift: every flipped position comes from a seed.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn run_args(work: &Path, more: &[&str]) -> Ran {
    run_with(
        &[&cmu()],
        &smallcnn(),
        224,
        work,
        &[&EXTRA[..], more].concat(),
    )
}

fn verify(work: &Path) -> Ran {
    run(&["status".as_ref(), work.as_os_str(), "--verify".as_ref()])
}

fn results(work: &Path) -> Vec<PathBuf> {
    (1..=GROUPS).map(|k| result_path(work, CMU, k)).collect()
}

#[test]
fn a_flipped_bit_in_a_tile_chunk_is_found_by_process_status_and_run() {
    let work = slidescale_testutil::temp_dir("integrity-store");
    run_args(&work, &[]).ok();
    let clean = verify(&work);
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert!(
        clean
            .stdout
            .contains("1 stores (54 tiles) and 3 results checked: no damage"),
        "{}",
        clean.stdout
    );
    let store = work.join(format!("{CMU}.h5"));
    let pristine = std::fs::read(&store).unwrap();
    let stamp = mtime(&store);
    let model = smallcnn();
    let mut rng = Seeded(0x1557_0003);
    for trial in 0..4u32 {
        let k = trial % GROUPS + 1;
        let tile = rng.below(if k == GROUPS { 14 } else { 20 });
        let (addr, size, mask) = chunk(&store, k, tile);
        // Past blosc's 16-byte header when the chunk is compressed: some of
        // its bits (flags, typesize, cbytes) change no decoded byte.
        let skip = if mask & 1 == 0 { 16 } else { 0 };
        let byte = addr + skip + rng.below(size - skip);
        flip_bit(&store, byte, rng.below(8));
        let what = format!("trial {trial}: group {k} tile {tile}, byte {}", byte - addr);
        let named = format!("group {k} tile {tile}");

        // process: an error naming the tile, and the result is left alone
        let result = result_path(&work, CMU, k);
        let before = (std::fs::read(&result).unwrap(), mtime(&result));
        let p = run(&[
            "process".as_ref(),
            store.as_os_str(),
            "--group".as_ref(),
            k.to_string().as_ref(),
            "--model".as_ref(),
            model.as_os_str(),
            "--stride".as_ref(),
            "224".as_ref(),
            "--force".as_ref(),
        ]);
        assert_eq!(p.code, 65, "{what}: {}\n{}", p.stdout, p.stderr);
        assert!(
            p.stderr.contains(&named) && p.stderr.contains("damaged store"),
            "{what}: {}",
            p.stderr
        );
        assert_eq!(
            (std::fs::read(&result).unwrap(), mtime(&result)),
            before,
            "{what}"
        );

        // status --verify names exactly that tile
        let v = verify(&work);
        assert_eq!(v.code, 65, "{what}: {}", v.stdout);
        let damaged: Vec<&str> = v
            .stdout
            .lines()
            .filter(|l| l.starts_with("damaged:"))
            .collect();
        assert_eq!(damaged.len(), 1, "{what}: {}", v.stdout);
        assert!(
            damaged[0].starts_with(&format!("damaged: {CMU}: store {named} (")),
            "{what}: {}",
            v.stdout
        );

        // run --resume: process found the store damaged, so the unchanged
        // slide is split again and the group whose result is gone recomputed
        // (store_repair.rs covers the repair itself)
        std::fs::remove_file(&result).unwrap();
        let r = run_args(&work, &["--resume"]);
        assert_eq!(r.code, 0, "{what}: {}\n{}", r.stdout, r.stderr);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(said.contains("the store is damaged"), "{what}: {said}");
        assert_eq!(std::fs::read(&result).unwrap(), before.0, "{what}");

        std::fs::write(&store, &pristine).unwrap();
        File::options()
            .write(true)
            .open(&store)
            .unwrap()
            .set_modified(stamp)
            .unwrap();
        std::fs::write(&result, &before.0).unwrap();
    }
    // Restored, the run finishes and nothing is damaged.
    run_args(&work, &["--resume"]).ok();
    let v = verify(&work);
    assert_eq!(v.code, 0, "{}", v.stdout);
    std::fs::remove_dir_all(&work).ok();
}

/// Rewrite result `path` with `values[i] = NaN` and a header CRC that
/// matches: only the finiteness rule can catch it.
fn inject_nan(path: &Path, i: usize) {
    slidescale_testutil::run_python(
        "import sys, zlib, numpy as np\n\
         raw = bytearray(open(sys.argv[1], 'rb').read())\n\
         n = 10 + int.from_bytes(raw[8:10], 'little')\n\
         a = np.frombuffer(bytes(raw[n:]), '<f4').copy(); a[int(sys.argv[2])] = np.nan\n\
         head = raw[:n].decode('latin1'); at = head.index('crc32=') + 6\n\
         head = head[:at] + '%08x' % zlib.crc32(a.tobytes()) + head[at + 8:]\n\
         open(sys.argv[1], 'wb').write(head.encode('latin1') + a.tobytes())",
        &[path.to_str().unwrap(), &i.to_string()],
    );
}

#[test]
fn a_flipped_bit_in_a_result_is_refused_by_stitch_listed_and_recomputed_by_resume() {
    let work = slidescale_testutil::temp_dir("integrity-results");
    run_args(&work, &[]).ok();
    let heatmap = work.join("heatmaps").join(format!("{CMU}.npy"));
    let pristine = std::fs::read(&heatmap).unwrap();
    let store = work.join(format!("{CMU}.h5"));
    let mut rng = Seeded(0x8E50_0007);
    for trial in 0..4u32 {
        let k = trial % GROUPS + 1;
        let result = result_path(&work, CMU, k);
        let what = format!("trial {trial}: group {k}");
        if trial == 3 {
            inject_nan(&result, 5);
        } else {
            let len = std::fs::metadata(&result).unwrap().len();
            let data = 128; // the header is 128 bytes; everything after is scores
            let byte = data + rng.below(len - data);
            flip_bit(&result, byte, rng.below(8));
        }
        let np = slidescale_testutil::run_python(
            "import sys, numpy as np; print(np.load(sys.argv[1]).shape)",
            &[result.to_str().unwrap()],
        );
        assert_eq!(
            np.trim(),
            format!("({}, 1, 1)", if k == 3 { 14 } else { 20 })
        );
        let why = if trial == 3 {
            "score 5 is NaN"
        } else {
            "damaged: data CRC-32"
        };

        let s = run(&["stitch".as_ref(), store.as_os_str()]);
        assert_eq!(s.code, 65, "{what}: {}", s.stderr);
        assert!(
            s.stderr
                .contains(&format!("1 of 3 group results missing or invalid: {k} ("))
                && s.stderr.contains(why),
            "{what}: {}",
            s.stderr
        );
        let v = verify(&work);
        assert_eq!(v.code, 65, "{what}: {}", v.stdout);
        assert!(
            v.stdout
                .contains(&format!("damaged: {CMU}: result group {k}: "))
                && v.stdout.contains(why),
            "{what}: {}",
            v.stdout
        );

        let kept: Vec<_> = results(&work).iter().map(|p| mtime(p)).collect();
        let r = run_args(&work, &["--resume"]).ok();
        assert!(
            r.stdout
                .contains("1 groups scored (2 already done, 0 failed)"),
            "{what}: {}",
            r.stdout
        );
        for (j, p) in results(&work).iter().enumerate() {
            let rescored = mtime(p) != kept[j];
            assert_eq!(
                rescored,
                j as u32 + 1 == k,
                "{what}: only group {k} is rescored ({})",
                p.display()
            );
        }
        assert_eq!(
            std::fs::read(&heatmap).unwrap(),
            pristine,
            "{what}: same heatmap"
        );
        assert_eq!(verify(&work).code, 0, "{what}");
    }

    // The heatmap carries a CRC-32 too; a flip there is listed.
    let len = std::fs::metadata(&heatmap).unwrap().len();
    flip_bit(&heatmap, 128 + rng.below(len - 128), rng.below(8));
    let v = verify(&work);
    assert_eq!(v.code, 65, "{}", v.stdout);
    assert!(
        v.stdout.contains(&format!("damaged: {CMU}: heatmap: ")),
        "{}",
        v.stdout
    );
    std::fs::remove_dir_all(&work).ok();
}
