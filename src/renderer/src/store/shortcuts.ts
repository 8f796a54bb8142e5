// Keyboard shortcuts: one keydown listener; views add keys while mounted (the newest handler of a key wins).
import { onScopeDispose, ref } from 'vue';

export interface Shortcut {
  key: string;
  /** shown in the help overlay */
  label: string;
  run: () => void;
}

const active: Shortcut[] = [];
export const helpOpen = ref(false);

/** The shortcuts in effect now, for the help overlay (one per key, newest first). */
export function currentShortcuts(): Shortcut[] {
  const seen = new Set<string>();
  return [...active].reverse().filter((s) => (seen.has(s.key) ? false : (seen.add(s.key), true)));
}

export function useShortcuts(list: Shortcut[]): void {
  active.push(...list);
  onScopeDispose(() => {
    for (const s of list) active.splice(active.indexOf(s), 1);
  });
}

function typingInto(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export function keyName(e: KeyboardEvent): string {
  if (e.key === ' ') return 'Space';
  return e.key.length === 1 ? e.key.toLowerCase() : e.key;
}

window.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  const key = keyName(e);
  if (key === 'Escape') {
    if (helpOpen.value) helpOpen.value = false;
    return;
  }
  if (typingInto(e.target)) return;
  // buttons would also "click" on Space; the shortcut owns it
  const s = currentShortcuts().find((x) => x.key === key || (key === '/' && e.shiftKey && x.key === '?'));
  if (!s) return;
  e.preventDefault();
  s.run();
});
