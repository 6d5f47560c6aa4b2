//! Issue 7, requirement 3: "a single flipped bit in a store … and
//! `run --resume` recomputes exactly what is damaged". A `process` task that
//! finds a damaged tile marks its timing line; the next `run --resume`
//! splits the unchanged slide again (`split::store_decision`) and, since
//! results record the digest of the tiles they were computed from
//! (`results::check_result`), recomputes only the results that are missing
//! or invalid: the repaired store has the same digests.

mod heatmap_support;

use slidescale_testutil::flip_bit;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use heatmap_support::*;

const GROUPS: u32 = 3; // CMU: 54 tiles in groups of 20, 20, 14
const DAMAGED: u32 = 2;

fn run_args(work: &Path, more: &[&str]) -> Ran {
    let extra = ["--group-size", "20", "--threads", "1"];
    run_with(
        &[&cmu()],
        &smallcnn(),
        224,
        work,
        &[&extra[..], more].concat(),
    )
}

fn store(work: &Path) -> PathBuf {
    work.join(format!("{CMU}.h5"))
}

fn heatmap(work: &Path) -> Vec<u8> {
    std::fs::read(work.join("heatmaps").join(format!("{CMU}.npy"))).unwrap()
}

/// Every result's bytes and modification time, group 1 first.
fn results(work: &Path) -> Vec<(Vec<u8>, SystemTime)> {
    (1..=GROUPS)
        .map(|k| result_path(work, CMU, k))
        .map(|p| (std::fs::read(&p).unwrap(), mtime(&p)))
        .collect()
}

/// Flip one bit inside tile 7's chunk of group `k` (past blosc's header,
/// whose flag bits may change no decoded byte); returns "group K tile 7".
fn damage_tile(work: &Path, k: u32) -> String {
    let tile = 7;
    let (addr, size, mask) = chunk(&store(work), k, tile);
    let skip = if mask & 1 == 0 { 16 } else { 0 };
    flip_bit(&store(work), addr + skip + (size - skip) / 2, 3);
    format!("group {k} tile {tile}")
}

fn process_forced(work: &Path, k: u32) -> Ran {
    let (store, model) = (store(work), smallcnn());
    run(&[
        "process".as_ref(),
        store.as_os_str(),
        "--group".as_ref(),
        k.to_string().as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        "224".as_ref(),
        "--force".as_ref(),
    ])
}

fn assert_verified_clean(work: &Path) {
    let v = run(&["status".as_ref(), work.as_os_str(), "--verify".as_ref()]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("no damage"), "{}", v.stdout);
}

/// The resume said it split the slide again because of the damage.
fn assert_resplit(r: &Ran, named: &str) {
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains("the store is damaged")
            && said.contains(named)
            && said.contains("split again from the unchanged slide"),
        "{said}"
    );
}

#[test]
fn a_damaged_store_is_split_again_and_no_valid_result_is_recomputed() {
    let work = slidescale_testutil::temp_dir("repair-kept");
    run_args(&work, &[]).ok();
    let (pristine, kept) = (heatmap(&work), results(&work));
    let stored = mtime(&store(&work));
    let named = damage_tile(&work, DAMAGED);

    let p = process_forced(&work, DAMAGED);
    assert_eq!(p.code, 65, "{}\n{}", p.stdout, p.stderr);
    assert!(p.stderr.contains(&named), "{}", p.stderr);

    let r = run_args(&work, &["--resume"]).ok();
    assert_resplit(&r, &named);
    assert!(mtime(&store(&work)) > stored, "the store was split again");
    assert_eq!(results(&work), kept, "every result kept, bytes and times");
    assert!(heatmap(&work) == pristine, "the same heatmap");
    assert_verified_clean(&work);

    // repaired, the store is kept by the next resume
    let stored = mtime(&store(&work));
    let again = run_args(&work, &["--resume"]).ok();
    assert!(!again.stdout.contains("damaged"), "{}", again.stdout);
    assert_eq!(mtime(&store(&work)), stored, "not split a third time");
    assert_eq!(results(&work), kept);
    std::fs::remove_dir_all(&work).ok();
}

#[test]
fn a_damaged_group_without_its_result_fails_then_is_repaired_and_scored() {
    let work = slidescale_testutil::temp_dir("repair-missing");
    run_args(&work, &[]).ok();
    let (pristine, kept) = (heatmap(&work), results(&work));
    let missing = result_path(&work, CMU, DAMAGED);
    std::fs::remove_file(&missing).unwrap();
    let named = damage_tile(&work, DAMAGED);

    let failed = run_args(&work, &["--resume"]);
    assert_eq!(failed.code, 65, "{}\n{}", failed.stdout, failed.stderr);
    assert!(
        failed
            .stderr
            .contains(&format!("error: {CMU} group {DAMAGED}: "))
            && failed.stderr.contains(&named),
        "{}",
        failed.stderr
    );
    assert!(!missing.exists(), "no result from damaged tiles");

    let r = run_args(&work, &["--resume"]).ok();
    assert_resplit(&r, &named);
    assert!(
        r.stdout
            .contains("1 groups scored (2 already done, 0 failed)"),
        "{}",
        r.stdout
    );
    let now = results(&work);
    for (k, (was, is)) in (1..=GROUPS).zip(kept.iter().zip(&now)) {
        assert_eq!(was.0, is.0, "group {k}: the same scores");
        if k != DAMAGED {
            assert_eq!(was.1, is.1, "group {k}: not recomputed");
        }
    }
    assert!(heatmap(&work) == pristine, "the same heatmap");
    assert_verified_clean(&work);
    std::fs::remove_dir_all(&work).ok();
}
