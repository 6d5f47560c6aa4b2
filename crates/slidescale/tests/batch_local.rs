//! `slidescale batch --executor local` with libvips' `vips`: hostile names
//! reach the program as one argument each and run nothing, a failing input
//! fails alone with its exit status, `--resume` reruns exactly it; two
//! levels with a failing and a SIGKILLed part, then `--resume`.

mod batch_support;

use batch_support::*;
use std::fs;

#[test]
fn one_level_hostile_names_a_failure_and_resume() {
    let root = slidescale_testutil::temp_dir("batch-local-1");
    let work = root.join("work");
    let ins = inputs(&root);
    let o = thumbnails(&ins, &work, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    for n in ["a", HOSTILE] {
        assert!(work.join("out").join(format!("{n}.png")).is_file(), "{n}");
    }
    assert!(!work.join("out/broken.png").exists());
    let (rc, _, _) = record(&work, "input/broken").unwrap();
    assert_ne!(rc, 0);
    let st = slidescale(&["status".as_ref(), work.as_os_str()]);
    let s = String::from_utf8_lossy(&st.stdout);
    assert_eq!(st.status.code(), Some(1), "{s}");
    assert!(
        s.contains(&format!("failed: input \"broken\": exit status {rc}")),
        "{s}"
    );
    assert!(s.contains("2 of 3 input(s) complete"), "{s}");
    // Repeating without --resume is refused; with it only "broken" reruns.
    assert_eq!(thumbnails(&ins, &work, &[]).status.code(), Some(65));
    let before = record(&work, "input/a").unwrap();
    fs::copy(&ins[0], &ins[2]).unwrap();
    let o = thumbnails(&ins, &work, &["--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(record(&work, "input/a").unwrap(), before, "a not rerun");
    assert_eq!(record(&work, "input/broken").unwrap().0, 0);
    let names: Vec<_> = outputs(&work).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!root.join("PWNED").exists() && !std::path::Path::new("PWNED").exists());
    // report reads the batch's timing lines.
    let r = slidescale(&["report".as_ref(), work.as_os_str()]);
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("input"),
        "{}",
        text(&r)
    );
    fs::remove_dir_all(&root).ok();
}

#[test]
fn two_levels_a_failed_and_a_killed_part_then_resume() {
    let root = slidescale_testutil::temp_dir("batch-local-2");
    let work = root.join("work");
    let ins = inputs(&root)[..2].to_vec();
    let flag = root.join("flag");
    fs::write(&flag, "").unwrap();
    let o = crops(&ins, &work, &flag, false, &["--max-running", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    for n in ["a", HOSTILE] {
        assert_eq!(record(&work, &part_rel(n, 1)).unwrap().0, 0);
        assert_eq!(record(&work, &part_rel(n, 2)).unwrap().0, 3);
        assert_eq!(record(&work, &part_rel(n, 3)).unwrap().0, 128 + 9);
        assert!(
            record(&work, &format!("gather/{n}")).unwrap().0 != 0,
            "gather refuses"
        );
    }
    let st = slidescale(&["status".as_ref(), work.as_os_str()]);
    assert!(String::from_utf8_lossy(&st.stdout).contains("killed by signal 9"));
    let spans: Vec<(f64, f64)> = ["a", HOSTILE]
        .iter()
        .flat_map(|n| (1..=3).map(move |p| part_rel(n, p)))
        .map(|rel| record(&work, &rel).map(|(_, s, e)| (s, e)).unwrap())
        .collect();
    assert!(peak_overlap(&spans) <= 2, "--max-running 2: {spans:?}");
    let kept = record(&work, &part_rel("a", 1)).unwrap();
    fs::remove_file(&flag).unwrap();
    let o = crops(&ins, &work, &flag, false, &["--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        record(&work, &part_rel("a", 1)).unwrap(),
        kept,
        "part 1 not rerun"
    );
    let listing = fs::read_to_string(work.join("out/a.txt")).unwrap();
    assert_eq!(listing, "000001.png\n000002.png\n000003.png\n");
    fs::remove_dir_all(&root).ok();
}

/// `status WORK --json`: the JSON of `status` with per input and part the
/// state, exit status, failure and log.
#[test]
fn status_json_per_input_and_part() {
    let root = slidescale_testutil::temp_dir("batch-local-json");
    let work = root.join("work");
    let ins = inputs(&root)[..1].to_vec();
    let flag = root.join("flag");
    fs::write(&flag, "").unwrap();
    assert_eq!(crops(&ins, &work, &flag, false, &[]).status.code(), Some(1));
    let json = |work: &std::path::Path| {
        let o = slidescale(&["status".as_ref(), work.as_os_str(), "--json".as_ref()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let v = json(&work);
    assert_eq!(v["complete"], false);
    assert!(v["scheduler"].is_null());
    assert_eq!(v["batch"]["program"][0], "sh");
    let a = &v["inputs"][0];
    assert_eq!(
        (a["name"].as_str(), a["complete"].as_bool()),
        (Some("a"), Some(false))
    );
    assert_eq!(a["first"]["state"], "done");
    let parts = &a["parts"];
    assert_eq!(
        [
            &parts["parts"],
            &parts["done"],
            &parts["failed"],
            &parts["missing"]
        ],
        [3, 1, 2, 0]
    );
    let t = &parts["tasks"];
    assert_eq!(
        (t[0]["line"].as_str(), t[0]["rc"].as_i64()),
        (Some("0"), Some(0))
    );
    assert_eq!(t[1]["failure"], "exit status 3");
    assert_eq!(t[2]["failure"], "killed by signal 9");
    assert!(std::path::Path::new(t[1]["log"].as_str().unwrap()).is_file());
    assert_eq!(a["gather"]["state"], "failed");
    assert_eq!(v["total"]["inputs"], 1);
    // A done part whose output is gone counts as missing.
    let out = t[0]["outputs"][0].as_str().unwrap().to_string();
    fs::remove_file(&out).unwrap();
    let v = json(&work);
    assert_eq!(v["inputs"][0]["parts"]["tasks"][0]["state"], "missing");
    assert_eq!(v["total"]["missing"], 1);
    fs::remove_dir_all(&root).ok();
}

/// `status WORK --verify` re-reads each done task's outputs against the
/// size and CRC-32 recorded when it completed.
#[test]
fn status_verify_finds_changed_outputs() {
    let root = slidescale_testutil::temp_dir("batch-local-verify");
    let work = root.join("work");
    let ins = inputs(&root)[..2].to_vec();
    assert!(thumbnails(&ins, &work, &[]).status.success());
    let verify = || slidescale(&["status".as_ref(), work.as_os_str(), "--verify".as_ref()]);
    let o = verify();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("verify: 2 output file(s)") && text(&o).contains("no damage"),
        "{}",
        text(&o)
    );
    // The same size with one byte changed, and one file grown.
    let a = work.join("out/a.png");
    let mut bytes = fs::read(&a).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    fs::write(&a, &bytes).unwrap();
    let h = work.join("out").join(format!("{HOSTILE}.png"));
    let mut grown = fs::read(&h).unwrap();
    let len = grown.len();
    grown.extend_from_slice(b"x");
    fs::write(&h, &grown).unwrap();
    let o = verify();
    let s = text(&o);
    assert_eq!(o.status.code(), Some(65), "{s}");
    assert!(
        s.contains(&format!("damaged: input \"a\": {}: CRC-32", a.display())),
        "{s}"
    );
    assert!(
        s.contains(&format!("{} bytes, recorded {len}", len + 1)),
        "{s}"
    );
    assert!(s.contains("2 damaged"), "{s}");
    fs::remove_dir_all(&root).ok();
}
