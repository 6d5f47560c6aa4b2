"""slidescale's fault suite (issue 7, requirement 9): seeded trials of kills,
corruption, a full disk, races and foreign files, each in a fresh work
directory, each compared with one uninterrupted reference run. See
bench/faults/README.md. The last line printed is `N passed, M failed`; the
exit status is 1 when any trial failed, 2 when the suite could not run.
"""

import argparse
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

# Before h5py loads: slidescale switches HDF5's file locking off for its
# stores, and no check may trip over a writer's flock.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import kind_corrupt  # noqa: E402
import kind_env  # noqa: E402
import kind_kill  # noqa: E402
import reference  # noqa: E402
from common import Slidescale, kill_live  # noqa: E402
from trial import Trial  # noqa: E402

KINDS = {
    "kill": kind_kill.run_trial,
    "corrupt": kind_corrupt.run_trial,
    "diskfull": kind_env.run_diskfull,
    "race": kind_env.run_race,
    "ownership": kind_env.run_ownership,
}
REPO = Path(__file__).resolve().parents[2]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=100, help="number of trials (default 100)")
    p.add_argument("--seed", type=int, default=None, help="seed of the whole suite (default: random, printed)")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help=f"comma-separated trial kinds, taken in turn (default {','.join(KINDS)})")
    p.add_argument("--only", type=int, action="append", metavar="I",
                   help="run only trial I (repeatable): reproduces a failure with the same --seed and --kinds")
    p.add_argument("--keep", action="store_true", help="keep the work directories of failed trials")
    p.add_argument("--out", type=Path, help="directory for the suite's files (new or empty; default a temp dir)")
    p.add_argument("--binary", type=Path, default=REPO / "target/release/slidescale")
    p.add_argument("--slide", type=Path, default=REPO / "fixtures/slides/CMU-1-Small-Region.svs")
    p.add_argument("--model", type=Path, default=REPO / "../shared/models/smallcnn.onnx")
    p.add_argument("--stride", type=int, default=32)
    p.add_argument("--group-size", type=int, default=5, help="tiles per group (5: 11 groups on the slide)")
    p.add_argument("--threads", type=int, default=1,
                   help="model threads of every command (1: least contention on a shared machine)")
    args = p.parse_args(argv)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in args.kinds if k not in KINDS]
    if unknown or not args.kinds:
        p.error(f"unknown kinds {unknown}; choose from {','.join(KINDS)}")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10**6)
    return args


class Suite:
    """What every trial shares: the binary, the reference run and which of
    the fixes' interfaces this slidescale offers."""

    def __init__(self, args, root):
        for path in (args.binary, args.slide, args.model):
            if not path.exists():
                raise reference.SetupError(f"{path}: not found")
        self.ss = Slidescale(args.binary.resolve(), args.slide.resolve(), args.model.resolve(),
                             args.stride, args.group_size)
        self.ss.extra_model_args = ["--threads", str(args.threads)]
        self.keep = args.keep
        self.root = root
        t0 = time.monotonic()
        self.ref = reference.build(self.ss, root / "reference")
        self.verify, self.verify_clean_rc, self.nonempty_flag = reference.detect_interfaces(self.ss, self.ref)
        self.mount_refusal = kind_env.can_mount(root)
        self.setup_seconds = time.monotonic() - t0

    def describe(self):
        ref, s = self.ref, self.ref.seconds
        verify = ("absent" if not self.verify
                  else f"present (exit {self.verify_clean_rc} on the undamaged reference)")
        return "\n".join([
            f"reference: {ref.n_groups} groups, store {ref.store_bytes / 2**20:.1f} MiB, run "
            f"{ref.total_bytes / 2**20:.1f} MiB; run {s['run']:.1f} s, split {s['split']:.1f} s, "
            f"process {s['process']:.1f} s, stitch {s['stitch']:.1f} s (setup {self.setup_seconds:.0f} s)",
            f"interfaces: status --verify {verify}; run's non-empty --out flag: "
            f"{self.nonempty_flag or 'none'}; tmpfs: {self.mount_refusal or 'can mount'}",
        ])


def run_one(suite, args, index, kind):
    directory = suite.root / "trials" / f"{index:04d}-{kind}"
    directory.mkdir(parents=True)
    rng = random.Random(f"{args.seed}:{index}")
    t = Trial(kind, index, args.seed, rng, directory, suite)
    suite.ss.log = directory / "commands.log"
    start = time.monotonic()
    try:
        KINDS[kind](t)
    except Exception:
        t.problems.append("the trial stopped on an exception:\n" + traceback.format_exc().rstrip())
    t.seconds = time.monotonic() - start
    if t.passed or t.skipped or not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return t


def report_trial(t, args, position, total):
    head = f"[{position:>3}/{total}]"
    line = f"{t.summary_line()} {t.seconds:.1f} s"
    if t.skipped:
        print(f"{head} skip {line}: {t.skipped}", flush=True)
    elif t.passed:
        print(f"{head} ok   {line}", flush=True)
    else:
        print(f"{head} FAIL {line}, seed {args.seed}", flush=True)
        for problem in t.problems:
            print("       " + problem.replace("\n", "\n       "), flush=True)
        print(f"       reproduce: bench/faults/run.sh --seed {args.seed} --kinds {','.join(args.kinds)} "
              f"--only {t.index} --keep", flush=True)
        if args.keep:
            print(f"       kept: {t.dir} (commands.log has every command and its output)", flush=True)


def summarise(trials, kinds):
    print("\nkind        trials  passed  failed  skipped  signals")
    for kind in kinds:
        mine = [t for t in trials if t.kind == kind]
        if not mine:
            continue
        print(f"{kind:<10} {len(mine):>7} {sum(t.passed for t in mine):>7} "
              f"{sum(bool(t.problems) for t in mine):>7} {sum(bool(t.skipped) for t in mine):>8} "
              f"{sum(t.signals for t in mine):>8}")
    passed = sum(t.passed for t in trials)
    failed = sum(bool(t.problems) for t in trials)
    skipped = sum(bool(t.skipped) for t in trials)
    print(f"trials: {len(trials)}, passed: {passed}, failed: {failed}, skipped: {skipped}")
    print(f"{passed} passed, {failed} failed")


def suite_root(args):
    if args.out is None:
        return Path(tempfile.mkdtemp(prefix="slidescale-faults-")), True
    if args.out.exists() and any(args.out.iterdir()):
        raise reference.SetupError(f"--out {args.out}: not empty (the suite writes only into a new "
                                   "or empty directory)")
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out.resolve(), False


def stop(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    # SIGTERM unwinds like Ctrl-C, so mounted tmpfs are unmounted and
    # started commands killed on the way out.
    signal.signal(signal.SIGTERM, stop)
    try:
        return run_suite(argv)
    finally:
        kill_live()


def run_suite(argv):
    args = parse_args(argv)
    indices = args.only or range(1, args.trials + 1)
    print(f"fault suite: seed {args.seed}, {len(indices)} trials of {','.join(args.kinds)}, "
          f"stride {args.stride}, group size {args.group_size}, {args.binary}", flush=True)
    try:
        root, temporary = suite_root(args)
        suite = Suite(args, root)
    except reference.SetupError as e:
        print(f"error: the fault suite cannot run: {e}", file=sys.stderr)
        return 2
    print(suite.describe(), flush=True)
    trials = []
    started = time.monotonic()
    for n, index in enumerate(indices, 1):
        kind = args.kinds[(index - 1) % len(args.kinds)]
        t = run_one(suite, args, index, kind)
        trials.append(t)
        report_trial(t, args, n, len(indices))
        if not temporary:
            with open(root / "trials.jsonl", "a") as f:
                f.write(json.dumps({"index": t.index, "kind": t.kind, "seed": args.seed,
                                    "passed": t.passed, "skipped": t.skipped, "notes": t.notes,
                                    "problems": t.problems, "seconds": round(t.seconds, 2)}) + "\n")
    print(f"\n{len(trials)} trials in {time.monotonic() - started:.0f} s (+{suite.setup_seconds:.0f} s setup)")
    failed = any(t.problems for t in trials)
    cleanup(root, temporary, keep=args.keep and failed)
    summarise(trials, args.kinds)  # last: its last line is "N passed, M failed"
    return 1 if failed else 0


def cleanup(root, temporary, keep):
    """Remove what the suite made: everything, or (keeping failed trials)
    only the reference."""
    if keep:
        print(f"kept the failed trials' directories under {root / 'trials'}")
        return
    shutil.rmtree(root / "reference", ignore_errors=True)
    shutil.rmtree(root / "trials", ignore_errors=True)
    if temporary:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        print("fault suite interrupted", file=sys.stderr)
        sys.exit(130)
