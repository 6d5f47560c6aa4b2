//! Which OpenSlide library the binary loads, seen from `slidescale
//! --version` under different environments: slidescale's install location
//! (the openslide-bin wheel's 4.x) by default, the system's 3.4.1 when the
//! install location is empty, `$SLIDESCALE_OPENSLIDE` over the install
//! location, `--openslide` over both; versions checked against
//! `openslide_get_version` called on the same file from Python (ctypes). A
//! library that is missing, or is not OpenSlide, fails a split with one line
//! naming it.

mod split_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use split_support::{cmu, slidescale};

/// `slidescale ARGS --version`'s OpenSlide line with `SLIDESCALE_HOME` =
/// `home` and `SLIDESCALE_OPENSLIDE` = `env` (unset when `None`).
fn openslide_line(home: &Path, env: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = slidescale();
    cmd.env("SLIDESCALE_HOME", home)
        .env_remove("SLIDESCALE_OPENSLIDE")
        .args(args)
        .arg("--version");
    if let Some(p) = env {
        cmd.env("SLIDESCALE_OPENSLIDE", p);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("slidescale "), "{text}");
    text.lines()
        .find(|l| l.starts_with("OpenSlide"))
        .unwrap_or_else(|| panic!("no OpenSlide line: {text}"))
        .to_string()
}

/// `openslide_get_version()` of the library file `lib`, from Python.
fn version_of(lib: &Path) -> String {
    slidescale_testutil::run_python(
        "import sys, ctypes\n\
         f = ctypes.CDLL(sys.argv[1]).openslide_get_version\n\
         f.restype = ctypes.c_char_p\n\
         print(f().decode())",
        &[lib.to_str().unwrap()],
    )
    .trim()
    .to_string()
}

/// The wheel's library as `scripts/setup.sh` installs it.
fn installed_wheel_lib() -> PathBuf {
    let lib = slidescale_core::install::install_dir()
        .unwrap()
        .join("libopenslide.so.1");
    assert!(
        lib.is_file(),
        "OpenSlide 4 is not installed at {}: run scripts/setup.sh",
        lib.display()
    );
    lib
}

#[test]
fn search_order_flag_then_env_then_install_location_then_system() {
    let wheel = installed_wheel_lib();
    let dir = slidescale_testutil::temp_dir("openslide-lib");
    let empty_home = dir.join("empty");
    let home = dir.join("home");
    std::fs::create_dir_all(home.join("lib")).unwrap();
    std::fs::create_dir_all(&empty_home).unwrap();
    let installed = home.join("lib/libopenslide.so.1");
    std::fs::copy(&wheel, &installed).unwrap();
    let v4 = version_of(&wheel);
    assert!(v4.starts_with("4."), "the wheel's library is {v4}");

    // nothing installed: the system library, through the dynamic linker
    let line = openslide_line(&empty_home, None, &[]);
    let (version, rest) = line
        .strip_prefix("OpenSlide ")
        .and_then(|l| l.split_once(" (system: "))
        .unwrap_or_else(|| panic!("not the system library: {line}"));
    let system = PathBuf::from(rest.strip_suffix(')').unwrap());
    assert!(system.is_absolute(), "{line}");
    assert_eq!(version, version_of(&system));
    assert!(
        version.starts_with("3.4"),
        "Debian's OpenSlide is 3.4: {line}"
    );

    // the default, with the install location filled: the wheel's
    assert_eq!(
        openslide_line(&home, None, &[]),
        format!(
            "OpenSlide {v4} (slidescale install location: {})",
            installed.display()
        )
    );
    // the environment variable over the install location
    assert_eq!(
        openslide_line(&home, Some(&system), &[]),
        format!(
            "OpenSlide {version} (SLIDESCALE_OPENSLIDE: {})",
            system.display()
        )
    );
    // the flag over the environment variable
    assert_eq!(
        openslide_line(
            &home,
            Some(&system),
            &["--openslide", wheel.to_str().unwrap()]
        ),
        format!("OpenSlide {v4} (--openslide: {})", wheel.display())
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_missing_or_foreign_library_fails_with_one_line_naming_it() {
    let dir = slidescale_testutil::temp_dir("openslide-lib-bad");
    let missing = dir.join("nothing-here.so");
    let foreign = dir.join("libnot-openslide.so");
    std::fs::write(&foreign, b"this is not an ELF shared object").unwrap();
    for (lib, cause) in [
        (&missing, "does not exist (from SLIDESCALE_OPENSLIDE)"),
        (&foreign, "cannot be loaded"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_slidescale"))
            .env("SLIDESCALE_OPENSLIDE", lib)
            .args(["split", "--reader", "openslide", "--out"])
            .arg(dir.join("work"))
            .arg(cmu())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{stderr}");
        let want = format!("OpenSlide library {}: {cause}", lib.display());
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error:") && l.contains(&want))
            .unwrap_or_else(|| panic!("no error line with {want:?}: {stderr}"));
        assert!(
            line.contains("CMU-1-Small-Region"),
            "slide not named: {line}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
