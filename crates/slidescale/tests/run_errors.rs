//! Issue 7, requirement 7 ("errors say why") through the command line:
//! missing, empty and too-long-named slides are refused before any work by
//! both the local and the cluster path, naming each file and its cause;
//! every slide that fails to split is named with its cause; a full disk is
//! transient (75) and says so; a same-named slide from another folder does
//! not silently replace a finished one.

mod heatmap_support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use heatmap_support::*;
use slidescale_core::exit;
use slidescale_pipeline::split::{name_max, LONGEST_SUFFIX};

/// `slidescale run SLIDES --model smallcnn --stride 224 --out WORK EXTRA…`.
fn run_slides(slides: &[&Path], work: &Path, extra: &[&str]) -> Ran {
    run_with(slides, &smallcnn(), 224, work, extra)
}

/// A missing slide, an empty one and a copy of CMU whose name is one byte
/// longer than the work directory's file system allows with suffixes.
fn bad_slides(dir: &Path) -> Vec<PathBuf> {
    let empty = dir.join("empty.svs");
    std::fs::write(&empty, b"").unwrap();
    let max = name_max(dir) as usize - LONGEST_SUFFIX.len();
    let long = cmu_as(dir, &format!("{}.svs", "n".repeat(max + 1)));
    vec![dir.join("not there.svs"), empty, long]
}

fn assert_names_every_bad_slide(ran: &Ran, slides: &[PathBuf]) {
    let err = &ran.stderr;
    assert_eq!(ran.code, exit::BAD_INPUT, "{}\n{err}", ran.stdout);
    assert!(!err.contains("no slide stores"), "{err}");
    assert!(err.contains("3 slides cannot be used"), "{err}");
    assert!(
        err.contains(&format!("{}: no such file", slides[0].display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: empty file", slides[1].display())),
        "{err}"
    );
    assert!(err.contains(&slides[2].display().to_string()), "{err}");
    let limit = name_max(slides[2].parent().unwrap());
    assert!(
        err.contains(&format!("limited to {limit} bytes (NAME_MAX)")),
        "{err}"
    );
}

#[test]
fn missing_empty_and_too_long_slides_are_refused_by_name_before_any_work() {
    let dir = slidescale_testutil::temp_dir("run-err-inputs");
    let slides = bad_slides(&dir);
    let work = dir.join("work");
    let refs: Vec<&Path> = slides.iter().map(PathBuf::as_path).collect();
    let ran = run_slides(&refs, &work, &[]);
    assert_names_every_bad_slide(&ran, &slides);
    assert!(!work.exists(), "a refused run made {}", work.display());
    // with the good slide among them, still nothing is done
    let mut with_good = refs.clone();
    let good = cmu();
    with_good.insert(0, &good);
    assert_names_every_bad_slide(&run_slides(&with_good, &work, &[]), &slides);
    assert!(!work.exists());
    // `split` applies the same checks
    let mut args: Vec<&OsStr> = vec!["split".as_ref(), "--out".as_ref(), work.as_os_str()];
    args.extend(slides.iter().map(|s| s.as_os_str()));
    assert_names_every_bad_slide(&run(&args), &slides);
    assert!(!work.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_cluster_path_refuses_the_same_slides_before_submitting() {
    let dir = slidescale_testutil::temp_dir("run-err-cluster");
    let slides = bad_slides(&dir);
    let work = dir.join("work");
    let good = cmu();
    let mut refs: Vec<&Path> = vec![&good];
    refs.extend(slides.iter().map(PathBuf::as_path));
    let ran = run_slides(&refs, &work, &["--executor", "slurm", "--dry-run"]);
    assert_names_every_bad_slide(&ran, &slides);
    assert!(!ran.stdout.contains("would submit"), "{}", ran.stdout);
    assert!(!work.exists(), "job scripts written for a refused run");
    // the good slide alone gets its job scripts: the refusal was the slides'
    let ran = run_slides(&[&good], &work, &["--executor", "slurm", "--dry-run"]).ok();
    assert!(ran.stdout.contains("would submit: split"), "{}", ran.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_slide_that_fails_to_split_is_named_with_its_cause() {
    let dir = slidescale_testutil::temp_dir("run-err-split");
    let negative = slidescale_testutil::fixture("slides/negative");
    let broken = [
        negative.join("histolab_broken.svs"),
        negative.join("openslide-python_unopenable.tiff"),
    ];
    let good = cmu();
    let work = dir.join("some");
    let ran = run_slides(&[&broken[0], &good, &broken[1]], &work, &[]);
    assert_eq!(ran.code, exit::BAD_INPUT, "{}\n{}", ran.stdout, ran.stderr);
    assert!(work.join(format!("heatmaps/{CMU}.png")).is_file());
    for path in &broken {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let head = format!("error: slide {name} ({}): ", path.display());
        let line = ran.stderr.lines().find(|l| l.starts_with(&head));
        let line = line.unwrap_or_else(|| panic!("{name} not named: {}", ran.stderr));
        assert!(line.contains("cannot open"), "{line}");
    }
    // none could be split: the error says why, slide by slide
    let work = dir.join("none");
    let ran = run_slides(&[&broken[0], &broken[1]], &work, &[]);
    assert_eq!(ran.code, exit::BAD_INPUT, "{}", ran.stderr);
    let err = ran.stderr.trim();
    assert!(!err.contains("no slide stores"), "{err}");
    assert!(err.starts_with("error: no slide could be split: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for path in &broken {
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
    assert_eq!(err.matches("cannot open").count(), 2, "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A tmpfs of `size` at `dir`, unmounted when dropped (also on a failed
/// assertion). The tests run as root; mounting must work.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: PathBuf, size: &str) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let opts = format!("size={size}");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount -t tmpfs needs root (the tests run as root)"
        );
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_transient_and_says_so() {
    let dir = slidescale_testutil::temp_dir("run-err-full");
    // CMU's store is about 2 MiB: 1 MiB fills during split
    let disk = SmallDisk::mount(dir.join("disk"), "1m");
    let work = disk.0.join("work");
    let ran = run_slides(&[&cmu()], &work, &[]);
    assert_eq!(ran.code, exit::TRANSIENT, "{}\n{}", ran.stdout, ran.stderr);
    let err = ran.stderr.trim();
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("disk full"), "{err}");
    assert!(
        err.contains(&format!("{CMU} ({})", cmu().display())),
        "{err}"
    );
    assert!(!work.join(format!("{CMU}.h5")).exists());

    let ran = run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        "--out".as_ref(),
        disk.0.join("split").as_os_str(),
    ]);
    assert_eq!(ran.code, exit::TRANSIENT, "{}\n{}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains("disk full"), "{}", ran.stderr);
    drop(disk);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_same_named_slide_from_another_folder_does_not_replace_a_finished_one() {
    let dir = slidescale_testutil::temp_dir("run-err-twin");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let first = cmu_as(&dir.join("a"), "x.svs");
    let other = dir.join("b/x.tiff"); // another slide, also called x
    std::fs::copy(fixture_slide("openslide-python_boxes.tiff"), &other).unwrap();
    let work = dir.join("work");
    run_slides(&[&first], &work, &[]).ok();
    let store = work.join("x.h5");
    let heatmap = work.join("heatmaps/x.npy");
    let (store_before, heatmap_before) = (read(&store), read(&heatmap));

    let ran = run_slides(&[&other], &work, &["--resume"]);
    assert_eq!(ran.code, exit::BAD_INPUT, "{}\n{}", ran.stdout, ran.stderr);
    let first_abs = std::fs::canonicalize(&first).unwrap();
    let other_abs = std::fs::canonicalize(&other).unwrap();
    for p in [&first_abs, &other_abs] {
        assert!(
            ran.stderr.contains(&p.display().to_string()),
            "{}",
            ran.stderr
        );
    }
    assert!(ran.stderr.contains("--force"), "{}", ran.stderr);
    assert_eq!(read(&store), store_before, "the finished store was touched");
    assert_eq!(
        read(&heatmap),
        heatmap_before,
        "the finished heatmap was touched"
    );

    // `split` obeys the same rule, and --force replaces the store
    let split = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec!["split".as_ref(), other.as_os_str()];
        args.extend(["--out".as_ref(), work.as_os_str()]);
        args.extend(extra.iter().map(OsStr::new));
        run(&args)
    };
    assert_eq!(split(&[]).code, exit::BAD_INPUT);
    assert_eq!(read(&store), store_before);
    split(&["--force"]).ok();
    let source = slidescale_store::Store::open(&store)
        .unwrap()
        .info()
        .source_path
        .clone();
    assert_eq!(Path::new(&source), other_abs);
    std::fs::remove_dir_all(dir).unwrap();
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_slide(name: &str) -> PathBuf {
    slidescale_testutil::fixture(&format!("slides/{name}"))
}
