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
