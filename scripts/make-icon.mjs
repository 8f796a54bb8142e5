// Writes build/icon.png, the app icon (1024 × 1024, what electron-builder needs for every platform: macOS
// wants ≥ 512, Windows' .ico is made from it): an expert × step load heatmap on a rounded dark tile.
// No image library: the PNG is assembled by hand (IHDR, one zlib-compressed IDAT, IEND) with node:zlib.
// Run: node scripts/make-icon.mjs
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 1024;
const GRID = 8; // 8 experts × 8 steps
const MARGIN = 96;
const GAP = 12;
const RADIUS = 180;

// load ÷ ideal per cell: a deterministic pattern (hash of the cell), one hot expert drifting over steps
function load(expert, step) {
  const h = Math.sin(expert * 12.9898 + step * 78.233) * 43758.5453;
  const noise = h - Math.floor(h);
  const hot = expert === (step * 3) % GRID ? 1.6 : 0;
  return 0.35 + noise * 0.9 + hot;
}

// the app's colour scale: blue (under-loaded) → grey (ideal) → orange-red (over-loaded)
function colour(ratio) {
  const stops = [[0.3, [33, 136, 221]], [1, [140, 120, 150]], [2, [250, 80, 40]]];
  if (ratio <= stops[0][0]) return stops[0][1];
  for (let i = 1; i < stops.length; i++) {
    const [x1, c1] = stops[i];
    const [x0, c0] = stops[i - 1];
    if (ratio <= x1) return c0.map((v, k) => Math.round(v + ((c1[k] - v) * (ratio - x0)) / (x1 - x0)));
  }
  return stops[stops.length - 1][1];
}

function insideRounded(x, y, x0, y0, x1, y1, r) {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

const rgba = Buffer.alloc(SIZE * SIZE * 4); // transparent outside the tile
const cell = (SIZE - 2 * MARGIN - (GRID - 1) * GAP) / GRID;
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    if (!insideRounded(x + 0.5, y + 0.5, 16, 16, SIZE - 16, SIZE - 16, RADIUS)) continue;
    let c = [24, 28, 38];
    const gx = x - MARGIN;
    const gy = y - MARGIN;
    if (gx >= 0 && gy >= 0 && gx < SIZE - 2 * MARGIN && gy < SIZE - 2 * MARGIN) {
      const step = Math.floor(gx / (cell + GAP));
      const expert = Math.floor(gy / (cell + GAP));
      const inCell = gx - step * (cell + GAP) < cell && gy - expert * (cell + GAP) < cell;
      if (inCell && step < GRID && expert < GRID) c = colour(load(expert, step));
    }
    rgba.set([...c, 255], (y * SIZE + x) * 4);
  }
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

// each scanline starts with filter type 0 (none)
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) rgba.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
writeFileSync('build/icon.png', png);
console.log(`build/icon.png: ${SIZE} × ${SIZE}, ${png.length} bytes`);
