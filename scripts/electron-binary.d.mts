// Types of scripts/electron-binary.mjs for the tests that import it.
export function electronBinary(): string | null;
export function installElectron(timeoutMs?: number): Promise<{ ok: true } | { ok: false; reason: string }>;
