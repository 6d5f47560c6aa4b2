//! Test-only helpers shared by the crates' integration tests: where the
//! repository's fixtures are, where the team's shared data is, and how to run
//! the reference Python (the `.venv` made by `scripts/setup.sh`).
//!
//! Nothing here skips a test: a missing fixture or interpreter is a panic that
//! names what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("Cargo.toml").exists() && p.join("crates").is_dir())
        .expect("workspace root above slidescale-testutil")
        .to_path_buf()
}

/// A file under the repository's `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    let p = repo_root().join("fixtures").join(rel);
    assert!(p.exists(), "missing fixture {}", p.display());
    p
}

/// A file under the team's shared data (`../shared/` beside the checkout, or
/// `$SLIDESCALE_SHARED`). Tests may read it; the tool never needs it.
pub fn shared(rel: &str) -> PathBuf {
    let base = std::env::var_os("SLIDESCALE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"));
    let p = base.join(rel);
    assert!(
        p.exists(),
        "missing shared data {} (set SLIDESCALE_SHARED to the shared folder)",
        p.display()
    );
    p
}

/// The reference Python interpreter: `$SLIDESCALE_PYTHON`, else the
/// repository's `.venv` (run `scripts/setup.sh` to create it).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SLIDESCALE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no reference Python at {}: run scripts/setup.sh",
        venv.display()
    );
    venv
}

/// Run a Python snippet with arguments; panic with its stderr on failure and
/// return its stdout. With `SLIDESCALE_OPENSLIDE` set, openslide-python in
/// the snippet loads that library, as slidescale does (see
/// `python/openslide_bin/__init__.py`).
pub fn run_python(code: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(python());
    if std::env::var_os("SLIDESCALE_OPENSLIDE").is_some_and(|v| !v.is_empty()) {
        let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("python");
        let mut paths = vec![shim];
        paths.extend(
            std::env::var_os("PYTHONPATH")
                .iter()
                .flat_map(std::env::split_paths),
        );
        cmd.env("PYTHONPATH", std::env::join_paths(paths).unwrap());
    }
    let out = cmd
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("start python");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 from python")
}

/// A fresh empty directory under the system temp dir, unique to this test.
pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "slidescale-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Flip bit `bit` (0–7) of byte `byte` of `path` in place, keeping the
/// file's modification time, as bit rot would.
pub fn flip_bit(path: &Path, byte: u64, bit: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let kept = std::fs::metadata(path).unwrap().modified().unwrap();
    let mut f = std::fs::File::options()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.seek(SeekFrom::Start(byte)).unwrap();
    f.read_exact(&mut b).unwrap();
    b[0] ^= 1 << bit;
    f.seek(SeekFrom::Start(byte)).unwrap();
    f.write_all(&b).unwrap();
    f.set_modified(kept).unwrap();
}

/// splitmix64: a small seeded generator for reproducible test inputs.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, 1) on a grid of `levels` values: few levels, many
    /// ties; dyadic when `levels` is a power of two.
    pub fn grid(&mut self, levels: u64) -> f64 {
        (self.next() % levels) as f64 / levels as f64
    }
}

/// Most time spans `[start, end)` holding at one instant: how many tasks
/// ran at once, from their own records.
pub fn peak_overlap(spans: &[(f64, f64)]) -> usize {
    spans
        .iter()
        .map(|(s, _)| spans.iter().filter(|(a, b)| a <= s && s < b).count())
        .max()
        .unwrap_or(0)
}
