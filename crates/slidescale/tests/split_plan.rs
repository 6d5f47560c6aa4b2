//! `slidescale plan` over several slides: one row per slide with groups,
//! sorted by name, global ids contiguous from 1; a slide without tissue has
//! no row. Names with spaces, quotes and `$(...)` pass through untouched.

mod split_support;

use slidescale_pipeline::plan::LookupTable;
use slidescale_store::Store;
use split_support::{cmu_as, run};

#[test]
fn plan_lists_every_slide_with_global_group_ids() {
    let dir = slidescale_testutil::temp_dir("split-plan");
    let names = ["b b", "a", "c $(touch pwned) 'q'"];
    let mut slides: Vec<_> = names
        .iter()
        .map(|n| cmu_as(&dir, &format!("{n}.svs")))
        .collect();
    slides.push(slidescale_testutil::fixture(
        "slides/openslide-python_small.svs",
    )); // no tissue
    let out = dir.join("work");
    let mut args: Vec<&std::ffi::OsStr> = vec!["split".as_ref()];
    args.extend(slides.iter().map(|p| p.as_os_str()));
    args.extend([
        "--out".as_ref(),
        out.as_os_str(),
        "--group-size".as_ref(),
        "10".as_ref(),
    ]);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    let (code, stdout, stderr) = run(&["plan".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("openslide-python_small: no tissue tile"),
        "{stderr}"
    );

    let groups = Store::open(&out.join("a.h5")).unwrap().info().n_groups;
    assert!(groups >= 5, "CMU in groups of 10: {groups}");
    let g = groups;
    let expected = format!(
        "start\tend\tname\n1\t{g}\ta\n{}\t{}\tb b\n{}\t{}\tc $(touch pwned) 'q'\n",
        g + 1,
        2 * g,
        2 * g + 1,
        3 * g
    );
    let text = std::fs::read_to_string(out.join("lookup.tsv")).unwrap();
    assert_eq!(text, expected);
    assert!(
        stdout.contains(&format!("3 slides, {} groups", 3 * g)),
        "{stdout}"
    );

    let table = LookupTable::read(&out.join("lookup.tsv")).unwrap();
    assert_eq!(table.locate(g + 2), Some(("b b", 2)));
    assert_eq!(table.locate(3 * g), Some(("c $(touch pwned) 'q'", g)));
    assert_eq!(table.locate(3 * g + 1), None);

    // nothing was run by a shell
    assert!(!dir.join("pwned").exists() && !out.join("pwned").exists());
    assert!(!std::path::Path::new("pwned").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn plan_without_stores_is_an_error() {
    let dir = slidescale_testutil::temp_dir("plan-empty");
    let (code, _, stderr) = run(&["plan".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("no slide stores"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}
