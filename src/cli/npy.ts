// A small reader for NumPy .npy files: little-endian float32/float64, C order, any rank (callers check the rank).
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

export interface NpyArray {
  dtype: 'float32' | 'float64';
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Parse a .npy buffer; throws an Error whose message names the problem (wrong dtype, order, truncated data …). */
export function parseNpy(buf: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b)) throw new Error('not a .npy file (missing \\x93NUMPY magic)');
  const major = buf[6]!;
  if (major < 1 || major > 3) throw new Error(`unsupported .npy format version ${major}.${buf[7]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  if (buf.length < dataStart) throw new Error('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`malformed .npy header: ${header.trim()}`);
  let dtype: NpyArray['dtype'];
  if (descr === '<f4') dtype = 'float32';
  else if (descr === '<f8') dtype = 'float64';
  else throw new Error(`unsupported dtype '${descr}': expected little-endian float32 ('<f4') or float64 ('<f8'); convert with arr.astype(np.float32)`);
  if (fortran === 'True') throw new Error('Fortran-ordered array: save a C-ordered one (np.ascontiguousarray)');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`malformed shape (${shapeText}) in .npy header`);

  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = dtype === 'float32' ? 4 : 8;
  if (buf.length - dataStart < count * bytes) throw new Error(`truncated .npy data: shape (${shape.join(', ')}) needs ${count * bytes} bytes, file has ${buf.length - dataStart}`);
  // copy into a fresh, aligned buffer: writers pad the header to 64 or 16 bytes or not at all (any length is
  // legal), and a Node Buffer's slice() is a view, not a copy
  const raw = new Uint8Array(count * bytes);
  raw.set(buf.subarray(dataStart, dataStart + count * bytes));
  const data = dtype === 'float32' ? new Float32Array(raw.buffer, 0, count) : new Float64Array(raw.buffer, 0, count);
  return { dtype, shape, data };
}

/** Write a little-endian C-ordered .npy (version 1.0); used by tests and the bench to make fixtures. */
export function encodeNpy(data: Float32Array | Float64Array, shape: number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
