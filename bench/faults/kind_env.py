"""Faults from the machine and from other people, not from the data:

* diskfull: (root only) `run` with --out on a tmpfs too small for the run,
  of a random size. It must exit 75 (transient: retry) saying the disk is
  full, and leave no unreadable file under a final name; with the tmpfs
  remounted bigger, `run --resume` must give the reference heatmap.
* race: two slidescale processes on one work directory, the second started
  0–1 s after the first (`split` then `run`, as in the issue; or `run` and
  `run --resume`; or two `split`s). Afterwards every file under a final
  name is readable, and `run --resume` gives the reference heatmap.
* ownership: a work directory that already holds files slidescale did not
  write. After `run` and `run --force`, each of them is byte-identical.
"""

import os
import random
import re
import shutil
import subprocess
import time

from common import final_files, kill_live

DISK_FULL = re.compile(r"no space left|disk (is )?full|ENOSPC|file ?system is full|out of (disk )?space",
                       re.IGNORECASE)
TRANSIENT = 75


# --- diskfull --------------------------------------------------------------

def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)


def umount(path):
    subprocess.run(["umount", str(path)], capture_output=True)


def can_mount(scratch):
    """None when this process may mount a tmpfs, else why not."""
    if os.geteuid() != 0:
        return "not root"
    probe = scratch / "mount-probe"
    r = mount_tmpfs(probe, "1m")
    if r.returncode != 0:
        return f"cannot mount a tmpfs: {r.stderr.strip()}"
    umount(probe)
    os.rmdir(probe)
    return None


def disk_size(t):
    """Too small for the whole run, at random: half the time too small for
    the store (split fails), half the time big enough for the store but not
    for everything after it (results, heatmap, PNG, logs)."""
    store, total = t.ref.store_bytes, t.ref.total_bytes
    if t.rng.random() < 0.5:
        return t.rng.randint(3 << 20, min(20 << 20, store - (64 << 10)))
    return t.rng.randint(store + (16 << 10), total - (8 << 10))


def run_diskfull(t):
    if t.suite.mount_refusal:
        t.skip(t.suite.mount_refusal)
        return
    size = disk_size(t)
    t.note(f"tmpfs of {size / 2**20:.2f} MiB (the run needs {t.ref.total_bytes / 2**20:.2f})")
    mnt = t.dir / "mnt"
    r = mount_tmpfs(mnt, size)
    if r.returncode != 0:
        t.skip(f"mount failed: {r.stderr.strip()}")
        return
    try:
        diskfull_on(t, mnt / "work")
    finally:
        kill_live()  # nothing may hold the tmpfs busy
        if t.problems and t.suite.keep and (mnt / "work").is_dir():
            shutil.copytree(mnt / "work", t.dir / "work-from-tmpfs", symlinks=True, dirs_exist_ok=True)
        umount(mnt)


def diskfull_on(t, work):
    r = t.ss.run(t.ss.run_argv(work))
    if r.rc == 0:
        t.expect(False, "a disk too small for the run to make it fail", "exit 0")
    else:
        t.expect(r.rc == TRANSIENT, f"exit {TRANSIENT} (transient: retry) on a full disk", r.describe())
        t.expect(DISK_FULL.search(r.text) is not None, "a message saying the disk is full",
                 r.describe())
    t.expect_readable(work, "on the full disk")
    subprocess.run(["mount", "-o", "remount,size=1g", str(work.parent)], check=True)
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    t.expect_success(r, "`run --resume` with space again")
    t.expect_readable(work, "after `run --resume` with space again")
    t.expect_reference_heatmap(work, "after `run --resume` with space again")


# --- race ------------------------------------------------------------------

# How a clean refusal of a busy work directory or store reads.
HELD = re.compile(r"another|held by|lock", re.IGNORECASE)
RACES = (("split", "run"), ("split", "run"), ("split", "run"), ("run", "resume"), ("split", "split"))


def race_argv(t, what, work, slow=False):
    if what == "split":
        # One thread makes the small slide's split last long enough for the
        # second process to meet it mid-write more often.
        return t.ss.split_argv(work) + (["--jobs", "1"] if slow else [])
    return t.ss.run_argv(work, extra=["--resume"] if what == "resume" else [])


def run_race(t):
    first, second = t.rng.choice(RACES)
    # In 0-1 s, more often early: the second must start while the first
    # still writes, and the small slide splits in well under a second.
    delay = t.rng.random() ** 2
    t.note(f"{first} & {second} after {delay:.2f}s")
    work = t.dir / "work"
    slow = t.rng.random() < 0.5
    if slow and first == "split":
        t.note("first split on 1 thread")
    a = t.ss.start(race_argv(t, first, work, slow))
    wait_until(a, delay)
    b = t.ss.start(race_argv(t, second, work))
    ra = a.wait()
    if b.proc.poll() is None:
        # A file under a final name is whole at every moment, not only at the end.
        t.note("checked while the second ran")
        t.expect_readable(work, f"when the first {first} had ended and the {second} still ran")
    rb = b.wait()
    for what, r in ((first, ra), (second, rb)):
        refused = r.rc is not None and r.rc > 0 and HELD.search(r.err) is not None
        t.expect(r.rc == 0 or refused, f"the racing `{what}` to succeed, or to refuse because the other "
                 "holds the work directory or store (not to fail on files pulled from under it)", r.describe())
    t.expect_readable(work, f"after the {first}/{second} race")
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    t.expect_success(r, "`run --resume` after the race")
    t.expect_readable(work, "after `run --resume`")
    t.expect_reference_heatmap(work, "after `run --resume`")
    t.expect_no_partials(work, "after `run --resume`")


def wait_until(running, delay):
    end = running.started + delay
    while running.proc.poll() is None and time.monotonic() < end:
        time.sleep(0.002)
    time.sleep(max(0.0, end - time.monotonic()))


# --- ownership -------------------------------------------------------------

# The three, always; a random few of the others. None of these names
# is one slidescale could call its own (its temporary files are
# FINAL.<pid>.partial or FINAL.partial, FINAL one of its own outputs).
ALWAYS = ("downloads/x.iso.partial", "results/important.csv", "heatmaps/figure1.png")
SOMETIMES = ("notes.partial", "README.txt", "logs/mine.log", "results/old/000001.npy.bak",
             "heatmaps/CMU-1-Small-Region.draft.png.partial", "stain/notes.txt",
             "jobs/my-script.sh", "data/slide list.txt")
NONEMPTY_FLAG = re.compile(r"--[a-z-]*(non-?empty|not-empty|foreign|allow-existing|adopt)[a-z-]*")


def nonempty_flag(help_text):
    """The flag `run` takes to accept a non-empty --out that is not a
    slidescale work directory, if its help lists one."""
    m = NONEMPTY_FLAG.search(help_text)
    return m.group(0) if m else None


def plant(t, work):
    names = list(ALWAYS) + t.rng.sample(SOMETIMES, t.rng.randint(0, 3))
    planted = {}
    for rel in names:
        planted[rel] = random.Random(t.rng.random()).randbytes(t.rng.randint(1, 64 << 10))
    replant(work, planted)
    return planted


def replant(work, planted):
    for rel, body in planted.items():
        path = work / rel
        if not path.is_file() or path.read_bytes() != body:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)


def lost(work, planted):
    bad = []
    for rel, body in planted.items():
        path = work / rel
        if not path.is_file():
            bad.append(f"{rel} is gone")
        elif path.read_bytes() != body:
            bad.append(f"{rel} changed")
    return bad


def run_ownership(t):
    work = t.dir / "proj"
    planted = plant(t, work)
    flag = t.suite.nonempty_flag
    t.note(f"{len(planted)} foreign files, override flag {flag or 'none'}")
    accept = [flag] if flag else []
    if flag:
        r = t.ss.run(t.ss.run_argv(work))
        t.expect(r.rc not in (0, None), f"`run` into a non-empty non-work directory refused without {flag}",
                 r.describe())
        t.expect(not lost(work, planted), "the foreign files intact after the refused run",
                 "; ".join(lost(work, planted)))
        left = sorted(set(map(str, _files(work))) - set(planted))
        t.expect(not left, "a refused run to leave nothing behind", ", ".join(left))
    for label, extra in (("run", []), ("run --force", ["--force"])):
        r = t.ss.run(t.ss.run_argv(work, extra=accept + extra))
        bad = lost(work, planted)
        t.expect(not bad, f"every foreign file byte-identical after `{label}`", "; ".join(bad))
        replant(work, planted)  # so the next step is judged on its own
        if r.rc == 0:
            t.expect_reference_heatmap(work, f"after `{label}`")
        elif flag:
            t.expect_success(r, f"`{label} {flag}`")
        else:
            t.note(f"`{label}` refused: {r.describe()[:80]}")
    t.expect_readable(work, "after `run --force`", skip=set(planted))


def _files(root):
    return final_files(root) + [p.relative_to(root) for p in root.rglob("*.partial") if p.is_file()]
