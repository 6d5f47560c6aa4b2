"""kill: SIGKILL or SIGINT at a random moment of one stage (`split`,
`process` of one group, `stitch`, or `run` end to end), once or twice, then
the stage is rerun (`run --resume` for `run`). After every signal no file
under a final name may be unreadable; at the end the heatmap (and its PNG)
must be byte-identical to the uninterrupted reference run."""

import signal

from common import copy_work

SIGNALS = (signal.SIGKILL, signal.SIGINT)
STAGES = ("split", "process", "stitch", "run")


def run_trial(t):
    stage = t.rng.choice(STAGES)
    sig = t.rng.choice(SIGNALS)
    kills = t.rng.choice((1, 1, 2))
    t.note(f"stage {stage}, {kills}x {sig.name}")
    work = t.dir / "work"
    {"split": kill_split, "process": kill_process,
     "stitch": kill_stitch, "run": kill_run}[stage](t, work, sig, kills)


def moment(t, seconds):
    """A random moment of a command that takes about `seconds`: a time after
    its start, or a short time after its first temporary file shows (the
    middle of a write, which a uniform time rarely hits)."""
    if t.rng.random() < 0.5:
        return ("time", t.rng.uniform(0.0, seconds * 1.05))
    return ("partial", t.rng.uniform(0.0, 0.05))


def interrupt(t, argv, work, sig, seconds, label):
    """Start `argv`, signal it at a random moment, check the files it left."""
    when = moment(t, seconds)
    running = t.ss.start(argv)
    delivered = running.signal_at(sig, when, work, t.rng)
    result = running.wait()
    if delivered:
        t.signals += 1
        t.note(f"{sig.name} {when[0]}+{when[1]:.2f}s")
        t.expect_readable(work, f"after {sig.name} of {label}")
    else:
        t.note(f"{label} finished before the signal")
        t.expect_success(result, f"{label}, not signalled,")
    return delivered


def finish(t, work, when):
    """`run --resume` ends the trial: exit 0, the reference heatmap."""
    r = t.ss.run(t.ss.run_argv(work, extra=["--resume"]))
    t.expect_success(r, f"`run --resume` {when}")
    t.expect_readable(work, f"after `run --resume` {when}")
    t.expect_reference_heatmap(work, f"after `run --resume` {when}")


def kill_split(t, work, sig, kills):
    for _ in range(kills):
        interrupt(t, t.ss.split_argv(work), work, sig, t.ref.seconds["split"], "split")
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
        interrupt(t, t.ss.process_argv(store, group), work, sig, t.ref.seconds["process"], "process")
    r = t.ss.run(t.ss.process_argv(store, group))
    t.expect_success(r, "`process` rerun after the signal")
    t.expect_reference_result(work, group, "after the rerun process")
    finish(t, work, "after process was killed")


def kill_stitch(t, work, sig, kills):
    copy_work(t.ref.work, work, without=["heatmaps"])
    store = work / f"{t.ref.name}.h5"
    for _ in range(kills):
        interrupt(t, t.ss.stitch_argv(store), work, sig, t.ref.seconds["stitch"], "stitch")
    r = t.ss.run(t.ss.stitch_argv(store))
    t.expect_success(r, "`stitch` rerun after the signal")
    t.expect_readable(work, "after the rerun stitch")
    t.expect_reference_heatmap(work, "after the rerun stitch")


def kill_run(t, work, sig, kills):
    for i in range(kills):
        extra = ["--resume"] if i > 0 else []
        interrupt(t, t.ss.run_argv(work, extra=extra), work, sig, t.ref.seconds["run"], "run")
    finish(t, work, "after run was killed")
