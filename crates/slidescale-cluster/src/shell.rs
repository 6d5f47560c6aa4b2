//! Getting arbitrary names into job scripts without a shell ever parsing them.
//!
//! Slide names and paths reach a job in two ways only:
//! * as NUL-separated lists in files next to the script ([`write_nul_list`]),
//!   read back by bash with `read -r -d ''` into arrays, so that no byte of a
//!   name is ever shell syntax;
//! * the one path a script must contain literally (its job directory), as a
//!   single-quoted word from [`shell_quote`].
//!
//! Scheduler directives (`#SBATCH`, `#$`, `#PBS`) are not shell words and
//! have their own syntax, so only values that pass [`directive_safe`] go there.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use slidescale_core::workdir::write_atomic;

/// Characters that need no quoting in a POSIX shell word.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./,:=+@%".contains(c)
}

/// `s` as one POSIX shell word: left alone when it has only plain
/// characters, otherwise inside single quotes, where every byte is literal
/// and the only character needing care is `'` itself (`'\''`). Newlines,
/// `$(...)`, backticks, `"` and `\` are inert inside single quotes.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_plain) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether `s` may appear as a value in a scheduler directive line or as a
/// scheduler option: non-empty, plain ASCII without spaces, quotes, `%`
/// (a SLURM file-name pattern), `:` or `,` (SGE/PBS list separators) or `$`.
pub fn directive_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 1024
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./+".contains(c))
}

/// Write `items` to `path` atomically, each followed by a NUL byte. Items
/// containing NUL cannot come from a path or an argument, and are refused.
pub fn write_nul_list(path: &Path, items: &[OsString]) -> io::Result<()> {
    let mut bytes = Vec::new();
    for item in items {
        let b = item.as_bytes();
        if b.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("argument {item:?} contains a NUL byte"),
            ));
        }
        bytes.extend_from_slice(b);
        bytes.push(0);
    }
    write_atomic(path, &bytes)
}

/// Read a list written by [`write_nul_list`].
pub fn read_nul_list(path: &Path) -> io::Result<Vec<OsString>> {
    use std::os::unix::ffi::OsStringExt;
    let bytes = std::fs::read(path)?;
    let mut items: Vec<OsString> = bytes
        .split(|b| *b == 0)
        .map(|s| OsString::from_vec(s.to_vec()))
        .collect();
    // The piece after the last terminator is empty (or a truncated item).
    items.pop();
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What bash makes of `word`: the list of arguments it expands to.
    fn bash_words(word: &str) -> Vec<String> {
        let script = format!("printf '%s\\0' {word}");
        let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
        assert!(out.status.success(), "{word}");
        String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_string)
            .collect()
    }

    const HOSTILE: &[&str] = &[
        "plain",
        "with space",
        "it's",
        "\"double\"",
        "$(touch /tmp/slidescale-pwned)",
        "`touch /tmp/slidescale-pwned`",
        "new\nline",
        "back\\slash",
        "semi;colon & amp | pipe > gt < lt",
        "*glob?[x]",
        "~tilde",
        "$HOME ${PATH} $1",
        "'",
        "''''",
        "-n",
        "tab\there",
        "ünïcödé",
        "",
    ];

    #[test]
    fn bash_reads_every_hostile_name_back_unchanged_and_runs_nothing() {
        let _ = std::fs::remove_file("/tmp/slidescale-pwned");
        for name in HOSTILE {
            assert_eq!(bash_words(&shell_quote(name)), vec![name.to_string()]);
        }
        assert!(!Path::new("/tmp/slidescale-pwned").exists());
    }

    #[test]
    fn plain_words_stay_readable() {
        assert_eq!(shell_quote("/work/a-b_c.h5"), "/work/a-b_c.h5");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn directive_values_are_restricted() {
        assert!(directive_safe("debug"));
        assert!(directive_safe("/scratch/work/jobs/run-001/logs"));
        for bad in ["", "a b", "a%j", "x:y", "a,b", "$x", "a\nb", "é"] {
            assert!(!directive_safe(bad), "{bad:?}");
        }
    }

    #[test]
    fn nul_lists_round_trip_through_bash() {
        let dir = slidescale_testutil::temp_dir("nul");
        let items: Vec<OsString> = HOSTILE.iter().map(OsString::from).collect();
        let file = dir.join("list.nul");
        write_nul_list(&file, &items).unwrap();
        assert_eq!(read_nul_list(&file).unwrap(), items);
        // The way job scripts read it: into an array, then print each.
        let out = Command::new("bash")
            .arg("-c")
            .arg(r#"A=(); while IFS= read -r -d '' x; do A+=("$x"); done < "$1"; printf '%s\0' "${A[@]}""#)
            .arg("bash")
            .arg(&file)
            .output()
            .unwrap();
        let back: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap()
            .split_terminator('\0')
            .collect();
        assert_eq!(back, HOSTILE);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
