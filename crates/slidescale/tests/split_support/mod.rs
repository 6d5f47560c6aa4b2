//! Shared by the `split_*` CLI tests: running the binary and making slides.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn slidescale() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slidescale"))
}

/// Run `slidescale ARGS…`; returns (exit status, stdout, stderr).
pub fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = slidescale().args(args).output().expect("start slidescale");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

pub fn cmu() -> PathBuf {
    slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs")
}

/// A copy of the CMU slide under another file name.
pub fn cmu_as(dir: &Path, file_name: &str) -> PathBuf {
    let p = dir.join(file_name);
    std::fs::copy(cmu(), &p).unwrap();
    p
}

/// A large pyramidal tiled-JPEG slide made from CMU's real H&E with the
/// team's benchmark script (libvips), `width`×`height`.
pub fn big_slide(dir: &Path, width: u32, height: u32) -> PathBuf {
    let out = dir.join(format!("big_{width}x{height}.tif"));
    let script = slidescale_testutil::shared("bench/make_bench_slide.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg(cmu())
        .arg(&out)
        .arg(width.to_string())
        .arg(height.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run make_bench_slide.sh (needs libvips-tools: scripts/setup.sh)");
    assert!(status.success(), "make_bench_slide.sh failed");
    out
}

/// The status column (written, skipped, FAILED) of a slide's row in the
/// summary table.
pub fn status_of(stdout: &str, name: &str) -> Option<String> {
    stdout.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        if !rest.starts_with(' ') {
            return None;
        }
        let first = rest.split_whitespace().next()?;
        ["written", "skipped", "FAILED"]
            .contains(&first)
            .then(|| first.to_string())
    })
}
