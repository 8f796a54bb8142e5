// A growable binary min-heap of (key, token) pairs on typed arrays, used by the exact routing solver.

export class MinHeap {
  keys: Float64Array;
  vals: Int32Array;
  size = 0;

  constructor(capacity = 8) {
    this.keys = new Float64Array(Math.max(1, capacity));
    this.vals = new Int32Array(Math.max(1, capacity));
  }

  push(key: number, val: number): void {
    if (this.size === this.keys.length) this.grow();
    let i = this.size++;
    const keys = this.keys;
    const vals = this.vals;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      vals[i] = vals[parent]!;
      i = parent;
    }
    keys[i] = key;
    vals[i] = val;
  }

  /** Append without ordering; call heapify() once after a batch of these. */
  append(key: number, val: number): void {
    if (this.size === this.keys.length) this.grow();
    this.keys[this.size] = key;
    this.vals[this.size++] = val;
  }

  heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  pop(): void {
    const last = --this.size;
    if (last > 0) {
      this.keys[0] = this.keys[last]!;
      this.vals[0] = this.vals[last]!;
      this.siftDown(0);
    }
  }

  private siftDown(start: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const n = this.size;
    const key = keys[start]!;
    const val = vals[start]!;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= key) break;
      keys[i] = keys[child]!;
      vals[i] = vals[child]!;
      i = child;
    }
    keys[i] = key;
    vals[i] = val;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const vals = new Int32Array(this.vals.length * 2);
    vals.set(this.vals);
    this.keys = keys;
    this.vals = vals;
  }
}
