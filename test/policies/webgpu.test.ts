/**
 * The webgpu backend (Dawn, through the `webgpu` package): typed errors where it cannot start, agents refused up
 * front with the reason, and, where an adapter exists, the custom-gradient dense layer computing on it what the
 * cpu backend computes. An adapter exists here when the Vulkan loader (libvulkan1, which .ci/run installs) and a
 * Vulkan driver are present: Chromium's SwiftShader (a software Vulkan that Chromium ships) serves on a machine
 * without a GPU. Each case runs in a child process: a backend is chosen once per process.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWIFTSHADER_ICD, VULKAN_LOADER } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGES = existsSync(join(ROOT, 'node_modules', 'webgpu')) && existsSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu'));
const why = !PACKAGES ? 'the webgpu packages are not installed (npm ci installs them as devDependencies)' : !VULKAN_LOADER ? 'no Vulkan loader (apt-get install libvulkan1; .ci/run installs it)' : !SWIFTSHADER_ICD ? "no Vulkan driver to test on (Chromium's SwiftShader ICD: apt-get install chromium)" : '';
if (why) console.log(`webgpu adapter tests skipped: ${why}`);

/** Run a TypeScript snippet in a child process (tsx), with extra environment; its last stdout line is JSON. */
function child(code: string, env: Record<string, string> = {}): { status: number | null; out: unknown; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'egym-webgpu-'));
  const file = join(dir, 'case.mts');
  writeFileSync(file, code.replaceAll('@root', ROOT));
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000, cwd: ROOT, env: { ...process.env, XDG_RUNTIME_DIR: tmpdir(), ...env } });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  let out: unknown = null;
  try {
    out = JSON.parse(last);
  } catch {
    out = r.stdout;
  }
  return { status: r.status, out, stderr: r.stderr };
}

describe('webgpu backend', () => {
  it('agents refuse webgpu before anything starts, naming why (synchronous reads) and what to use', async () => {
    const { makeAgent } = await import('../../agents/index.js');
    for (const id of ['ppo', 'slateq', 'reinforce-topk']) {
      const e = await makeAgent(id, { backend: 'webgpu' }, { envId: 'interest-evolution-v0', seed: 0 }).catch((x: unknown) => x);
      expect((e as Error).name).toBe('BackendUnavailable');
      expect((e as Error).message).toMatch(/webgpu.*cannot run agents: .*asynchronously.*OffscreenCanvas.*use wasm, tensorflow or tensorflow-gpu for agents/);
    }
  });

  it('without an adapter, --backend webgpu is a typed BackendUnavailable that names what is missing; auto never tries it', () => {
    const r = child(
      `import { initBackend } from '@root/policies/backend.ts';
       const auto = await initBackend('auto');
       const e = await initBackend('webgpu').then(() => null, (x) => x);
       console.log(JSON.stringify({ auto: auto.attempts.map((a) => a.candidate), name: e?.name, message: e?.message }));`,
      { VK_ICD_FILENAMES: '/nonexistent/icd.json' },
    );
    expect(r.status).toBe(0);
    const o = r.out as { auto: string[]; name: string; message: string };
    expect(o.auto).not.toContain('webgpu');
    expect(o.name).toBe('BackendUnavailable');
    expect(o.message).toMatch(/backend "webgpu" is not available \(webgpu: (no Vulkan loader \(libvulkan\.so\.1\)|Dawn found no WebGPU adapter|the optional packages webgpu)/);
  }, 120_000);

  it.skipIf(!!why)('on an adapter (SwiftShader here), the dense layer and its gradients match the cpu backend', () => {
    const r = child(
      `import { initBackend, dense, tf } from '@root/policies/backend.ts';
       const run = async () => {
         const x = tf.tensor2d(Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i)), [6, 5]);
         const W = tf.tensor2d(Array.from({ length: 5 * 4 }, (_, i) => Math.cos(i)), [5, 4]);
         const b = tf.tensor1d([0.1, -0.2, 0.3, 0.05]);
         const f = (x, W, b) => tf.sum(tf.square(tf.relu(dense(x, W, b))));
         const [gx, gW, gb] = tf.grads(f)([x, W, b]);
         return [await f(x, W, b).data(), await gx.data(), await gW.data(), await gb.data()].map((a) => Array.from(a));
       };
       const info = await initBackend('webgpu');
       const gpu = await run();
       await initBackend('cpu');
       const cpu = await run();
       let worst = 0;
       gpu.forEach((a, i) => a.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - cpu[i][j]) / Math.max(1, Math.abs(cpu[i][j]))))));
       console.log(JSON.stringify({ adapter: info.adapter, tf: info.tfBackend, worst, n: gpu.flat().length }));`,
      { VK_ICD_FILENAMES: SWIFTSHADER_ICD ?? '' },
    );
    expect(r.status, r.stderr).toBe(0);
    const o = r.out as { adapter: { software: boolean; description: string }; tf: string; worst: number; n: number };
    expect(o.tf).toBe('webgpu');
    expect(o.adapter.software).toBe(true);
    expect(o.n).toBe(1 + 30 + 20 + 4);
    expect(o.worst).toBeLessThan(1e-4);
  }, 120_000);

  it.skipIf(!!why)('egym bench dense measures wasm and webgpu per batch size and says where webgpu overtakes', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'egym-dense-')), 'dense.json');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'egym.mjs'), 'bench', 'dense', '--backends', 'wasm', 'webgpu', '--batches', '16', '64', '--seconds', '0.05', '--out', out], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD ?? '', XDG_RUNTIME_DIR: tmpdir() } });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.rows.map((x: { backend: string; batch: number }) => `${x.backend}:${x.batch}`)).toEqual(['wasm:16', 'wasm:64', 'webgpu:16', 'webgpu:64']);
    expect(j.rows[2].device).toMatch(/software/);
    expect('webgpu' in j.overtakesWasmAt).toBe(true);
    expect(r.stdout).toMatch(/\| webgpu \| .* \| 64 \|/);
  }, 120_000);
});
