"""Shared pieces of the fault suite: running slidescale (to completion or up
to a signal), the "every file under a final name is readable" walk, and
byte-for-byte comparison with the reference run.

Nothing here decides whether a trial passed; the trial kinds do, through
`Trial.expect`, so every failure names what was expected and what happened.
"""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

# Stores are only read here, never written, and slidescale switches HDF5's
# own file locking off for them; so must we, or a store a killed writer left
# open could not be opened for the check.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

try:  # blosc-lz4 stores (the default) need the plugin
    import hdf5plugin  # noqa: F401,E402
except ImportError:  # pragma: no cover - the venv has it
    hdf5plugin = None

try:
    from PIL import Image  # noqa: E402
except ImportError:  # pragma: no cover
    Image = None

PARTIAL = ".partial"
COMMAND_TIMEOUT_S = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Commands started and not yet waited for: killed if the suite stops early.
LIVE = set()


def kill_live():
    for proc in list(LIVE):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    LIVE.clear()


class Result:
    """How one slidescale command ended."""

    def __init__(self, argv, rc, out, err, seconds, signalled=None):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds
        # The signal this driver sent while the command was still running.
        self.signalled = signalled

    @property
    def text(self):
        return self.out + self.err

    def describe(self):
        """The exit status in words, and the command's last error line."""
        if self.rc is None:
            status = "timed out"
        elif self.rc < 0:
            status = "killed by " + signal.Signals(-self.rc).name
        else:
            status = f"exit {self.rc}"
        lines = [line for line in self.err.splitlines() if line.strip()]
        last = f": {lines[-1].strip()[:300]}" if lines else ""
        return status + last


class Slidescale:
    """The binary and the run settings every trial shares."""

    def __init__(self, binary, slide, model, stride, group_size):
        self.binary = str(binary)
        self.slide = Path(slide)
        self.model = Path(model)
        self.stride = stride
        self.group_size = group_size
        self.extra_model_args = []
        self.log = None  # a trial sets its own command log

    def model_args(self):
        return ["--model", str(self.model), "--stride", str(self.stride)] + self.extra_model_args

    def split_args(self):
        return ["--group-size", str(self.group_size)]

    def run_argv(self, work, slide=None, extra=()):
        return (["run", str(slide or self.slide)] + self.model_args()
                + self.split_args() + ["--out", str(work)] + list(extra))

    def split_argv(self, work, slide=None):
        return ["split", str(slide or self.slide), "--out", str(work)] + self.split_args()

    def process_argv(self, store, group):
        return ["process", str(store), "--group", str(group)] + self.model_args()

    def stitch_argv(self, store):
        return ["stitch", str(store)]

    def start(self, argv):
        """Start `slidescale ARGV` with its output going to files."""
        out = open(self._spill(), "w+")
        err = open(self._spill(), "w+")
        proc = subprocess.Popen([self.binary] + argv, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        LIVE.add(proc)
        return Running(self, argv, proc, out, err)

    def run(self, argv, timeout=COMMAND_TIMEOUT_S):
        """Run `slidescale ARGV` to its end."""
        return self.start(argv).wait(timeout)

    def _spill(self):
        return (self.log.parent if self.log else Path("/tmp")) / f".spill-{time.monotonic_ns()}"

    def record(self, result):
        if self.log is None:
            return
        with open(self.log, "a") as f:
            f.write(f"$ slidescale {' '.join(result.argv)}\n")
            sent = f" (sent {result.signalled.name})" if result.signalled else ""
            f.write(f"# {result.describe()}{sent}, {result.seconds:.2f} s\n")
            for stream in (result.out, result.err):
                if stream.strip():
                    f.write(stream if stream.endswith("\n") else stream + "\n")


class Running:
    """A started command: wait for it, or signal it at a chosen moment."""

    def __init__(self, owner, argv, proc, out, err):
        self.owner, self.argv, self.proc = owner, argv, proc
        self.out, self.err = out, err
        self.started = time.monotonic()
        self.signalled = None

    def signal_at(self, sig, wait_for, delay, timeout=COMMAND_TIMEOUT_S):
        """Send `sig` `delay` seconds after `wait_for()` first holds (after
        the start when `wait_for` is None). True when the command was still
        running, so the signal interrupted it."""
        deadline = self.started + timeout
        if wait_for is not None:
            while self.proc.poll() is None and not wait_for() and time.monotonic() < deadline:
                time.sleep(0.002)
        end = (self.started if wait_for is None else time.monotonic()) + delay
        while self.proc.poll() is None and time.monotonic() < end:
            time.sleep(0.002)
        if self.proc.poll() is not None:
            return False
        self.proc.send_signal(sig)
        self.signalled = sig
        return True

    def wait(self, timeout=COMMAND_TIMEOUT_S):
        try:
            rc = self.proc.wait(timeout=max(1, timeout - (time.monotonic() - self.started)))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        LIVE.discard(self.proc)
        seconds = time.monotonic() - self.started
        texts = []
        for f in (self.out, self.err):
            f.seek(0)
            texts.append(f.read())
            f.close()
            os.unlink(f.name)
        result = Result(self.argv, rc, texts[0], texts[1], seconds, self.signalled)
        self.owner.record(result)
        return result


def has_partial(root):
    """Some `*.partial` file is under `root`: a write is under way."""
    for _, _, files in os.walk(root):
        if any(name.endswith(PARTIAL) for name in files):
            return True
    return False


def count_files(root, suffix):
    """How many files under `root` end with `suffix`."""
    return sum(name.endswith(suffix) for _, _, files in os.walk(root) for name in files)


def final_files(root, skip=()):
    """Every file under `root` whose name is final (not `*.partial`), as
    paths relative to `root`, minus `skip`."""
    root = Path(root)
    out = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            rel = (Path(dirpath) / name).relative_to(root)
            if not name.endswith(PARTIAL) and str(rel) not in skip:
                out.append(rel)
    return sorted(out)


def unreadable_files(root, skip=()):
    """Problems with files under final names: each `*.h5` must open with h5py
    and every dataset read; each `*.npy` load as float32 holding only finite
    values or NaN; each `*.png` decode; each `*.json` parse (a document or
    JSON lines); `*.tsv` be whole lines of equal field counts."""
    problems = []
    for rel in final_files(root, skip):
        path = Path(root) / rel
        check = CHECKS.get(path.suffix)
        if check is None:
            continue
        try:
            check(path)
        except Exception as e:  # any failure to read is the finding
            problems.append(f"{rel}: {type(e).__name__}: {str(e)[:200]}")
    return problems


def check_h5(path):
    # No HDF5 file locking: a writer may hold its flock on a store it has
    # just renamed into place (complete, so readable).
    with h5py.File(path, "r", locking=False) as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
        for ds in datasets:
            ds[()]
        for obj in [f] + datasets:
            dict(obj.attrs)


def check_npy(path):
    a = np.load(path, allow_pickle=False)
    if a.dtype != np.float32:
        raise ValueError(f"dtype {a.dtype}, expected float32")
    if np.isinf(a).any():
        raise ValueError(f"{int(np.isinf(a).sum())} infinite values")


def check_png(path):
    if Image is not None:
        with Image.open(path) as im:
            im.load()
        return
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE) or b"IEND" not in data[-12:]:
        raise ValueError("no PNG signature or no IEND chunk at the end")


def check_json(path):
    text = path.read_text()
    try:
        json.loads(text)
        return
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise
        for line in lines:
            json.loads(line)


def check_tsv(path):
    text = path.read_text()
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline")
    widths = {len(line.split("\t")) for line in text.splitlines()}
    if len(widths) != 1:
        raise ValueError(f"rows of {sorted(widths)} fields")


CHECKS = {".h5": check_h5, ".npy": check_npy, ".png": check_png,
          ".json": check_json, ".tsv": check_tsv}


def npy_difference(got_path, want_bytes):
    """None when the file holds exactly `want_bytes`, else what differs."""
    try:
        got_bytes = Path(got_path).read_bytes()
    except OSError as e:
        return f"no heatmap ({e.strerror})"
    if got_bytes == want_bytes:
        return None
    try:
        import io
        got = np.load(io.BytesIO(got_bytes), allow_pickle=False)
        want = np.load(io.BytesIO(want_bytes), allow_pickle=False)
    except Exception as e:
        return f"differs and does not load ({e})"
    if got.shape != want.shape:
        return f"shape {got.shape}, reference {want.shape}"
    differ = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    if not differ.any():
        return "same values, different bytes"
    delta = np.nanmax(np.abs(got[differ].astype(np.float64) - want[differ]), initial=0.0)
    return f"{int(differ.sum())} of {got.size} pixels differ (max |diff| {delta:.4g})"


def copy_work(src, dst, without=()):
    """Copy a work directory keeping modification times (resume compares
    them), minus the paths (relative) in `without`."""
    skip = {str(p) for p in without}

    def ignore(dirpath, names):
        rel = Path(dirpath).relative_to(src)
        return [n for n in names if str(rel / n) in skip or n == ".lock"]

    shutil.copytree(src, dst, ignore=ignore, symlinks=True)


def keep_mtime(path):
    """A context manager that restores `path`'s times after a change: bit rot
    does not touch them."""
    class Keep:
        def __enter__(self):
            self.st = os.stat(path)

        def __exit__(self, *exc):
            if os.path.exists(path):
                os.utime(path, ns=(self.st.st_atime_ns, self.st.st_mtime_ns))
    return Keep()
