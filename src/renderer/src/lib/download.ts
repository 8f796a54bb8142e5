// Save a chart PNG (data URL) or a series (text → Blob) through a temporary <a download>.

export function downloadUrl(filename: string, url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function downloadText(filename: string, mime: string, content: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: mime }));
  downloadUrl(filename, url);
  // the click has started the download; the URL can go once the event loop turns
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** File-name-safe form of a run name or id. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'chart';
}
