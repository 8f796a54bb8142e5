// Every non-ASCII character the UI's sources put on screen renders with a real glyph in the fonts this
// machine has (Debian: DejaVu, Liberation): each is drawn on a canvas in the UI's font and compared with
// the missing-glyph box that a private-use code point draws. Also a screenshot of the glyphs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, screenshot, test } from './fixtures';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(vue|ts)$/.test(f) ? [p] : [];
  });
}

/** non-ASCII characters outside comments in the renderer's sources */
function uiGlyphs(): string[] {
  const chars = new Set<string>();
  for (const f of sourceFiles('src/renderer/src')) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const code = line.replace(/^\s*(\/\/|\*|\/\*|<!--).*$/, '').replace(/\s\/\/ .*$/, '');
      for (const ch of code) if (ch.codePointAt(0)! > 127) chars.add(ch);
    }
  }
  return [...chars].sort();
}

test('every glyph the UI uses exists in the installed fonts', async ({ app: page }) => {
  const glyphs = uiGlyphs();
  expect(glyphs.length).toBeGreaterThan(5);
  const missing = await page.evaluate((list) => {
    // the page's DOM, typed just enough (this file compiles without the DOM library)
    interface Ctx { font: string; fillStyle: string; fillText(t: string, x: number, y: number): void }
    interface Canvas { width: number; height: number; getContext(k: '2d'): Ctx | null; toDataURL(): string }
    const { document, getComputedStyle } = globalThis as unknown as { document: { body: unknown; createElement(t: 'canvas'): Canvas }; getComputedStyle(e: unknown): { fontFamily: string } };
    const font = `16px ${getComputedStyle(document.body).fontFamily}`;
    const draw = (ch: string): string => {
      const c = document.createElement('canvas');
      c.width = 32;
      c.height = 32;
      const g = c.getContext('2d')!;
      g.font = font;
      g.fillStyle = '#000';
      g.fillText(ch, 4, 22);
      return c.toDataURL();
    };
    // two different unassigned private-use code points draw the same missing-glyph box
    const tofu = draw('\u{10FFFD}');
    if (draw('\u{10FFFC}') !== tofu) return ['(could not draw a reference missing glyph)'];
    return list.filter((ch) => draw(ch) === tofu);
  }, glyphs);
  // show them all, so the screenshot can be looked at
  await page.evaluate((list) => {
    interface El { style: { cssText: string }; textContent: string; setAttribute(k: string, v: string): void }
    const { document } = globalThis as unknown as { document: { body: { appendChild(e: El): void }; createElement(t: 'div'): El } };
    const d = document.createElement('div');
    d.setAttribute('data-testid', 'glyph-sheet');
    d.style.cssText = 'position:fixed;left:0;top:0;right:0;padding:16px;font-size:22px;background:#fff;color:#000;z-index:999;letter-spacing:6px';
    d.textContent = list.join(' ');
    document.body.appendChild(d);
  }, glyphs);
  await screenshot(page, 'glyphs');
  expect(missing, `glyphs without a font: ${missing.map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase()} ${c}`).join(', ')}`).toEqual([]);
});
