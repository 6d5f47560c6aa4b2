//! The batch scenario every executor goes through: libvips' `vips` on real
//! copies of CMU-1-Small-Region (one under a hostile name) and a broken
//! input; one level (a thumbnail per input), then two levels (parts listed
//! by `printf`, one `vips crop` per part through `sh -c` with the values as
//! positional arguments, a gather), with one part that exits 3 and one that
//! SIGKILLs itself while a flag file exists; then `--resume`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const HOSTILE: &str = "it's a \"$(touch PWNED)\" `touch PWNED` ; & *";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_slidescale"))
}

pub fn slidescale(args: &[&OsStr]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("start slidescale")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}\n{}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `inputs/`: `a.svs`, `HOSTILE.svs` (real slides) and `broken.svs`.
pub fn inputs(root: &Path) -> Vec<PathBuf> {
    let dir = root.join("inputs");
    fs::create_dir_all(&dir).unwrap();
    let cmu = slidescale_testutil::fixture("slides/CMU-1-Small-Region.svs");
    let a = dir.join("a.svs");
    let h = dir.join(format!("{HOSTILE}.svs"));
    fs::copy(&cmu, &a).unwrap();
    fs::copy(&cmu, &h).unwrap();
    let broken = dir.join("broken.svs");
    fs::write(&broken, "not a slide").unwrap();
    vec![a, h, broken]
}

/// `batch INPUTS --out WORK [extra] -- vips thumbnail {input} {output}.png 64`.
pub fn thumbnails(inputs: &[PathBuf], work: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("batch")];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend([OsStr::new("--out"), work.as_os_str()]);
    args.extend(extra.iter().map(OsStr::new));
    args.extend(["--", "vips", "thumbnail", "{input}", "{output}.png", "64"].map(OsStr::new));
    slidescale(&args)
}

/// Two levels: parts `0`, `64`, `128`; part 64 exits 3 and part 128 is
/// SIGKILLed while `flag` exists — the program itself, or (`kill_task`) the
/// whole task, its `slidescale task` parent, as a scheduler killing a job
/// would; the gather lists the part outputs.
pub fn crops(
    inputs: &[PathBuf],
    work: &Path,
    flag: &Path,
    kill_task: bool,
    extra: &[&str],
) -> Output {
    let victim = if kill_task { "0" } else { "$$" };
    let script = format!(
        "sleep 0.3; if [ -e \"$4\" ]; then \
        [ \"$1\" = 64 ] && exit 3; [ \"$1\" = 128 ] && kill -9 {victim}; fi; \
        exec vips crop \"$2\" \"$3.png\" \"$1\" 0 64 64"
    );
    let script = script.as_str();
    let mut args: Vec<&OsStr> = vec![OsStr::new("batch")];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend([OsStr::new("--out"), work.as_os_str()]);
    args.extend(["--parts", "printf '0\\n64\\n128\\n'"].map(OsStr::new));
    args.extend(
        [
            "--gather",
            "sh -c 'ls \"$1\" > \"$2.txt\"' gather {parts} {output}",
        ]
        .map(OsStr::new),
    );
    args.extend(extra.iter().map(OsStr::new));
    args.extend(
        [
            "--", "sh", "-c", script, "part", "{part}", "{input}", "{output}",
        ]
        .map(OsStr::new),
    );
    args.push(flag.as_os_str());
    slidescale(&args)
}

/// Every file under `WORK/out` (relative path, bytes), temporaries excluded.
pub fn outputs(work: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().unwrap() == ".partial" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(&work.join("out"), &work.join("out"), &mut out);
    out.sort();
    out
}

/// The batch record of a task: (rc, start, end).
pub fn record(work: &Path, rel: &str) -> Option<(i64, f64, f64)> {
    let text = fs::read_to_string(work.join("batch/records").join(format!("{rel}.json"))).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    Some((
        v["rc"].as_i64().unwrap(),
        v["start"].as_f64().unwrap(),
        v["end"].as_f64().unwrap(),
    ))
}

pub use slidescale_testutil::peak_overlap;

pub fn part_rel(name: &str, part: u32) -> String {
    format!(
        "part/{name}/{}",
        slidescale_core::workdir::group_label(part)
    )
}
