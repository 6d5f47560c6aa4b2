//! Bad input loses nothing: broken slides are reported by name with their
//! cause while the good one completes; two slides with one name stop the run
//! before any work; a split killed with SIGKILL leaves no `NAME.h5`.

mod split_support;

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use slidescale_store::is_complete;
use split_support::{big_slide, cmu, cmu_as, run, slidescale, status_of};

#[test]
fn broken_slides_fail_by_name_and_the_good_one_completes() {
    let dir = slidescale_testutil::temp_dir("split-neg");
    let negative = slidescale_testutil::repo_root().join("fixtures/slides/negative");
    let mut bad: Vec<_> = std::fs::read_dir(&negative)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    bad.sort();
    assert_eq!(bad.len(), 3);
    let mut args: Vec<&OsStr> = vec!["split".as_ref(), "--out".as_ref(), dir.as_os_str()];
    args.extend(bad.iter().map(|p| p.as_os_str()));
    let good = cmu();
    args.insert(1, good.as_os_str()); // good slide first: failures after it must not undo it
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 65, "{stdout}\n{stderr}");
    assert!(is_complete(&dir.join("CMU-1-Small-Region.h5")));
    assert_eq!(
        status_of(&stdout, "CMU-1-Small-Region").as_deref(),
        Some("written")
    );
    for path in &bad {
        let name = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            status_of(&stdout, name).as_deref(),
            Some("FAILED"),
            "{stdout}"
        );
        let line = stderr
            .lines()
            .find(|l| l.contains(path.file_name().unwrap().to_str().unwrap()))
            .unwrap_or_else(|| panic!("{name} not named on stderr: {stderr}"));
        assert!(
            line.contains("cannot open") || line.contains("cannot read"),
            "{line}"
        );
        assert!(!dir.join(format!("{name}.h5")).exists());
        let partials = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.starts_with(name) && f.ends_with(".partial"))
            .count();
        assert_eq!(partials, 0, "{name} left a partial file");
        let timing = dir.join(format!("logs/timing/split/{name}/slide.json"));
        let line = std::fs::read_to_string(timing).unwrap();
        assert!(line.contains("\"status\":\"failed\""), "{line}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn two_slides_with_one_name_stop_the_run_before_any_work() {
    let dir = slidescale_testutil::temp_dir("split-dup");
    let other = dir.join("elsewhere");
    std::fs::create_dir_all(&other).unwrap();
    let copy = cmu_as(&other, "CMU-1-Small-Region.tiff");
    let out = dir.join("work");
    let (code, _, stderr) = run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        copy.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("two slides are called \"CMU-1-Small-Region\""),
        "{stderr}"
    );
    assert!(stderr.contains("CMU-1-Small-Region.tiff"), "{stderr}");
    assert!(!out.exists(), "nothing may be written");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sigkill_mid_split_leaves_no_store_under_the_final_name() {
    let dir = slidescale_testutil::temp_dir("split-kill");
    let slide = big_slide(&dir, 8000, 6000);
    let out = dir.join("work");
    let store = out.join("big_8000x6000.h5");
    // deflate on one thread: slow enough to be caught in the middle
    let mut child = slidescale()
        .args([
            "split".as_ref(),
            slide.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .args(["--compression", "deflate", "--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // the writer's own temporary name: NAME.h5.<pid>.partial
    let partial = out.join(format!("big_8000x6000.h5.{}.partial", child.id()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !partial.exists() {
        assert!(Instant::now() < deadline, "no partial file appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "split ended before writing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "split finished before it could be killed; the test proves nothing"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!store.exists(), "a killed split left {}", store.display());
    assert!(partial.exists());

    // the next run starts over and completes
    let (code, stdout, stderr) = run(&[
        "split".as_ref(),
        slide.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(is_complete(&store));
    assert!(!partial.exists(), "the dead writer's partial file is swept");
    std::fs::remove_dir_all(dir).unwrap();
}
