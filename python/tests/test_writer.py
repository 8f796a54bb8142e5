"""RunWriter against the format in docs/run-format.md, read back with struct (not with the writer's own code)."""
import json
import os
import struct
import sys
import tempfile
import unittest
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from loadscope import LockHeld, RunWriter  # noqa: E402


def read_loads(folder):
    with open(os.path.join(folder, "loads.bin"), "rb") as f:
        data = f.read()
    assert data[:8] == b"LSLOADS1"
    version, L, E, dtype, ideal = struct.unpack_from("<IIIId", data, 8)
    rb = 8 + L * E * 4
    rows = []
    for off in range(64, len(data) - rb + 1, rb):
        rec = data[off : off + rb]
        assert zlib.crc32(rec[:-4]) == struct.unpack_from("<I", rec, rb - 4)[0]
        rows.append((struct.unpack_from("<I", rec)[0], np.frombuffer(rec[4:-4], "<f4").reshape(L, E)))
    return (version, L, E, dtype, ideal), rows


def lines(folder, name):
    with open(os.path.join(folder, name)) as f:
        return [json.loads(l) for l in f]


class WriterFormat(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "ext-1")

    def tearDown(self):
        self.tmp.cleanup()

    def test_hand_worked_step(self):
        # 2 layers × 4 experts, top-2, 8 tokens: ideal = 8·2/4 = 4 slots per expert
        loads = [[6, 2, 4, 4], [4, 4, 4, 4]]
        with RunWriter(self.dir, 2, 4, 2, tokens_per_step=8, name="hand") as w:
            self.assertTrue(os.path.exists(os.path.join(self.dir, "writer.lock")))
            w.log_step(1, loads, loss=2.5)
            w.log_eval(1, valLoss=2.0, valPerplexity=7.39)
        header, rows = read_loads(self.dir)
        self.assertEqual(header, (1, 2, 4, 1, 4.0))
        self.assertEqual(rows[0][0], 1)
        np.testing.assert_array_equal(rows[0][1], loads)
        step = lines(self.dir, "steps.jsonl")[0]
        # MaxVio layer 0 = (6 − 4) / 4 = 0.5, layer 1 = 0; mean 0.25
        self.assertEqual(step, {"step": 1, "loss": 2.5, "maxVio": 0.25, "avgMaxVio": 0.25, "supMaxVio": 0.25})
        meta = json.load(open(os.path.join(self.dir, "meta.json")))
        self.assertEqual((meta["name"], meta["status"], meta["source"], meta["framework"]), ("hand", "completed", "external", "pytorch"))
        cfg = json.load(open(os.path.join(self.dir, "config.json")))
        self.assertEqual(cfg["model"], {"layers": 2, "experts": 4, "topK": 2})
        self.assertEqual((cfg["tokensPerStep"], cfg["loadsCounted"]), (8, "before-drop"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "writer.lock")))

    def test_summaries_hold_block_mean_and_max(self):
        with RunWriter(self.dir, 1, 2, 1, tokens_per_step=10) as w:
            for s in range(1, 18):
                w.log_step(s, [[s, 10 - s]])
        with open(os.path.join(self.dir, "loads.sum16.bin"), "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"LSLSUM01")
        self.assertEqual(struct.unpack_from("<IIII", data, 8), (1, 1, 2, 16))
        self.assertEqual(len(data), 64 + 12 + 16 + 4)  # one complete block of 16 rows; row 17 waits for its block
        block, first, last = struct.unpack_from("<III", data, 64)
        mean0, mean1, max0, max1 = struct.unpack_from("<4f", data, 76)
        self.assertEqual((block, first, last), (0, 1, 16))
        self.assertAlmostEqual(mean0, 8.5)  # mean of 1..16
        self.assertAlmostEqual(mean1, 1.5)  # mean of 9..−6
        self.assertEqual((max0, max1), (16.0, 9.0))

    def test_lock_refuses_a_second_writer_and_close_keeps_the_name(self):
        w = RunWriter(self.dir, 1, 2, 1, tokens_per_step=2, name="first name")
        with self.assertRaises(LockHeld):
            RunWriter(self.dir, 1, 2, 1, tokens_per_step=2)
        w.log_step(1, [[1, 1]])
        w.close()
        self.assertEqual(json.load(open(os.path.join(self.dir, "meta.json")))["name"], "first name")

    def test_restart_after_a_torn_tail_keeps_history(self):
        w = RunWriter(self.dir, 1, 2, 1, tokens_per_step=2, name="torn")
        for s in range(1, 21):
            w.log_step(s, [[s, 2]])
        # a kill: step 21's loads record is written (with a bad checksum) plus half of the next, its line half
        w._loads.write(b"\x15\0\0\0" + b"\0" * 12 + b"\x16\0\0\0\0")
        w._loads.flush()
        w._steps.write(b'{"step": 21, "lo')
        w._steps.flush()
        # the process dies here: the lock stays, naming a pid that no longer runs
        with open(w._lock_path, "w") as f:
            json.dump({"pid": 2 ** 22 + 12345, "host": __import__("socket").gethostname(), "startedAt": ""}, f)
        size_before = os.path.getsize(os.path.join(self.dir, "loads.bin"))
        with RunWriter(self.dir, 1, 2, 1, tokens_per_step=2) as w2:
            self.assertEqual(w2.last_step, 20)
            w2.log_step(21, [[21, 2]])
        _, rows = read_loads(self.dir)
        self.assertEqual([s for s, _ in rows], list(range(1, 22)))
        self.assertEqual([r[0][0] for _, r in rows], list(range(1, 22)))
        steps = lines(self.dir, "steps.jsonl")
        self.assertEqual([l["step"] for l in steps], list(range(1, 22)))
        # the running AvgMaxVio continues across the restart: ideal 1, loads [s, 2] → MaxVio max(s, 2) − 1
        self.assertAlmostEqual(steps[-1]["avgMaxVio"], sum(max(s, 2) - 1 for s in range(1, 22)) / 21)
        self.assertEqual(steps[-1]["supMaxVio"], 20)
        self.assertEqual(json.load(open(os.path.join(self.dir, "meta.json")))["name"], "torn")
        # the torn bytes were moved, not deleted: a valid loads.bin of the cut record, and the half line
        backups = os.listdir(os.path.join(self.dir, "backup"))
        self.assertEqual(len(backups), 1)
        b = os.path.join(self.dir, "backup", backups[0])
        self.assertTrue(backups[0].startswith("after-step-20-"))
        self.assertEqual(os.path.getsize(os.path.join(b, "loads.bin")), 64 + (size_before - 64 - 20 * 16))
        self.assertEqual(open(os.path.join(b, "steps.jsonl")).read(), '{"step": 21, "lo')
        # the 16-row summary was rebuilt consistently: block 0 covers steps 1..16
        with open(os.path.join(self.dir, "loads.sum16.bin"), "rb") as f:
            data = f.read()
        self.assertEqual(struct.unpack_from("<III", data, 64), (0, 1, 16))

    def test_refuses_steps_that_do_not_grow_and_bad_shapes(self):
        with RunWriter(self.dir, 1, 2, 1, tokens_per_step=2) as w:
            w.log_step(5, [[1, 1]])
            with self.assertRaises(ValueError):
                w.log_step(5, [[1, 1]])
        with self.assertRaises(ValueError):
            RunWriter(self.dir, 2, 2, 1, tokens_per_step=2)  # the folder holds 1×2 loads
        with self.assertRaises(ValueError):
            RunWriter(os.path.join(self.tmp.name, "big"), 300, 8, 2, tokens_per_step=2)


if __name__ == "__main__":
    unittest.main()
