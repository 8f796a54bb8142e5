// WebGPU in Node: the `webgpu` package (Dawn) as navigator.gpu, adapter facts, and the SwiftShader switch.
//
// Shims (docs/gpu.md explains each):
//   - navigator.gpu and the GPU* globals (GPUBufferUsage, GPUMapMode…) that tfjs-backend-webgpu reads
//     from the browser's global scope come from `webgpu`'s create() and globals.
//   - VK_ICD_FILENAMES must be in the MAIN thread's process.env before Dawn is first loaded: the Vulkan
//     loader reads the real environment, which a worker thread's env copy does not change. So the process
//     that spawns engine workers calls preferSoftwareVulkan() first (only with LOADSCOPE_WEBGPU_SOFTWARE=1).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AdapterInfo } from '../../shared/reports';

/** Where Debian's chromium ships SwiftShader's Vulkan ICD (chromium-common), plus the dpkg file lists. */
export function findSwiftShaderIcd(): string | null {
  const known = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];
  for (const p of known) if (existsSync(p)) return p;
  for (const pkg of ['chromium-common', 'chromium']) {
    try {
      const files = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const hit = files.split('\n').find((f) => f.endsWith('vk_swiftshader_icd.json'));
      if (hit && existsSync(hit)) return hit;
    } catch {
      // no dpkg or package not installed: try the next
    }
  }
  return null;
}

export const softwareWebGpuAllowed = (): boolean => process.env.LOADSCOPE_WEBGPU_SOFTWARE === '1';

/** With LOADSCOPE_WEBGPU_SOFTWARE=1 and no VK_ICD_FILENAMES of the user's, point Vulkan at SwiftShader. */
export function preferSoftwareVulkan(): void {
  if (!softwareWebGpuAllowed() || process.env.VK_ICD_FILENAMES) return;
  const icd = findSwiftShaderIcd();
  if (icd) process.env.VK_ICD_FILENAMES = icd;
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; adapterType?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/** SwiftShader, Dawn's 'cpu' adapter type, and fallback adapters are software (CPU emulation). */
export function describeAdapter(adapter: GpuAdapterLike): AdapterInfo {
  const i = adapter.info ?? {};
  const text = `${i.vendor ?? ''} ${i.architecture ?? ''} ${i.description ?? ''} ${i.device ?? ''}`;
  const software = adapter.isFallbackAdapter === true || i.isFallbackAdapter === true || i.adapterType === 'cpu' || /swiftshader|llvmpipe|lavapipe/i.test(text);
  return { vendor: i.vendor || 'unknown', architecture: i.architecture || 'unknown', description: (i.description || i.device || '').trim(), software };
}

let installed = false;

/** Install navigator.gpu from `webgpu` and return the adapter it offers, or null (reason in `why`). */
export async function probeWebGpu(): Promise<{ ok: true; info: AdapterInfo } | { ok: false; why: string }> {
  let mod: { create: (opts: string[]) => unknown; globals: Record<string, unknown> };
  try {
    const spec = 'webgpu'; // a variable keeps bundlers from inlining the native binding
    mod = (await import(/* @vite-ignore */ spec)) as typeof mod;
  } catch (err) {
    return { ok: false, why: `webgpu package: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  const g = globalThis as unknown as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<unknown> } } };
  if (!installed) {
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]) as NonNullable<typeof g.navigator>['gpu'];
    // Node ≥ 21 has a read-only navigator: define gpu on it; Node 20 has none
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    installed = true;
  }
  let adapter: unknown;
  try {
    adapter = await g.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, why: `requestAdapter failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!adapter) return { ok: false, why: 'no WebGPU adapter (no Vulkan/Metal/D3D12 driver found)' };
  return { ok: true, info: describeAdapter(adapter as GpuAdapterLike) };
}

/**
 * For an explicit `webgpu` choice, before anything is written: null when the engine worker will find a
 * usable adapter, else one line saying why not (no adapter, or only a software one without the variable).
 * Runs in the process that spawns the workers, so VK_ICD_FILENAMES is set first (see the top of this file).
 */
export async function webgpuUnavailable(): Promise<string | null> {
  preferSoftwareVulkan();
  const probe = await probeWebGpu();
  if (!probe.ok) return `--backend webgpu: ${probe.why}`;
  const { info } = probe;
  if (info.software && !softwareWebGpuAllowed()) {
    return `--backend webgpu: only a software adapter (${info.vendor} ${info.architecture}) was found; set LOADSCOPE_WEBGPU_SOFTWARE=1 to train on it anyway (tests)`;
  }
  return null;
}
