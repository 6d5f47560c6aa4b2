"""One trial: its seeded random source, its own work directory, and the
record of what it expected and what happened."""

from pathlib import Path

from common import npy_difference, unreadable_files


class Trial:
    """A trial's verdict is the list of its problems: empty means passed.
    `skip` marks a trial that could not run here (it counts as neither)."""

    def __init__(self, kind, index, seed, rng, directory, suite):
        self.kind = kind
        self.index = index
        self.seed = seed
        self.rng = rng
        self.dir = Path(directory)
        self.suite = suite
        self.ss = suite.ss
        self.ref = suite.ref
        self.problems = []
        self.notes = []  # what the trial did, for the one-line report
        self.signals = 0  # signals delivered while the target still ran
        self.skipped = None

    @property
    def passed(self):
        return self.skipped is None and not self.problems

    def note(self, text):
        self.notes.append(text)

    def skip(self, reason):
        self.skipped = reason

    def expect(self, ok, expected, got):
        """Record a failure unless `ok`: what was expected, what happened."""
        if not ok:
            self.problems.append(f"expected {expected}; got {got}")
        return ok

    def expect_success(self, result, what):
        return self.expect(result.rc == 0, f"{what} to exit 0", result.describe())

    def expect_readable(self, work, when, skip=()):
        """Every file under a final name in `work` is whole."""
        bad = unreadable_files(work, skip)
        return self.expect(not bad, f"every file under a final name readable {when}",
                           f"{len(bad)} unreadable: " + "; ".join(bad[:4]))

    def expect_no_partials(self, work, when):
        """A finishing `run --resume` sweeps what killed writers left."""
        left = [str(p.relative_to(work)) for p in Path(work).rglob("*.partial")]
        return self.expect(not left, f"no temporary file left {when}", ", ".join(left[:4]))

    def heatmap_path(self, work):
        return Path(work) / "heatmaps" / f"{self.ref.name}.npy"

    def heatmap_difference(self, work):
        return npy_difference(self.heatmap_path(work), self.ref.heatmap)

    def expect_reference_heatmap(self, work, when, png=True):
        """The heatmap (.npy, and by default its PNG) equals the reference run's
        byte for byte."""
        diff = self.heatmap_difference(work)
        ok = self.expect(diff is None, f"the heatmap byte-identical to the reference {when}", diff)
        if ok and png:
            path = Path(work) / "heatmaps" / f"{self.ref.name}.png"
            got = path.read_bytes() if path.exists() else None
            ok = self.expect(got == self.ref.png, f"the heatmap PNG byte-identical to the reference {when}",
                             "no PNG" if got is None else f"a different PNG ({len(got)} bytes)")
        return ok

    def expect_reference_result(self, work, group, when):
        path = Path(work) / "results" / self.ref.name / f"{group:06d}.npy"
        diff = npy_difference(path, self.ref.results[group])
        return self.expect(diff is None, f"result of group {group} byte-identical to the reference {when}", diff)

    def verify(self, work, when):
        """`slidescale status WORK --verify` must report damage (exit non-zero).
        Without the flag, or when it also fails on the undamaged reference,
        the check fails: requirement 3 promises it."""
        if not self.suite.verify:
            self.expect(False, f"`status --verify` to report the damage {when}",
                        "this slidescale has no `status --verify`")
            return
        if self.suite.verify_clean_rc != 0:
            self.expect(False, f"`status --verify` to report the damage {when}",
                        f"it exits {self.suite.verify_clean_rc} on the undamaged reference too")
            return
        r = self.ss.run(["status", str(work), "--verify"])
        self.expect(r.rc is not None and r.rc > 0, f"`status --verify` to report the damage {when}",
                    r.describe() + " (" + _last_lines(r.out) + ")")

    def summary_line(self):
        what = ", ".join(self.notes)
        return f"{self.kind} #{self.index} ({what})"


def _last_lines(text, n=2):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-n:])[:300] or "no output"
