"""RunWriter: appends one trainer's expert loads and scalars to a Loadscope run folder (docs/run-format.md)."""
import datetime
import json
import math
import os
import socket

import numpy as np

from ._format import (
    FORMAT_VERSION, HEADER_BYTES, SUMMARY_BLOCKS, SummaryLevel, loads_header, loads_record, loads_record_bytes,
    max_vio_layers, parse_loads_header, summary_file, summary_header,
)
from ._recover import cut_summaries, cut_torn_tails

COUNTED = ("before-drop", "after-drop")


class LockHeld(RuntimeError):
    """Another live process is writing this run folder."""


def max_vio(loads, ideal):
    """Mean over layers of MaxVio_batch = (max_e load − ideal) / ideal."""
    return float(max_vio_layers(loads, ideal).mean())


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except PermissionError:
        return True
    except OSError:
        return False


def _atomic_json(path, obj):
    # temp file, fsync, rename: a reader never sees half a file (the same rule as Loadscope's own writes)
    tmp = os.path.join(os.path.dirname(path), ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _clean(v):
    """A JSON-safe scalar: numpy / torch numbers become floats, NaN and infinities become null."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class RunWriter:
    """
    One run folder written by one process. `loads` passed to log_step are token-slot assignments of one
    optimizer step, [layers, experts], summed over micro-batches and data-parallel ranks.
    """

    def __init__(self, folder, layers, experts, top_k, tokens_per_step, name=None, config=None,
                 framework="pytorch", counted="before-drop"):
        if not (1 <= layers <= 256 and 2 <= experts <= 1024 and 1 <= top_k <= min(32, experts)):
            raise ValueError("layers %d, experts %d, top_k %d: Loadscope shows up to 256 layers, 1024 experts, top-k 32"
                             % (layers, experts, top_k))
        if counted not in COUNTED:
            raise ValueError("counted must be one of %s" % (COUNTED,))
        self.folder = os.path.abspath(folder)
        self.layers, self.experts, self.top_k = int(layers), int(experts), int(top_k)
        self.tokens_per_step = tokens_per_step
        self.ideal = float(tokens_per_step) * self.top_k / self.experts if tokens_per_step else 0.0
        self._closed = False
        os.makedirs(self.folder, exist_ok=True)
        self._lock_path = os.path.join(self.folder, "writer.lock")
        self._take_lock()
        try:
            self._open(name, config or {}, framework, counted)
        except BaseException:
            os.unlink(self._lock_path)
            raise

    # ---- lock ----
    def _take_lock(self):
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "startedAt": _now()})
        for _ in range(2):
            try:
                fd = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    with open(self._lock_path) as f:
                        held = json.load(f)
                except (OSError, ValueError):
                    held = {}
                same_host = held.get("host") == socket.gethostname()
                if isinstance(held.get("pid"), int) and (not same_host or _pid_alive(held["pid"])):
                    raise LockHeld("%s is being written by pid %s on %s" % (self.folder, held["pid"], held.get("host")))
                os.unlink(self._lock_path)  # left by a writer that is gone
                continue
            with os.fdopen(fd, "w") as f:
                f.write(info)
            return
        raise LockHeld("could not take %s" % self._lock_path)

    # ---- open / restart ----
    def _open(self, name, config, framework, counted):
        meta_path = os.path.join(self.folder, "meta.json")
        old = {}
        if os.path.exists(meta_path):
            with open(meta_path) as f:
                old = json.load(f)
        self.meta = {
            "runId": os.path.basename(self.folder),
            "name": name or old.get("name") or os.path.basename(self.folder),
            "createdAt": old.get("createdAt") or _now(),
            "tags": old.get("tags", []),
            "status": "running",
            "backend": {"name": framework, "device": "external trainer", "notes": []},
            "failure": None,
            "summary": None,
            "parent": None,
            "formatVersion": FORMAT_VERSION,
            "source": "external",
            "framework": framework,
        }
        cfg = dict(config)
        cfg["model"] = dict(cfg.get("model", {}), layers=self.layers, experts=self.experts, topK=self.top_k)
        cfg["tokensPerStep"] = self.tokens_per_step
        cfg["loadsCounted"] = counted
        _atomic_json(os.path.join(self.folder, "config.json"), cfg)
        loads_path = os.path.join(self.folder, "loads.bin")
        self.last_step = 0
        # running AvgMaxVio / SupMaxVio, logged on every line so long runs list fast
        self._vio_n, self._vio_sum, self._vio_max = 0, 0.0, float("-inf")
        self._levels = [SummaryLevel(self.layers, self.experts, s) for s in SUMMARY_BLOCKS]
        if os.path.exists(loads_path) and os.path.getsize(loads_path) >= HEADER_BYTES:
            self._reopen(loads_path)
        else:
            with open(loads_path, "wb") as f:
                f.write(loads_header(self.layers, self.experts, self.ideal))
            for lv in self._levels:
                with open(os.path.join(self.folder, summary_file(lv.block_rows)), "wb") as f:
                    f.write(summary_header(self.layers, self.experts, lv.block_rows))
        self._loads = open(loads_path, "ab")
        self._sums = [open(os.path.join(self.folder, summary_file(lv.block_rows)), "ab") for lv in self._levels]
        self._steps = open(os.path.join(self.folder, "steps.jsonl"), "ab")
        self._eval = open(os.path.join(self.folder, "eval.jsonl"), "ab")
        self._top = open(os.path.join(self.folder, "top-tokens.jsonl"), "ab")
        self._write_meta()

    def _reopen(self, loads_path):
        with open(loads_path, "rb") as f:
            h = parse_loads_header(f.read(HEADER_BYTES))
        if h is None or h[0] != self.layers or h[1] != self.experts or h[2] != 1:
            raise ValueError("%s holds loads of another shape (%s); use a new folder" % (loads_path, h and "%d×%d" % h[:2]))
        self.last_step, rows, count, last = cut_torn_tails(self.folder, self.layers, self.experts)
        if last and isinstance(last.get("avgMaxVio"), (int, float)) and isinstance(last.get("supMaxVio"), (int, float)):
            self._vio_n, self._vio_sum, self._vio_max = count, last["avgMaxVio"] * count, last["supMaxVio"]
        kept = cut_summaries(self.folder, self.layers, self.experts, rows)
        rb = loads_record_bytes(self.layers, self.experts)
        for lv in self._levels:
            path = os.path.join(self.folder, summary_file(lv.block_rows))
            blocks = kept[lv.block_rows]
            if blocks is None:
                with open(path, "wb") as f:
                    f.write(summary_header(self.layers, self.experts, lv.block_rows))
                blocks = 0
            lv.blocks = blocks
            # rebuild the blocks after the kept ones (and the unfinished block's running sums) from loads.bin
            with open(loads_path, "rb") as src, open(path, "ab") as out:
                src.seek(HEADER_BYTES + blocks * lv.block_rows * rb)
                for _ in range(blocks * lv.block_rows, rows):
                    rec = src.read(rb)
                    step = int.from_bytes(rec[:4], "little")
                    vals = np.frombuffer(rec, dtype="<f4", count=self.layers * self.experts, offset=4)
                    done = lv.add(step, vals.reshape(self.layers, self.experts))
                    if done:
                        out.write(done)

    def _write_meta(self):
        _atomic_json(os.path.join(self.folder, "meta.json"), self.meta)

    # ---- appends ----
    def log_step(self, step, loads, **scalars):
        """Append one optimizer step: its loads record, then the steps.jsonl line that commits it."""
        if self._closed:
            raise RuntimeError("this RunWriter is closed")
        step = int(step)
        if step <= self.last_step:
            raise ValueError("step %d is not after the last step %d" % (step, self.last_step))
        arr = loads.detach().cpu().numpy() if hasattr(loads, "detach") else np.asarray(loads)
        arr = np.asarray(arr, dtype=np.float32).reshape(self.layers, self.experts)
        self._loads.write(loads_record(step, arr))
        self._loads.flush()
        for lv, f in zip(self._levels, self._sums):
            rec = lv.add(step, arr)
            if rec:
                f.write(rec)
                f.flush()
        line = {"step": step}
        line.update({k: _clean(v) for k, v in scalars.items()})
        if "maxVio" not in scalars:
            # the per-layer values stay out of the line (pass maxVioL=[…] to log them): they follow from
            # loads.bin, and short lines keep a 100,000-step steps.jsonl quick to parse on open
            line["maxVio"] = float(max_vio_layers(arr, self.ideal).mean())
        v = line.get("maxVio")
        if isinstance(v, (int, float)) and "avgMaxVio" not in scalars:
            self._vio_n += 1
            self._vio_sum += v
            self._vio_max = max(self._vio_max, v)
            line["avgMaxVio"] = self._vio_sum / self._vio_n
            line["supMaxVio"] = self._vio_max
        self._steps.write((json.dumps(line) + "\n").encode())
        self._steps.flush()
        self.last_step = step

    def log_eval(self, step, **scalars):
        rec = {"step": int(step)}
        rec.update({k: _clean(v) for k, v in scalars.items()})
        self._eval.write((json.dumps(rec) + "\n").encode())
        self._eval.flush()

    def log_top_tokens(self, step, tokens):
        """tokens[layer][expert] = [[token, count], …]; a token may be a byte or a string (BPE piece)."""
        self._top.write((json.dumps({"step": int(step), "tokens": tokens}) + "\n").encode())
        self._top.flush()

    def close(self, status="completed"):
        if self._closed:
            return
        for f in [self._loads, *self._sums, self._steps, self._eval, self._top]:
            f.flush()
            os.fsync(f.fileno())
            f.close()
        # name and tags may have been changed in Loadscope meanwhile: start from the file, change only the status
        try:
            with open(os.path.join(self.folder, "meta.json")) as f:
                on_disk = json.load(f)
            for k in ("name", "tags"):
                if k in on_disk:
                    self.meta[k] = on_disk[k]
        except (OSError, ValueError):
            pass
        self.meta["status"] = status
        self._write_meta()
        os.unlink(self._lock_path)
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close("completed" if exc_type is None else "failed")
        return False
