#!/usr/bin/env node
// Builds .device-kit/: what `egym bench dense` and `egym bench agents` need on a GPU machine that has no Node, no
// npm registry and no network (the device tool's machines), small enough to travel with the working tree (64 MiB
// in all, this repository included). Issue 9, item 6: measure where a GPU overtakes wasm.
//
//   node scripts/device-kit.mjs            # here, after npm ci: writes .device-kit/ (git-ignored), about 30 MiB
//   bash scripts/device-run.sh             # there (device tool: carry [".device-kit"]): writes $OUT
//
// The kit holds:
//   node.xz          this machine's Node binary (it links only glibc and libstdc++), xz-compressed
//   egym.mjs.xz      the egym command bundled into one ES module by esbuild (tsx's own dependency), with
//                    @tensorflow/tfjs-backend-wasm and -webgpu imported up front so that they register on the
//                    bundle's one copy of tfjs-core; the library imports them by name when a backend starts, so
//                    node_modules/ holds stand-ins of those two names that hand back the bundled modules
//   *.wasm           the wasm backend's binaries, beside the bundle, where its loader looks
//   node_modules/webgpu/   the webgpu package with Linux x64's dawn.node only (xz-compressed; Dawn's prebuilt
//                    Node addon: WebGPU on Vulkan)
//   gl/*.deb         the Vulkan loader (libvulkan1), which Dawn needs and that machine may lack; unpacked there
//                    by device-run.sh (apt-get download here: the OS package manager works on this machine)
// tensorflow-gpu is not in the kit: @tensorflow/tfjs-node-gpu's install downloads libtensorflow for CUDA from
// storage.googleapis.com, which that machine cannot reach, and no registry package ships it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Options (for its test, test/experiments/device-kit.test.ts): --out DIR, --no-node (device-run.sh then runs the
// kit with $NODE_BIN), --no-gl (no apt-get download).
const args = process.argv.slice(2);
const known = ['--out', '--no-node', '--no-gl'];
for (let i = 0; i < args.length; i++) {
  if (!known.includes(args[i])) {
    console.error(`device-kit: unknown option ${args[i]} (options: --out DIR, --no-node, --no-gl)`);
    process.exit(2);
  }
  if (args[i] === '--out') i++;
}
const outAt = args.indexOf('--out');
if (outAt >= 0 && !args[outAt + 1]) {
  console.error('device-kit: --out needs a folder');
  process.exit(2);
}
const kit = outAt >= 0 ? resolve(args[outAt + 1]) : join(root, '.device-kit');
const require = createRequire(join(root, 'package.json'));

function xz(src, dst) {
  execFileSync('sh', ['-c', `xz -T2 -9 -c "$1" > "$2"`, 'xz', src, dst], { stdio: 'inherit' });
}

// A folder is only replaced when it is an earlier kit (its marker file) or empty: --out must not wipe anything else.
const MARKER = '.egym-device-kit';
if (existsSync(kit) && readdirSync(kit).length > 0 && !existsSync(join(kit, MARKER))) {
  console.error(`device-kit: ${kit} exists and is not a device kit (no ${MARKER} in it); give --out a new or empty folder`);
  process.exit(2);
}
rmSync(kit, { recursive: true, force: true });
mkdirSync(kit, { recursive: true });
writeFileSync(join(kit, MARKER), 'written by scripts/device-kit.mjs; the folder is replaced when the kit is built again\n');

// The bundle: the CLI, with both optional backends bundled in.
const entry = join(kit, 'entry.mjs');
writeFileSync(
  entry,
  [
    "import * as wasm from '@tensorflow/tfjs-backend-wasm';",
    "import * as webgpu from '@tensorflow/tfjs-backend-webgpu';",
    "globalThis.__egymKit = { '@tensorflow/tfjs-backend-wasm': wasm, '@tensorflow/tfjs-backend-webgpu': webgpu };",
    `export { main } from ${JSON.stringify(join(root, 'experiments/cli.ts'))};`,
    '',
  ].join('\n'),
);
const esbuild = require('esbuild');
await esbuild.build({
  entryPoints: [entry],
  absWorkingDir: root,
  nodePaths: [join(root, 'node_modules')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(kit, 'egym.mjs'),
  // Native or browser-driving packages that the dense and agents benchmarks do not load.
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'playwright', 'playwright-core', 'tsx', 'tsx/*'],
  // CommonJS code inside an ES module bundle: give it require, __filename and __dirname (the bundle's own, so that
  // the wasm loader finds the .wasm files beside it).
  define: { __dirname: '__kit_dirname', __filename: '__kit_filename' },
  banner: {
    js: "import { createRequire as __kitRequire } from 'node:module'; import { fileURLToPath as __kitPath } from 'node:url'; import { dirname as __kitDir } from 'node:path'; const require = __kitRequire(import.meta.url); const __kit_filename = __kitPath(import.meta.url); const __kit_dirname = __kitDir(__kit_filename);",
  },
  logLevel: 'error',
});
rmSync(entry);
writeFileSync(join(kit, 'run.mjs'), "import { main } from './egym.mjs';\nprocess.exitCode = await main(process.argv.slice(2));\n");
for (const name of ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']) {
  const d = join(kit, 'node_modules', name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name, version: '0.0.0-bundled', type: 'module', main: 'index.js' }) + '\n');
  // The library reads WebGPUBackend from the webgpu backend's module.
  writeFileSync(
    join(d, 'index.js'),
    `// ${name} is bundled into ../../egym.mjs (scripts/device-kit.mjs); this stand-in lets its import by name resolve to it.\n` +
      `const m = globalThis.__egymKit[${JSON.stringify(name)}];\nexport const WebGPUBackend = m.WebGPUBackend;\nexport default m;\n`,
  );
}
const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(kit, f));

// webgpu: its loader and Linux x64's addon.
const webgpuDir = dirname(require.resolve('webgpu/package.json'));
const wg = join(kit, 'node_modules', 'webgpu');
mkdirSync(join(wg, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md']) copyFileSync(join(webgpuDir, f), join(wg, f));
xz(join(webgpuDir, 'dist', 'linux-x64', 'dawn.node'), join(wg, 'dist', 'linux-x64', 'dawn.node.xz'));

// Node itself, and the bundle, compressed.
if (!args.includes('--no-node')) xz(process.execPath, join(kit, 'node.xz'));
xz(join(kit, 'egym.mjs'), join(kit, 'egym.mjs.xz'));
rmSync(join(kit, 'egym.mjs'));

// The Vulkan loader.
const gl = join(kit, 'gl');
mkdirSync(gl);
if (!args.includes('--no-gl')) {
  try {
    execFileSync('apt-get', ['download', 'libvulkan1'], { cwd: gl, stdio: 'inherit' });
  } catch {
    console.error('device-kit: apt-get download libvulkan1 failed (run apt-get update first); the kit has no Vulkan loader');
  }
}

const size = (p) => (statSync(p).isDirectory() ? readdirSync(p).reduce((s, f) => s + size(join(p, f)), 0) : statSync(p).size);
console.log(`device-kit: wrote ${kit} (${(size(kit) / 2 ** 20).toFixed(1)} MiB)${existsSync(join(kit, 'node.xz')) ? '' : ' without node'}`);
