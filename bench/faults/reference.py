"""The uninterrupted reference run every trial is compared with, computed
once per suite, and the stage timings the kill trials draw their moments
from. Also checks the premise of every byte comparison: each stage rerun on
its own (`process` of one group, `stitch`) reproduces the reference's bytes.
"""

import shutil
from pathlib import Path

import h5py

from common import copy_work, unreadable_files


class SetupError(Exception):
    """The suite cannot run (no binary, a reference run that fails, results
    that are not reproducible): nothing to compare trials with."""


class Reference:
    def __init__(self, work, name):
        self.work = Path(work)
        self.name = name
        self.seconds = {}
        heatmaps = self.work / "heatmaps"
        self.heatmap = (heatmaps / f"{name}.npy").read_bytes()
        self.png = (heatmaps / f"{name}.png").read_bytes()
        store = self.work / f"{name}.h5"
        with h5py.File(store, "r") as f:
            self.n_groups = int(f.attrs["n_groups"])
        results = self.work / "results" / name
        self.results = {k: (results / f"{k:06d}.npy").read_bytes() for k in range(1, self.n_groups + 1)}
        self.store_bytes = store.stat().st_size
        self.total_bytes = sum(p.stat().st_size for p in self.work.rglob("*") if p.is_file())


def build(ss, root):
    """Run once uninterrupted into ROOT/work; time `split`, `process` and
    `stitch` on their own and check they reproduce its files."""
    root = Path(root)
    work = root / "work"
    r = ss.run(ss.run_argv(work))
    if r.rc != 0:
        raise SetupError(f"the reference run failed: {r.describe()}")
    name = ss.slide.stem
    bad = unreadable_files(work)
    if bad:
        raise SetupError(f"the reference run left unreadable files: {bad}")
    ref = Reference(work, name)
    ref.seconds["run"] = r.seconds
    if ref.n_groups < 2:
        raise SetupError(f"only {ref.n_groups} group(s): give a smaller --group-size")

    split = root / "split"
    r = ss.run(ss.split_argv(split))
    if r.rc != 0:
        raise SetupError(f"split failed: {r.describe()}")
    ref.seconds["split"] = r.seconds
    shutil.rmtree(split)

    group = ref.n_groups // 2 + 1
    again = root / "process"
    copy_work(work, again, without=[f"results/{name}/{group:06d}.npy", "heatmaps"])
    r = ss.run(ss.process_argv(again / f"{name}.h5", group))
    if r.rc != 0:
        raise SetupError(f"process of group {group} failed: {r.describe()}")
    ref.seconds["process"] = r.seconds
    if (again / "results" / name / f"{group:06d}.npy").read_bytes() != ref.results[group]:
        raise SetupError(f"`process --group {group}` does not reproduce the run's result byte for "
                         "byte: byte comparisons would mean nothing")
    shutil.rmtree(again / "heatmaps", ignore_errors=True)
    r = ss.run(ss.stitch_argv(again / f"{name}.h5"))
    if r.rc != 0:
        raise SetupError(f"stitch failed: {r.describe()}")
    ref.seconds["stitch"] = r.seconds
    for suffix, want in ((".npy", ref.heatmap), (".png", ref.png)):
        if (again / "heatmaps" / f"{name}{suffix}").read_bytes() != want:
            raise SetupError(f"`stitch` does not reproduce the run's heatmap{suffix} byte for byte")
    shutil.rmtree(again)
    return ref


def detect_interfaces(ss, ref):
    """What this slidescale offers of the interfaces the fixes add:
    `status --verify` (and its verdict on the undamaged reference), and
    `run`'s flag to accept a non-empty --out."""
    from kind_env import nonempty_flag
    status_help = ss.run(["status", "--help"]).out
    verify = "--verify" in status_help
    clean_rc = ss.run(["status", str(ref.work), "--verify"]).rc if verify else None
    flag = nonempty_flag(ss.run(["run", "--help"]).out)
    return verify, clean_rc, flag
