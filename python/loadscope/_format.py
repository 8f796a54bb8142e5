"""Binary layouts of a Loadscope run folder (docs/run-format.md, version 1): loads.bin and its summaries."""
import struct
import zlib

import numpy as np

FORMAT_VERSION = 1
HEADER_BYTES = 64
LOADS_MAGIC = b"LSLOADS1"
SUMMARY_MAGIC = b"LSLSUM01"
DTYPE_FLOAT32 = 1
SUMMARY_BLOCKS = (16, 256)


def summary_file(block_rows):
    return "loads.sum%d.bin" % block_rows


def loads_header(layers, experts, ideal_load):
    head = LOADS_MAGIC + struct.pack("<IIIId", FORMAT_VERSION, layers, experts, DTYPE_FLOAT32, float(ideal_load))
    return head.ljust(HEADER_BYTES, b"\0")


def parse_loads_header(buf):
    """(layers, experts, dtype, ideal) of a loads.bin header, or None when it is not one."""
    if len(buf) < HEADER_BYTES or buf[:8] != LOADS_MAGIC:
        return None
    _version, layers, experts, dtype, ideal = struct.unpack_from("<IIIId", buf, 8)
    return layers, experts, dtype, ideal


def summary_header(layers, experts, block_rows):
    return (SUMMARY_MAGIC + struct.pack("<IIII", FORMAT_VERSION, layers, experts, block_rows)).ljust(HEADER_BYTES, b"\0")


def loads_record_bytes(layers, experts):
    return 8 + layers * experts * 4


def summary_record_bytes(layers, experts):
    return 12 + layers * experts * 8 + 4


def seal(body):
    """body followed by the little-endian CRC-32 (zlib/IEEE) of its bytes."""
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def record_ok(rec):
    return len(rec) >= 4 and zlib.crc32(rec[:-4]) & 0xFFFFFFFF == struct.unpack_from("<I", rec, len(rec) - 4)[0]


def loads_record(step, loads_le):
    """u32 step | L·E float32 loads, layer-major | u32 crc32."""
    return seal(struct.pack("<I", step) + np.ascontiguousarray(loads_le, dtype="<f4").tobytes())


def summary_record(block, first_step, last_step, total, peak, rows):
    """u32 block | u32 first | u32 last | per layer (E × f32 mean, E × f32 max) | u32 crc32."""
    mean = (total / rows).astype("<f4")
    body = np.concatenate([mean, peak.astype("<f4")], axis=1)  # [L, 2E]: means then maxima, per layer
    return seal(struct.pack("<III", block, first_step, last_step) + body.tobytes())


class SummaryLevel:
    """Running mean / max of one block size; emits a record per complete block."""

    def __init__(self, layers, experts, block_rows, blocks_done=0):
        self.block_rows = block_rows
        self.blocks = blocks_done
        self.total = np.zeros((layers, experts), dtype=np.float64)
        self.peak = np.full((layers, experts), -np.inf, dtype=np.float32)
        self.rows = 0
        self.first = 0

    def add(self, step, loads):
        if self.rows == 0:
            self.first = step
        self.total += loads
        np.maximum(self.peak, loads, out=self.peak)
        self.rows += 1
        if self.rows < self.block_rows:
            return None
        rec = summary_record(self.blocks, self.first, step, self.total, self.peak, self.rows)
        self.blocks += 1
        self.rows = 0
        self.total.fill(0)
        self.peak.fill(-np.inf)
        return rec


def max_vio_layers(loads, ideal):
    """MaxVio of every layer: (max_e load − ideal) / ideal, as src/shared/metrics.ts (ideal 0: each layer's mean)."""
    loads = np.asarray(loads, dtype=np.float64)
    if ideal <= 0:
        ideal_l = loads.mean(axis=1)
    else:
        ideal_l = np.full(loads.shape[0], float(ideal))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (loads.max(axis=1) - ideal_l) / ideal_l
    return np.where(ideal_l > 0, v, 0.0)
