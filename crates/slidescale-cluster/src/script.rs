//! The bash of the generated job scripts.
//!
//! Every script of a run sources the run's `lib.sh` and reads what it needs
//! from NUL-separated files in the run's job directory: the slidescale
//! binary, the work directory and the submitting shell's directory and
//! environment (`run.nul`, `env.nul`), the slides or stores (`slides-N.nul`,
//! `stores.nul`). What a task computes with is the run's typed job spec
//! (`spec.json`), which `slidescale task` reads itself: no option is ever
//! rebuilt as shell words. The only literal in a script is the job
//! directory, single-quoted; slide names never appear in a script at all.

use crate::shell::shell_quote;

/// `lib.sh`: helpers shared by the scripts of a run.
pub const LIB_SH: &str = r#"# slidescale job library: sourced by every job script of this run.
# Reads names only from NUL-separated files, so no name is ever shell syntax.

# ss_nth FILE N: the N-th (1-based) NUL-terminated item of FILE into SS_ITEM.
ss_nth() {
  local i=0 item
  while IFS= read -r -d '' item; do
    i=$((i + 1))
    if [ "$i" -eq "$2" ]; then SS_ITEM=$item; return 0; fi
  done < "$1"
  echo "slidescale job: no item $2 in $1" >&2
  return 1
}

# ss_line FILE N: the N-th line of FILE into SS_ITEM.
ss_line() {
  local i=0 line
  while IFS= read -r line || [ -n "$line" ]; do
    i=$((i + 1))
    if [ "$i" -eq "$2" ]; then SS_ITEM=$line; return 0; fi
  done < "$1"
  echo "slidescale job: no line $2 in $1" >&2
  return 1
}

# ss_finish RC: record this task's exit status where `slidescale status`
# finds it, then exit with it. 99 and 100 mean "requeue" and "error state"
# to SGE, so they leave as 1.
ss_finish() {
  local rc=$1 dir="$SS_JOBDIR/exit/$SS_KEY"
  mkdir -p "$dir"
  printf '%s %s %s %s\n' "$rc" "$SS_START" "$(date +%s.%N)" "$(hostname)" > "$dir/.$SS_TASK.$$" \
    && mv -f "$dir/.$SS_TASK.$$" "$dir/$SS_TASK"
  case $rc in 99|100) rc=1 ;; esac
  exit "$rc"
}

# ss_begin: log to this task's own file, load the run's settings, go to the
# directory `slidescale run` was started in (relative paths stay valid),
# restore its environment (SGE starts jobs with a minimal one).
ss_begin() {
  SS_START=$(date +%s.%N)
  mkdir -p "$SS_JOBDIR/logs"
  exec >> "$SS_JOBDIR/logs/$SS_KEY.$SS_TASK.log" 2>&1
  echo "[slidescale] $SS_KEY task $SS_TASK on $(hostname), $(date)"
  ss_nth "$SS_JOBDIR/run.nul" 1 || ss_finish 1; SS_BIN=$SS_ITEM
  ss_nth "$SS_JOBDIR/run.nul" 2 || ss_finish 1; SS_WORK=$SS_ITEM
  ss_nth "$SS_JOBDIR/run.nul" 3 || ss_finish 1; SS_CWD=$SS_ITEM
  cd "$SS_CWD" || ss_finish 75
  local name value
  while IFS= read -r -d '' name && IFS= read -r -d '' value; do
    export "$name=$value"
  done < "$SS_JOBDIR/env.nul"
}
"#;

/// Lines every script starts its body with.
fn prelude(job_dir: &str, key: &str) -> String {
    format!(
        "set -u\nSS_JOBDIR={}\nSS_KEY={key}\n. \"$SS_JOBDIR/lib.sh\" || exit 1\nss_begin\n",
        shell_quote(job_dir)
    )
}

/// Split array: task i splits the i-th slide of `slides_file` (relative to
/// the job directory).
/// `verb` is the `slidescale task` stage (`split` for `run`, `input` for
/// `batch`); every body below takes its verb the same way.
pub fn split_body(job_dir: &str, key: &str, slides_file: &str, verb: &str) -> String {
    format!(
        "{}ss_nth \"$SS_JOBDIR/{slides_file}\" \"$SS_TASK\" || ss_finish 1\nSS_SLIDE=$SS_ITEM\n\
\"$SS_BIN\" task \"$SS_JOBDIR/spec.json\" {verb} \"$SS_SLIDE\"\n\
ss_finish $?\n",
        prelude(job_dir, key)
    )
}

/// Master job: the look-up table (`run` only: `plan`), then one process
/// array per slide (per chunk) and one stitch job per slide, submitted from
/// inside the cluster.
pub fn master_body(job_dir: &str, key: &str, plan: bool) -> String {
    let plan = if plan {
        "\"$SS_BIN\" plan \"$SS_WORK\" || ss_finish $?\n"
    } else {
        ""
    };
    format!(
        "{}{plan}\"$SS_BIN\" submit-groups \"$SS_JOBDIR\"\n\
ss_finish $?\n",
        prelude(job_dir, key)
    )
}

/// Process array: task i scores the group on line i of `groups_file` of the
/// store at position `store` of `stores.nul`.
pub fn process_body(
    job_dir: &str,
    key: &str,
    store: usize,
    groups_file: &str,
    verb: &str,
) -> String {
    format!(
        "{}ss_nth \"$SS_JOBDIR/stores.nul\" {store} || ss_finish 1\nSS_STORE=$SS_ITEM\n\
ss_line \"$SS_JOBDIR/{groups_file}\" \"$SS_TASK\" || ss_finish 1\nSS_GROUP=$SS_ITEM\n\
\"$SS_BIN\" task \"$SS_JOBDIR/spec.json\" {verb} \"$SS_STORE\" \"$SS_GROUP\"\n\
ss_finish $?\n",
        prelude(job_dir, key)
    )
}

/// Stitch job of the store at position `store` of `stores.nul`. It runs
/// after its arrays whatever their outcome; `stitch` itself refuses (and
/// names the missing groups) when a result is missing.
pub fn stitch_body(job_dir: &str, key: &str, store: usize, verb: &str) -> String {
    format!(
        "{}ss_nth \"$SS_JOBDIR/stores.nul\" {store} || ss_finish 1\nSS_STORE=$SS_ITEM\n\
\"$SS_BIN\" task \"$SS_JOBDIR/spec.json\" {verb} \"$SS_STORE\"\n\
ss_finish $?\n",
        prelude(job_dir, key)
    )
}
