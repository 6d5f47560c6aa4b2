"""kill: SIGKILL or SIGINT at a random moment of one stage (`split`,
`process` of one group, `stitch`, or `run` end to end), once or twice, then
the stage is rerun (`run --resume` for `run`). After every signal no file
under a final name may be unreadable; at the end the heatmap (and its PNG)
must be byte-identical to the uninterrupted reference run."""

import signal

from common import copy_work, count_files, has_partial

SIGNALS = (signal.SIGKILL, signal.SIGINT)
STAGES = ("split", "process", "stitch", "run")


def run_trial(t):
    stage = t.rng.choice(STAGES)
    sig = t.rng.choice(SIGNALS)
    kills = t.rng.choice((1, 1, 2))
    t.note(f"stage {stage}")
    work = t.dir / "work"
    {"split": kill_split, "process": kill_process,
     "stitch": kill_stitch, "run": kill_run}[stage](t, work, sig, kills)


def moment(t, stage, work, seconds):
    """A random moment of a `stage` command that takes about `seconds`: a
    time after its start, or a short while after an event that marks the
    middle of a write (a temporary file shows; for `run`, also the n-th
    result of this invocation lands, or a heatmap is being written), which a
    uniform time rarely hits. Returns (label, condition or None, delay)."""
    events = [("partial", lambda: has_partial(work))]
    if stage == "run":
        before = count_files(work / "results", ".npy")
        n = t.rng.randint(1, t.ref.n_groups)
        events += [(f"result {n}", lambda: count_files(work / "results", ".npy") >= before + n),
                   ("heatmap", lambda: has_partial(work / "heatmaps"))]
    if t.rng.random() < 0.4:
        return ("time", None, t.rng.uniform(0.0, seconds * 1.05))
    label, condition = t.rng.choice(events)
    return (label, condition, t.rng.uniform(0.0, 0.05))


def interrupt(t, stage, argv, work, sig, seconds):
    """Start `argv`, signal it at a random moment, check the files it left."""
    label, condition, delay = moment(t, stage, work, seconds)
    running = t.ss.start(argv)
    delivered = running.signal_at(sig, condition, delay)
    result = running.wait()
    if delivered:
        t.signals += 1
        t.note(f"{sig.name} at {label}+{delay:.2f}s")
        t.expect_readable(work, f"after {sig.name} of {stage} at {label}+{delay:.2f}s")
    else:
        t.note(f"{stage} ended before {label}+{delay:.2f}s")
        t.expect_success(result, f"{stage}, not signalled,")
    return delivered


def finish(t, work, when):
    """`run --resume` ends the trial: exit 0, the reference heatmap."""
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    t.expect_success(r, f"`run --resume` {when}")
    t.expect_readable(work, f"after `run --resume` {when}")
    t.expect_reference_heatmap(work, f"after `run --resume` {when}")
    t.expect_no_partials(work, f"after `run --resume` {when}")


def kill_split(t, work, sig, kills):
    for _ in range(kills):
        interrupt(t, "split", t.ss.split_argv(work), work, sig, t.ref.seconds["split"])
    r = t.ss.run(t.ss.split_argv(work))
    t.expect_success(r, "`split` rerun after the signal")
    t.expect_readable(work, "after the rerun split")
    finish(t, work, "after the split was killed")


def kill_process(t, work, sig, kills):
    group = t.rng.randint(1, t.ref.n_groups)
    t.note(f"group {group}")
    name = t.ref.name
    copy_work(t.ref.work, work, without=[f"results/{name}/{group:06d}.npy", "heatmaps"])
    store = work / f"{name}.h5"
    for _ in range(kills):
        interrupt(t, "process", t.ss.process_argv(store, group), work, sig, t.ref.seconds["process"])
    r = t.ss.run(t.ss.process_argv(store, group))
    t.expect_success(r, "`process` rerun after the signal")
    t.expect_reference_result(work, group, "after the rerun process")
    finish(t, work, "after process was killed")


def kill_stitch(t, work, sig, kills):
    copy_work(t.ref.work, work, without=["heatmaps"])
    store = work / f"{t.ref.name}.h5"
    for _ in range(kills):
        interrupt(t, "stitch", t.ss.stitch_argv(store), work, sig, t.ref.seconds["stitch"])
    r = t.ss.run(t.ss.stitch_argv(store))
    t.expect_success(r, "`stitch` rerun after the signal")
    t.expect_readable(work, "after the rerun stitch")
    t.expect_reference_heatmap(work, "after the rerun stitch")


def kill_run(t, work, sig, kills):
    for i in range(kills):
        extra = ["--resume"] if i > 0 else []
        interrupt(t, "run", t.ss.run_argv(work, extra=extra), work, sig, t.ref.seconds["run"])
    finish(t, work, "after run was killed")
