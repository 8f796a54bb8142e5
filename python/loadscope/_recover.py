"""Reopening a run folder after a trainer restart: find the last committed step, move torn tails aside."""
import json
import os
import shutil
import time

from ._format import HEADER_BYTES, SUMMARY_BLOCKS, loads_record_bytes, record_ok, summary_file, summary_record_bytes


def last_committed(steps_path):
    """(byte length of the complete, parseable lines, last step in them, their count, the last line) of steps.jsonl."""
    if not os.path.exists(steps_path):
        return 0, 0, 0, None
    with open(steps_path, "rb") as f:
        data = f.read()
    good, last, pos, count, last_rec = 0, 0, 0, 0, None
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        line = data[pos:nl]
        try:
            rec = json.loads(line) if line.strip() else None
        except ValueError:
            break  # a garbled line ends what counts as committed
        if rec is not None:
            if not isinstance(rec, dict) or not isinstance(rec.get("step"), int):
                break
            last, count, last_rec = rec["step"], count + 1, rec
        pos = nl + 1
        good = pos
    return good, last, count, last_rec


def _backup_dir(folder, step):
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    d = os.path.join(folder, "backup", "after-step-%d-%s" % (step, stamp))
    os.makedirs(d, exist_ok=True)
    return d


def cut_torn_tails(folder, layers, experts):
    """
    Keep every loads record whose step has its steps.jsonl line, and every complete line; what follows
    (a torn line, loads records never committed, a record cut short) is moved to backup/ and the files are
    shortened to end at the last committed step. Returns (last step, complete loads rows, steps logged, last line).
    """
    steps_path = os.path.join(folder, "steps.jsonl")
    loads_path = os.path.join(folder, "loads.bin")
    good, last, count, last_rec = last_committed(steps_path)
    rb = loads_record_bytes(layers, experts)
    keep_rows = 0
    with open(loads_path, "rb") as f:
        header = f.read(HEADER_BYTES)
        size = os.fstat(f.fileno()).st_size
        rows = max(0, (size - HEADER_BYTES) // rb)
        # rows whose step is committed and whose checksum holds, from the end backwards
        while rows > 0:
            f.seek(HEADER_BYTES + (rows - 1) * rb)
            rec = f.read(rb)
            step = int.from_bytes(rec[:4], "little")
            if record_ok(rec) and step <= last:
                break
            rows -= 1
        keep_rows = rows
    loads_end = HEADER_BYTES + keep_rows * rb
    steps_size = os.path.getsize(steps_path) if os.path.exists(steps_path) else 0
    if loads_end == size and good == steps_size:
        return last, keep_rows, count, last_rec
    backup = _backup_dir(folder, last)
    if loads_end < size:
        with open(loads_path, "rb") as src, open(os.path.join(backup, "loads.bin"), "wb") as dst:
            dst.write(header)  # so the backup is a valid loads.bin of its own
            src.seek(loads_end)
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        with open(loads_path, "r+b") as f:
            f.truncate(loads_end)
    if good < steps_size:
        with open(steps_path, "rb") as src, open(os.path.join(backup, "steps.jsonl"), "wb") as dst:
            src.seek(good)
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        with open(steps_path, "r+b") as f:
            f.truncate(good)
    return last, keep_rows, count, last_rec


def cut_summaries(folder, layers, experts, rows):
    """Summaries are a cache of loads.bin: keep whole blocks within the committed rows, drop the rest."""
    rb = summary_record_bytes(layers, experts)
    done = {}
    for s in SUMMARY_BLOCKS:
        path = os.path.join(folder, summary_file(s))
        blocks = rows // s
        if os.path.exists(path):
            on_disk = max(0, (os.path.getsize(path) - HEADER_BYTES) // rb)
            keep = min(on_disk, blocks)
            with open(path, "r+b") as f:
                f.truncate(HEADER_BYTES + keep * rb)
            done[s] = keep
        else:
            done[s] = None
    return done
