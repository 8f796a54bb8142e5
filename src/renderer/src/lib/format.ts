// Number, duration and byte formatting for tables, tooltips and the expert inspector.

export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2);
  if (Number.isInteger(x)) return String(x);
  return a >= 100 ? x.toFixed(1) : x.toFixed(digits);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** How one byte token reads to a person: printable ASCII as itself, whitespace and the rest escaped. */
export function byteLabel(b: number): string {
  if (b === 32) return '␣'; // U+2423 OPEN BOX: in DejaVu Sans, unlike U+2420 (tests/e2e/fonts.spec.ts)
  if (b === 10) return '\\n';
  if (b === 9) return '\\t';
  if (b === 13) return '\\r';
  if (b === 92) return '\\\\';
  if (b > 32 && b < 127) return String.fromCharCode(b);
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

export function dateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
