/**
 * The device kit (scripts/device-kit.mjs, scripts/device-run.sh): built away from this checkout's node_modules, it
 * runs `egym bench dense` and `egym bench agents` from its one-file bundle, with the wasm backend and (where an
 * adapter exists: Chromium's SwiftShader here, see webgpu.test.ts) the webgpu backend reached through the
 * stand-ins of their package names. Built without Node (--no-node: it is this machine's binary, 23 MiB
 * compressed, the same one the test runs) and without the Vulkan loader's package (--no-gl: no apt-get).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWIFTSHADER_ICD, VULKAN_LOADER } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
// The kit carries Linux x64's dawn.node only.
const ADAPTER = process.platform === 'linux' && process.arch === 'x64' && !!SWIFTSHADER_ICD && !!VULKAN_LOADER;
if (!ADAPTER) console.log('device kit: the webgpu part is not checked here (no SwiftShader ICD or Vulkan loader on linux x64); the wasm part is');

describe('device kit', () => {
  it('builds, and its bundle runs both benchmarks away from node_modules, wasm and webgpu included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-kit-'));
    try {
      const kit = join(dir, 'kit');
      const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'device-kit.mjs'), '--out', kit, '--no-node', '--no-gl'], { encoding: 'utf8', timeout: 180_000 });
      expect(build.status, build.stderr).toBe(0);
      expect(build.stdout).toMatch(/device-kit: wrote .* MiB\) without node/);
      for (const f of ['egym.mjs.xz', 'run.mjs', 'tfjs-backend-wasm-simd.wasm', 'node_modules/webgpu/dist/linux-x64/dawn.node.xz', 'node_modules/@tensorflow/tfjs-backend-webgpu/index.js']) {
        expect(existsSync(join(kit, f)), f).toBe(true);
      }
      const out = join(dir, 'out');
      const run = spawnSync('bash', [join(ROOT, 'scripts', 'device-run.sh')], {
        encoding: 'utf8',
        timeout: 300_000,
        cwd: dir,
        env: {
          ...process.env,
          KIT: kit,
          OUT: out,
          NODE_BIN: process.execPath,
          XDG_RUNTIME_DIR: tmpdir(),
          DENSE_ARGS: '--batches 256 --seconds 0.05',
          AGENTS_ARGS: '--user-steps 128 --num-envs 64',
          ...(ADAPTER ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD! } : {}),
        },
      });
      const log = readFileSync(join(out, 'log.txt'), 'utf8');
      expect(run.status, log).toBe(0);
      expect(log).toMatch(/== done; files in /);
      const dense = JSON.parse(readFileSync(join(out, 'dense.json'), 'utf8')) as { rows: { backend: string; batch: number; msPerStep: number }[]; skipped: string[] };
      expect(dense.rows.filter((r) => r.backend === 'wasm').map((r) => r.batch)).toEqual([256]);
      if (ADAPTER) expect(dense.rows.filter((r) => r.backend === 'webgpu').map((r) => r.batch), log).toEqual([256]);
      for (const r of dense.rows) expect(r.msPerStep).toBeGreaterThan(0);
      const agents = JSON.parse(readFileSync(join(out, 'agents.json'), 'utf8')) as { rows: { agent: string; env: string; backend: string }[] };
      expect(agents.rows.map((r) => `${r.agent} ${r.env} ${r.backend}`).sort()).toEqual(
        ['ppo interest-evolution-v0 wasm', 'ppo retention-v0 wasm', 'slateq interest-evolution-v0 wasm', 'slateq retention-v0 wasm'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown option, a folder that is not a kit, and a run without a kit, with exit code 2', () => {
    const bad = spawnSync(process.execPath, [join(ROOT, 'scripts', 'device-kit.mjs'), '--nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --nope \(options: --out DIR, --no-node, --no-gl\)/);
    const dir = mkdtempSync(join(tmpdir(), 'egym-kit-'));
    try {
      // A folder that is not a kit is never replaced: its files stay.
      writeFileSync(join(dir, 'keep.txt'), 'mine');
      const over = spawnSync(process.execPath, [join(ROOT, 'scripts', 'device-kit.mjs'), '--out', dir, '--no-node', '--no-gl'], { encoding: 'utf8' });
      expect(over.status).toBe(2);
      expect(over.stderr).toMatch(/exists and is not a device kit \(no \.egym-device-kit in it\); give --out a new or empty folder/);
      expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
      const run = spawnSync('bash', [join(ROOT, 'scripts', 'device-run.sh')], { encoding: 'utf8', cwd: dir, env: { ...process.env, KIT: join(dir, 'none'), OUT: join(dir, 'out') } });
      expect(run.status).toBe(2);
      expect(run.stdout).toMatch(/device-run: no kit at .*none \(node scripts\/device-kit.mjs builds it\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
