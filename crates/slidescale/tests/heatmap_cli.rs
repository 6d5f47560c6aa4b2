//! Issue 3, requirements 4–6 through the command line: `process` (skip when
//! done, exit 65 on a bad group, recompute an invalid result), `stitch`
//! (refuses an incomplete slide, naming the groups), `run --resume`
//! (recomputes only what is missing or invalid, refuses other settings) and
//! `status` (done, missing, failed with the error, windows scored).

mod heatmap_support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use heatmap_support::*;

const GROUP_SIZE: &str = "20";

/// Split CMU into groups of 20 tiles; returns the store.
fn split_cmu(work: &Path) -> PathBuf {
    run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        "--out".as_ref(),
        work.as_os_str(),
        "--group-size".as_ref(),
        GROUP_SIZE.as_ref(),
    ])
    .ok();
    work.join(format!("{CMU}.h5"))
}

fn n_groups(store: &Path) -> u32 {
    slidescale_store::Store::open(store)
        .unwrap()
        .info()
        .n_groups
}

fn process(store: &Path, group: &str, stride: &str, extra: &[&str]) -> Ran {
    let model = smallcnn();
    let mut args: Vec<&OsStr> = vec![
        "process".as_ref(),
        store.as_os_str(),
        "--group".as_ref(),
        group.as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        stride.as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// The `status` field of the timing line `process` prints.
fn task_status(ran: &Ran) -> String {
    let line = ran.stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("no timing line ({e}): {}", ran.stdout));
    v["status"].as_str().unwrap_or_default().to_string()
}

/// Cut the last 4 bytes off a file: a result a crash could never leave
/// (results are renamed into place) but a disk or a person could.
fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() - 4]).unwrap();
}

#[test]
fn process_skips_done_groups_rejects_bad_ones_and_recomputes_invalid_results() {
    let work = slidescale_testutil::temp_dir("cli-process");
    let store = split_cmu(&work);
    let groups = n_groups(&store);
    assert!(groups >= 2);

    let first = process(&store, "1", "224", &[]).ok();
    assert_eq!(task_status(&first), "ok");
    let result = result_path(&work, CMU, 1);
    let original = std::fs::read(&result).unwrap();

    let again = process(&store, "1", "224", &[]).ok();
    assert_eq!(task_status(&again), "skipped", "{}", again.stdout);

    for bad in [(groups + 1).to_string(), "0".to_string()] {
        let r = process(&store, &bad, "224", &[]);
        assert_eq!(r.code, 65, "group {bad}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&bad) && r.stderr.contains(&format!("{CMU}.h5")),
            "the error names the group and the store: {}",
            r.stderr
        );
    }

    truncate(&result);
    let redo = process(&store, "1", "224", &[]).ok();
    assert_eq!(task_status(&redo), "ok", "an invalid result is recomputed");
    assert_eq!(std::fs::read(&result).unwrap(), original);

    // Another stride in the same work directory would mix settings.
    let other = process(&store, "2", "112", &[]);
    assert_eq!(other.code, 65, "{}", other.stderr);
    assert!(
        other.stderr.contains("stride (recorded 224, now 112)"),
        "{}",
        other.stderr
    );
    assert!(!result_path(&work, CMU, 2).exists());
    std::fs::remove_dir_all(&work).ok();
}

#[test]
fn stitch_refuses_an_incomplete_slide_and_names_the_groups() {
    let work = slidescale_testutil::temp_dir("cli-stitch");
    let store = split_cmu(&work);
    let groups = n_groups(&store);
    assert!(groups >= 3);
    for k in (1..=groups).filter(|&k| k != 2) {
        process(&store, &k.to_string(), "224", &[]).ok();
    }
    let stitch = || run(&["stitch".as_ref(), store.as_os_str()]);

    let r = stitch();
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("1 of 3") && r.stderr.contains("2 (missing)"));
    assert!(!work.join("heatmaps").join(format!("{CMU}.npy")).exists());

    truncate(&result_path(&work, CMU, 3));
    let r = stitch();
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("2 of 3") && r.stderr.contains("2 (missing)") && r.stderr.contains("3 ("),
        "{}",
        r.stderr
    );

    process(&store, "2", "224", &[]).ok();
    process(&store, "3", "224", &[]).ok();
    let r = stitch().ok();
    assert!(r.stdout.contains("heatmap of"), "{}", r.stdout);
    compare(Source::Store, &work, CMU, &smallcnn(), 224).assert_matches("stitch after process");
    assert_sidecar_describes_the_heatmap(&work.join("heatmaps").join(format!("{CMU}.npy")));
    std::fs::remove_dir_all(&work).ok();
}

/// The heatmap's sidecar, read by Python, gives its shape and CRC-32 (as
/// NumPy and zlib compute them), the stride, the slide's size and MPP (as
/// OpenSlide reads them) and the model; `read_heatmap` pairs the two.
fn assert_sidecar_describes_the_heatmap(npy: &Path) {
    let out = slidescale_testutil::run_python(
        "import json, sys, zlib, numpy as np, openslide\n\
         m = json.load(open(sys.argv[1][:-4] + '.json'))\n\
         a = np.load(sys.argv[1])\n\
         s = openslide.OpenSlide(m['source_path'])\n\
         ok = [list(a.shape) == m['shape'], zlib.crc32(a.tobytes()) == m['npy_crc32'],\n\
               list(s.dimensions) == [m['level0_width'], m['level0_height']],\n\
               abs(float(s.properties['openslide.mpp-x']) - m['mpp_x']) < 1e-9,\n\
               m['pixel_size'] == m['stride'], m['tile'] == 224]\n\
         print(ok, m['stride'], m['model']['file'], m['scoring']['stain_method'])",
        &[npy.to_str().unwrap()],
    );
    assert_eq!(
        out.trim(),
        "[True, True, True, True, True, True] 224 smallcnn.onnx none"
    );
    let (meta, values) = slidescale_heatmap::read_heatmap(npy, None).unwrap();
    assert_eq!(values.len() as u64, meta.shape[0] * meta.shape[1]);
}

/// The row of `name` in `status`'s table: groups, done, missing, failed, windows.
fn status_row(stdout: &str, name: &str) -> Vec<u64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no row {name}: {stdout}"));
    line[name.len()..]
        .split_whitespace()
        .take(5)
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn run_resume_recomputes_only_invalid_results_and_refuses_other_settings() {
    let work = slidescale_testutil::temp_dir("cli-resume");
    let slide = cmu();
    let model = smallcnn();
    let extra = ["--group-size", GROUP_SIZE];
    run_ok(&[&slide], &model, 224, &work, &extra);
    let heatmap = work.join("heatmaps").join(format!("{CMU}.npy"));
    let before = std::fs::read(&heatmap).unwrap();
    let kept = std::fs::metadata(result_path(&work, CMU, 1))
        .unwrap()
        .modified()
        .unwrap();

    truncate(&result_path(&work, CMU, 2));
    let status = run(&["status".as_ref(), work.as_os_str()]);
    assert_eq!(status.code, 1, "incomplete: {}", status.stdout);
    let row = status_row(&status.stdout, CMU);
    assert_eq!(&row[..4], &[3, 2, 1, 0], "groups, done, missing, failed");

    // Without --resume a started work directory is refused.
    let r = run(&[
        "run".as_ref(),
        slide.as_os_str(),
        "--model".as_ref(),
        model.as_os_str(),
        "--out".as_ref(),
        work.as_os_str(),
    ]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("--resume"), "{}", r.stderr);

    // --resume with settings that change scores is refused.
    let googlenet = googlenet();
    for (m, stride, says) in [
        (&model, "112", "stride (recorded 224, now 112)"),
        (&googlenet, "224", "model.bytes (recorded "),
    ] {
        let r = run(&[
            "run".as_ref(),
            slide.as_os_str(),
            "--model".as_ref(),
            m.as_os_str(),
            "--stride".as_ref(),
            stride.as_ref(),
            "--out".as_ref(),
            work.as_os_str(),
            "--resume".as_ref(),
            "--group-size".as_ref(),
            GROUP_SIZE.as_ref(),
        ]);
        assert_eq!(r.code, 65, "{}", r.stderr);
        assert!(r.stderr.contains(says), "{}", r.stderr);
    }

    let r = run_ok(
        &[&slide],
        &model,
        224,
        &work,
        &["--resume", "--group-size", GROUP_SIZE],
    );
    assert!(
        r.stdout
            .contains("1 groups scored (2 already done, 0 failed)"),
        "{}",
        r.stdout
    );
    let modified = std::fs::metadata(result_path(&work, CMU, 1))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(modified, kept, "a valid result is not recomputed");
    assert_eq!(std::fs::read(&heatmap).unwrap(), before);
    let status = run(&["status".as_ref(), work.as_os_str()]);
    assert_eq!(status.code, 0, "{}", status.stdout);
    std::fs::remove_dir_all(&work).ok();
}

/// Overwrite the start of the stored (blosc-compressed) chunk of tile 0 of
/// group `k` with garbage: the group can no longer be read, the others can.
fn corrupt_group(store: &Path, k: u32) {
    slidescale_testutil::run_python(
        "import sys, h5py\n\
         f = h5py.File(sys.argv[1], 'r')\n\
         info = f[f'groups/{int(sys.argv[2]):06d}/tiles'].id.get_chunk_info(0)\n\
         f.close()\n\
         with open(sys.argv[1], 'r+b') as out:\n\
         \x20   out.seek(info.byte_offset)\n\
         \x20   out.write(b'\\xff' * 64)\n",
        &[store.to_str().unwrap(), &k.to_string()],
    );
}

#[test]
fn status_shows_failed_groups_with_their_error_and_windows_scored() {
    let work = slidescale_testutil::temp_dir("cli-status");
    let slide = cmu();
    let model = smallcnn();
    run_ok(&[&slide], &model, 32, &work, &["--group-size", GROUP_SIZE]);
    let store = work.join(format!("{CMU}.h5"));
    std::fs::remove_file(result_path(&work, CMU, 2)).unwrap();
    std::fs::remove_file(work.join("heatmaps").join(format!("{CMU}.npy"))).unwrap();
    corrupt_group(&store, 2);

    let mut args: Vec<&OsStr> = vec!["run".as_ref(), slide.as_os_str()];
    args.extend::<[&OsStr; 6]>([
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        "32".as_ref(),
        "--out".as_ref(),
        work.as_os_str(),
    ]);
    args.extend::<[&OsStr; 3]>([
        "--resume".as_ref(),
        "--group-size".as_ref(),
        GROUP_SIZE.as_ref(),
    ]);
    let r = run(&args);
    assert_eq!(r.code, 65, "a failed group fails the run: {}", r.stderr);
    assert!(r.stderr.contains(&format!("{CMU} group 2")), "{}", r.stderr);

    let status = run(&["status".as_ref(), work.as_os_str()]);
    assert_eq!(status.code, 1, "{}", status.stdout);
    let row = status_row(&status.stdout, CMU);
    let tiles = slidescale_store::Store::open(&store)
        .unwrap()
        .info()
        .clone();
    let windows_done = (tiles.group_len(1) + tiles.group_len(3)) * 49;
    assert_eq!(row, vec![3, 2, 1, 1, windows_done], "{}", status.stdout);
    let failed = status
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("failed: {CMU} group 2: ")))
        .unwrap_or_else(|| panic!("no failed line: {}", status.stdout));
    assert!(failed.len() > format!("failed: {CMU} group 2: ").len() + 10);
    assert!(status.stdout.contains("stride 32"), "{}", status.stdout);
    std::fs::remove_dir_all(&work).ok();
}

/// CMU's H&E as a tiled-JPEG TIFF at `out`, flipped upside down or not
/// (libvips, as `../shared/bench/make_bench_slide.sh` uses).
fn vips_slide(out: &Path, flip: bool) {
    let target = format!(
        "{}[tile,compression=jpeg,Q=90,tile-width=256,tile-height=256]",
        out.display()
    );
    let mut cmd = std::process::Command::new("vips");
    if flip {
        cmd.arg("flip").arg(cmu()).arg(&target).arg("vertical");
    } else {
        cmd.arg("copy").arg(cmu()).arg(&target);
    }
    let status = cmd
        .status()
        .expect("run vips (libvips-tools: scripts/setup.sh)");
    assert!(status.success(), "vips failed");
}

#[test]
fn results_of_a_slide_that_changed_are_not_reused() {
    let dir = slidescale_testutil::temp_dir("cli-changed");
    let slide = dir.join("s.tif");
    let model = smallcnn();
    let extra = ["--group-size", "8"];
    vips_slide(&slide, false);
    run_ok(&[&slide], &model, 224, &dir.join("work"), &extra);

    // The file is replaced by another image; its store is split again and
    // every group scored again, though most groups keep their tile counts.
    std::thread::sleep(std::time::Duration::from_millis(20));
    vips_slide(&slide, true);
    let resume = ["--group-size", "8", "--resume"];
    let r = run_ok(&[&slide], &model, 224, &dir.join("work"), &resume);
    assert!(r.stdout.contains("(0 already done"), "{}", r.stdout);
    run_ok(&[&slide], &model, 224, &dir.join("fresh"), &extra);
    let heatmap = |w: &str| std::fs::read(dir.join(w).join("heatmaps").join("s.npy")).unwrap();
    assert!(
        heatmap("work") == heatmap("fresh"),
        "stale scores in the heatmap"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_second_run_in_the_same_work_directory_is_refused_while_one_runs() {
    let work = slidescale_testutil::temp_dir("cli-lock");
    let (slide, model) = (cmu(), smallcnn());
    let mut first = slidescale()
        .arg("run")
        .arg(&slide)
        .arg("--model")
        .arg(&model)
        .args(["--stride", "8", "--out"])
        .arg(&work)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // run.json is written after the lock is taken.
    while !work.join("run.json").exists() {
        assert!(first.try_wait().unwrap().is_none(), "first run ended early");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut args: Vec<&OsStr> = vec!["run".as_ref(), slide.as_os_str()];
    args.extend::<[&OsStr; 7]>([
        "--model".as_ref(),
        model.as_os_str(),
        "--stride".as_ref(),
        "8".as_ref(),
        "--out".as_ref(),
        work.as_os_str(),
        "--resume".as_ref(),
    ]);
    let second = run(&args);
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        still_running,
        "the first run finished before the second started"
    );
    assert_eq!(second.code, 65, "{}", second.stderr);
    assert!(
        second.stderr.contains("another slidescale run is using"),
        "{}",
        second.stderr
    );
    std::fs::remove_dir_all(&work).ok();
}
