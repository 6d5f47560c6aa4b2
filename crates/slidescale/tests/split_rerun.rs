//! Rerunning `split` skips slides whose complete store matches the slide
//! file; `--force` rewrites them, and a changed slide is rewritten.

mod split_support;

use std::os::unix::fs::MetadataExt;

use slidescale_store::Store;
use split_support::{cmu_as, run, status_of};

fn split(args: &[&std::ffi::OsStr]) -> String {
    let mut all: Vec<&std::ffi::OsStr> = vec!["split".as_ref()];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    stdout
}

#[test]
fn rerun_skips_force_rewrites_and_a_changed_slide_is_redone() {
    let dir = slidescale_testutil::temp_dir("split-rerun");
    let slide = cmu_as(&dir, "s.svs");
    let out = dir.join("work");
    let store = out.join("s.h5");
    let args = [slide.as_os_str(), "--out".as_ref(), out.as_os_str()];

    let first = split(&args);
    assert_eq!(status_of(&first, "s").as_deref(), Some("written"));
    let inode = std::fs::metadata(&store).unwrap().ino();

    let again = split(&args);
    assert_eq!(
        status_of(&again, "s").as_deref(),
        Some("skipped"),
        "{again}"
    );
    assert_eq!(
        std::fs::metadata(&store).unwrap().ino(),
        inode,
        "store rewritten"
    );
    let timing = std::fs::read_to_string(out.join("logs/timing/split/s/slide.json")).unwrap();
    assert!(timing.contains("\"status\":\"skipped\""), "{timing}");

    // a store split another way is rewritten as asked, and says why
    let mut with_other = args.to_vec();
    with_other.extend::<[&std::ffi::OsStr; 2]>(["--group-size".as_ref(), "7".as_ref()]);
    let redone = split(&with_other);
    assert_eq!(status_of(&redone, "s").as_deref(), Some("written"));
    assert!(redone.contains("split with group size"), "{redone}");
    assert_eq!(Store::open(&store).unwrap().info().group_size, 7);
    let inode = std::fs::metadata(&store).unwrap().ino();

    with_other.push("--force".as_ref());
    let forced = split(&with_other);
    assert_eq!(
        status_of(&forced, "s").as_deref(),
        Some("written"),
        "{forced}"
    );
    assert_ne!(
        std::fs::metadata(&store).unwrap().ino(),
        inode,
        "--force did not rewrite"
    );

    // the slide changes (new modification time): its store is redone
    let f = std::fs::File::options().append(true).open(&slide).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let changed = split(&args);
    assert_eq!(
        status_of(&changed, "s").as_deref(),
        Some("written"),
        "{changed}"
    );
    assert!(changed.contains("the slide changed"), "{changed}");
    std::fs::remove_dir_all(dir).unwrap();
}
