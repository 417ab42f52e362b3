/**
 * The TensorFlow.js backend layer: picks the fastest backend available at run time and reports it.
 *
 * Order (`auto`): `tensorflow-gpu` (@tensorflow/tfjs-node-gpu, CUDA), `tensorflow` (@tensorflow/tfjs-node),
 * `wasm` (@tensorflow/tfjs-backend-wasm, SIMD, one thread in Node), `cpu` (pure JS). The two native packages are
 * optional peer dependencies: a plain `npm ci` never downloads libtensorflow; a user with a CUDA machine runs
 * `npm install @tensorflow/tfjs-node-gpu` and gets that GPU path.
 *
 * `webgpu` (@tensorflow/tfjs-backend-webgpu on Dawn: the `webgpu` package's prebuilt dawn.node, optional peer
 * dependencies too) starts when asked for by name, and `auto` never picks it: in Node it can only read results
 * back asynchronously (see {@link WEBGPU_SYNC_READS}), and the agents act synchronously, so no agent runs on it.
 * `egym bench dense` measures it against wasm on the networks' dense layers, reading asynchronously.
 *
 * Measured facts behind this module (../shared/reference/deps-probe.md): wasm trains about 10x faster than cpu
 * with a custom dense gradient ({@link dense}); wasm's gradient of `gather` is missing and `gather` with
 * batchDims returns wrong values, so pick log-probabilities with oneHot x logSoftmax; the package does not start
 * its threaded build in Node (experiments/probe-wasm-threads.ts starts it by hand: at most 1.3x on PPO's training
 * step here, so the default build stays).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BackendUnavailable, InvalidArgument } from '../envs/errors.js';

import { BACKEND_CHOICES, type BackendChoice, type BackendName } from './backend-choices.js';
import { KERNELS_WASM_BASE64 } from './wasm-kernels.js';
import { expfArray } from './expf.js';
export { BACKEND_CHOICES, type BackendChoice, type BackendName };

export interface BackendInfo {
  /** What was asked for. */
  requested: BackendChoice;
  /** The backend in use. */
  name: BackendName;
  /** tfjs's own backend name ('tensorflow' for both native packages). */
  tfBackend: string;
  tfjsVersion: string;
  attempts: { candidate: BackendName; ok: boolean; error?: string }[];
  /** The GPU adapter, when the backend is webgpu. */
  adapter?: WebGpuAdapterInfo;
}

/** What 'auto' resolved to, once probed (the best backend that starts here). */
let autoChoice: BackendInfo | null = null;
let current: BackendInfo | null = null;
let quieted = false;

/** Silence tfjs's console banners ("install the node backend"...) in normal output. */
function quiet(): void {
  if (quieted) return;
  quieted = true;
  tf.enableProdMode();
  // The cpu backend prints its "Hi, looks like you are running TensorFlow.js in Node.js" banner through
  // console.warn the first time it is used; drop exactly that message.
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
    warn(...args);
  };
}

// Silence the banners from the moment tfjs is loaded (a tensor made before initBackend must not print one).
quiet();

async function tryImport(spec: string): Promise<unknown> {
  // A variable specifier keeps tsc from resolving optional packages that are not installed.
  return import(spec);
}

/** What Dawn reports of an adapter (GPUAdapterInfo; `isFallbackAdapter` where Dawn has it). */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (CPU): lavapipe, SwiftShader. */
  software: boolean;
}

/** Library folders where a Linux program finds the Vulkan loader (LD_LIBRARY_PATH first). */
function vulkanLoaderPath(): string | null {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64', '/usr/local/lib'];
  for (const d of dirs) if (existsSync(join(d, 'libvulkan.so.1'))) return join(d, 'libvulkan.so.1');
  return null;
}

type Gpu = { requestAdapter(o?: Record<string, unknown>): Promise<GpuAdapter | null> };
type GpuAdapter = { info?: Record<string, unknown>; isFallbackAdapter?: boolean; features: Set<string>; limits: Record<string, number>; requestDevice(d: Record<string, unknown>): Promise<unknown> };
let gpu: Gpu | null = null;

/**
 * The WebGPU adapter Dawn finds here, or a BackendUnavailable that says exactly why there is none: the optional
 * packages are not installed; on Linux, no Vulkan loader (Dawn reaches GPUs through Vulkan; without the loader it
 * finds nothing); or Dawn enumerated no adapter. Checked before dawn.node loads, so a machine without Vulkan
 * prints nothing.
 */
export async function webgpuAdapter(): Promise<{ adapter: GpuAdapter; info: WebGpuAdapterInfo }> {
  if (process.platform === 'linux' && !vulkanLoaderPath()) {
    throw new BackendUnavailable('no Vulkan loader (libvulkan.so.1) on this machine: Dawn reaches a GPU on Linux through Vulkan; install the OS package libvulkan1 and the GPU vendor\'s Vulkan driver (NVIDIA: its driver\'s Vulkan ICD; a CPU-only test: mesa-vulkan-drivers)');
  }
  let mod: { create: (flags: string[]) => Gpu; globals: Record<string, unknown> };
  try {
    mod = (await tryImport('webgpu')) as typeof mod;
    await tryImport('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw new BackendUnavailable(`the optional packages webgpu and @tensorflow/tfjs-backend-webgpu are not installed or do not load here (${String((e as Error).message).split('\n')[0]}); npm install webgpu @tensorflow/tfjs-backend-webgpu@4.22.0`);
  }
  // The WebGPU constants (GPUBufferUsage, GPUMapMode, GPUShaderStage...) that the backend reads as globals.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  gpu ??= mod.create([]);
  // tfjs's WebGPU backend looks for navigator.gpu (a browser's); Node 20 has no navigator, Node 21+ one without gpu.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) g.navigator = { gpu };
  else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new BackendUnavailable('Dawn found no WebGPU adapter (the Vulkan loader is there, but no Vulkan driver offers a device)');
  const i = adapter.info ?? {};
  const str = (k: string) => (typeof i[k] === 'string' ? (i[k] as string) : '');
  const software = adapter.isFallbackAdapter === true || i.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|software/i.test(`${str('device')} ${str('description')} ${str('architecture')}`);
  return { adapter, info: { vendor: str('vendor'), architecture: str('architecture'), device: str('device'), description: str('description'), software } };
}

let webgpuInfo: WebGpuAdapterInfo | null = null;

/**
 * Why no agent runs on webgpu in Node. tfjs-backend-webgpu reads a tensor synchronously (dataSync, which every
 * agent's act() uses: the env loop is synchronous, Gymnasium-style) by drawing the GPU buffer into an
 * OffscreenCanvas, a browser API that Node lacks; and WebGPU itself has no synchronous read (mapAsync only), whose
 * completion dawn.node delivers through Node's event loop, which a synchronous wait would block.
 */
export const WEBGPU_SYNC_READS =
  'the webgpu backend reads GPU results only asynchronously in Node (tfjs-backend-webgpu reads synchronously through OffscreenCanvas, a browser API; WebGPU has only mapAsync), and the agents act synchronously; use wasm, tensorflow or tensorflow-gpu for agents, and egym bench dense to measure webgpu';

/** The backend an agent or the supervised pipeline trains on: initBackend, except that webgpu is refused up front. */
export async function agentBackend(requested: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (requested === 'webgpu') throw new BackendUnavailable(`backend "webgpu" cannot run agents: ${WEBGPU_SYNC_READS}`);
  return initBackend(requested);
}

/** Register tfjs's WebGPU backend on Dawn's adapter (its own registration looks for a browser's navigator.gpu). */
async function startWebgpu(): Promise<void> {
  const { adapter, info } = await webgpuAdapter();
  const wg = (await tryImport('@tensorflow/tfjs-backend-webgpu')) as { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
  if (!tf.findBackendFactory('webgpu')) {
    tf.registerBackend('webgpu', async () => {
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      return new wg.WebGPUBackend(device, adapter.info);
    }, 0);
  }
  webgpuInfo = info;
  if (!(await tf.setBackend('webgpu'))) throw new BackendUnavailable('setBackend(webgpu) returned false');
}

/**
 * Three of the wasm backend's kernels are registered again, once per process, computing the same values faster:
 * - Identity and same-type Cast copy their input into a new buffer; the cpu backend's share it (one more
 *   reference to the same data, as the wasm backend's own Reshape does). TensorFlow.js tensors are immutable, so
 *   sharing changes no value, and the copies cost: during a gradient computation the engine clones every tensor
 *   it saves for the backward pass (Identity), and the ReLU's gradient casts its float32 mask to float32: in one
 *   PPO update on retention-v0 the clones came to about 1.2 GB (experiments/probe-ppo-kernels.ts counts them).
 *   String tensors and casts to another type keep the copying kernel.
 * - Exp of a float32 tensor runs `expfArray` (policies/expf.ts: the backend's own expf, bit for bit, as a JS loop
 *   over the heap, about twice as fast as the backend's per-element calls); other dtypes keep the backend's kernel.
 */
let sharing = false;
type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
const ownKernels = new Map<string, tf.KernelFunc>();
function shareOnWasm(): void {
  if (sharing) return;
  sharing = true;
  const share = (x: Info, backend: unknown): Info => {
    (backend as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  type HeapBackend = { makeOutput(shape: number[], dtype: tf.DataType): Info; typedArrayFromHeap(x: Info): Float32Array };
  const replacements: Record<string, (args: Parameters<tf.KernelFunc>[0], own: tf.KernelFunc) => ReturnType<tf.KernelFunc>> = {
    Identity: (args, own) => {
      const x = args.inputs.x as unknown as Info;
      return x.dtype === 'string' ? own(args) : share(x, args.backend);
    },
    Cast: (args, own) => {
      const x = args.inputs.x as unknown as Info;
      return x.dtype === 'string' || (args.attrs as { dtype: tf.DataType }).dtype !== x.dtype ? own(args) : share(x, args.backend);
    },
    Exp: (args, own) => {
      const x = args.inputs.x as unknown as Info;
      if (x.dtype !== 'float32') return own(args);
      const backend = args.backend as unknown as HeapBackend;
      const out = backend.makeOutput(x.shape, 'float32');
      const n = tf.util.sizeFromShape(x.shape);
      // Views after the allocation (it may grow the heap).
      if (n > 0) expfArray(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), n);
      return out;
    },
  };
  for (const [name, replacement] of Object.entries(replacements)) {
    const own = tf.getKernel(name, 'wasm');
    if (!own) continue;
    ownKernels.set(name, own.kernelFunc);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...own,
      kernelFunc: (args) => replacement(args, own.kernelFunc),
    });
  }
}

/**
 * Run the wasm backend's own kernel that shareOnWasm replaced, on one input (for the tests and probes that compare
 * the two); BackendUnavailable when the wasm backend has not started or has no such kernel.
 */
export function runOwnWasmKernel(name: 'Identity' | 'Cast' | 'Exp', x: tf.Tensor, attrs: tf.NamedAttrMap = {}): tf.Tensor {
  const own = ownKernels.get(name);
  if (!own || tf.getBackend() !== 'wasm') throw new BackendUnavailable(`the wasm backend's own ${name} kernel is not available (start the wasm backend first)`);
  return tf.engine().makeTensorFromTensorInfo(own({ inputs: { x }, backend: tf.backend(), attrs }) as tf.TensorInfo);
}

/**
 * Select a backend (once per process; later calls with the same request return the same info). `auto`
 * walks the order above; a named backend that is not available is an error naming what is installed.
 */
export async function initBackend(requested: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(requested)) {
    throw new InvalidArgument(`backend must be one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(requested)}`);
  }
  // 'auto' is the best backend that starts here, the same one whatever an earlier cell of this process asked for:
  // it once returned the current backend, so that after an agent with backend 'cpu' every later 'auto' agent of the
  // same worker process ran on cpu too, and results depended on which cells a worker had run before.
  if (requested === 'auto' && autoChoice) {
    if (current?.name !== autoChoice.name) {
      if (!(await tf.setBackend(autoChoice.tfBackend))) throw new BackendUnavailable(`setBackend(${autoChoice.tfBackend}) returned false`);
      await tf.ready();
      current = autoChoice;
    }
    return current;
  }
  if (current && requested === current.name) return current;
  quiet();
  const order: BackendName[] = requested === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [requested];
  const attempts: BackendInfo['attempts'] = [];
  let nativeBroken = false;
  for (const cand of order) {
    const native = cand === 'tensorflow' || cand === 'tensorflow-gpu';
    if (native && nativeBroken) {
      attempts.push({ candidate: cand, ok: false, error: 'skipped: the other native package failed to load' });
      continue;
    }
    try {
      if (cand === 'webgpu') {
        await startWebgpu();
      } else if (native) {
        await tryImport(cand === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
        if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailable('setBackend(tensorflow) returned false');
      } else {
        if (cand === 'wasm') {
          await tryImport('@tensorflow/tfjs-backend-wasm');
          shareOnWasm();
        }
        if (!(await tf.setBackend(cand))) throw new BackendUnavailable(`setBackend(${cand}) returned false`);
      }
      await tf.ready();
      attempts.push({ candidate: cand, ok: true });
      current = { requested, name: cand, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, attempts, ...(cand === 'webgpu' && webgpuInfo ? { adapter: webgpuInfo } : {}) };
      if (requested === 'auto') autoChoice = current;
      return current;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      if (native && err.code !== 'ERR_MODULE_NOT_FOUND') nativeBroken = true;
      attempts.push({ candidate: cand, ok: false, error: String(err.message ?? e).split('\n')[0] });
    }
  }
  const why = attempts.map((a) => `${a.candidate}: ${a.error}`).join('; ');
  throw new BackendUnavailable(
    requested === 'auto'
      ? `no TensorFlow.js backend could start (${why})`
      : `backend "${requested}" is not available (${why}); ${requested === 'webgpu' ? 'fix what it names' : `install ${requested === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : requested === 'tensorflow' ? '@tensorflow/tfjs-node' : 'the package'}`} or use --backend auto`,
  );
}

/** The backend in use, or null before initBackend. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/** What the two helpers below use of the wasm backend: its tensors' places in its heap (as its own kernels do). */
interface WasmInternals {
  dataIdMap?: { get(id: object): { memoryOffset?: number | null } | undefined };
  wasm?: { HEAPU8?: Uint8Array; asm?: { memory?: unknown } };
  /** A new tensor's storage on the heap, not initialized (what the backend's own kernels write their outputs to). */
  makeOutput?: (shape: number[], dtype: 'float32') => tf.TensorInfo;
}

/** policies/kernels.wat's exports (see there). */
interface Kernels {
  atb(a: number, b: number, out: number, R: number, C: number, H: number): void;
  colsum(x: number, out: number, R: number, C: number): void;
  colsums(x: number, out: number, B: number, R: number, C: number): void;
  amv(a: number, w: number, out: number, R: number, C: number): void;
  relugrad(dy: number, x: number, out: number, n: number): void;
  addrelu(u: number, c: number, out: number, B: number, N: number, H: number): void;
}
/** The parts of the WebAssembly JS API used here (this project's lib has no DOM types, which declare it). */
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let kernelModule: object | null = null;
const kernelsByMemory = new WeakMap<object, Kernels | null>();

/**
 * policies/kernels.wat instantiated on the wasm backend's own memory (imported, so its kernels work on the
 * backend's tensors in place), once per memory; null on other backends and on a memory it cannot import.
 */
function wasmKernels(): Kernels | null {
  if (tf.getBackend() !== 'wasm') return null;
  const memory = (tf.backend() as unknown as WasmInternals).wasm?.asm?.memory;
  if (!(memory instanceof WA.Memory)) return null;
  let k = kernelsByMemory.get(memory);
  if (k === undefined) {
    kernelModule ??= new WA.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
    try {
      k = new WA.Instance(kernelModule, { env: { memory } }).exports as unknown as Kernels;
    } catch {
      // A memory the module cannot import (the threaded build's shared one): the backend's own kernels then.
      k = null;
    }
    kernelsByMemory.set(memory, k);
  }
  return k;
}

/** Where the wasm backend keeps a float32 tensor's values (a byte address in its heap); null elsewhere. */
function wasmOffset(x: tf.Tensor): number | null {
  if (x.dtype !== 'float32' || tf.getBackend() !== 'wasm') return null;
  const offset = (tf.backend() as unknown as WasmInternals).dataIdMap?.get(x.dataId)?.memoryOffset;
  return typeof offset === 'number' ? offset : null;
}

/**
 * A float32 tensor's values where the wasm backend keeps them, as a view into its heap (no copy); null on
 * other backends. dataSync() would copy them into a new ArrayBuffer on every call (a training step's worth of
 * garbage for V8 to collect). The view is valid until the next allocation in the heap (a new tensor may move it):
 * read it before making one.
 */
function wasmValues(x: tf.Tensor): Float32Array | null {
  const offset = wasmOffset(x);
  const heap = offset === null ? undefined : (tf.backend() as unknown as WasmInternals).wasm?.HEAPU8;
  return offset === null || !heap ? null : new Float32Array(heap.buffer, offset, x.size);
}

/** A scratch buffer for results on their way into a wasm tensor (the backend copies them at once). */
let scratch = new Float32Array(0);

/**
 * The transpose of a float32 matrix. On wasm it is done here, in cache-sized tiles, instead of by the backend's
 * general n-dimensional Transpose kernel, which was about 3x slower on the [1024, D] inputs of the supervised
 * models' first layer (a quarter of their training time). It moves values only, so the result is the same.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const d = wasmValues(x);
  if (d === null) return tf.transpose(x);
  const [R, C] = x.shape;
  if (scratch.length < R * C) scratch = new Float32Array(R * C);
  const o = scratch;
  const T = 32;
  for (let r0 = 0; r0 < R; r0 += T) {
    const r1 = Math.min(R, r0 + T);
    for (let c0 = 0; c0 < C; c0 += T) {
      const c1 = Math.min(C, c0 + T);
      for (let c = c0; c < c1; c++) {
        const oc = c * R;
        for (let r = r0, i = r0 * C + c; r < r1; r++, i += C) o[oc + r] = d[i]!;
      }
    }
  }
  return tf.tensor2d(o.subarray(0, R * C), [C, R]);
}

/**
 * The columns [from, C) of a float32 matrix [R, C] (the scorer's wide input). On wasm they are copied here, one
 * value at a time: the backend's Slice copies a non-contiguous slice a row at a time through a new subarray view
 * per row, and for the few columns of the wide part (the four item-statistic columns) making those views cost more
 * than the copying, with a young-generation object per row for V8 to collect (about 12 million in a flagship PPO
 * cell). It moves values only, so the result is the same (tested). Elsewhere tf.slice.
 */
export function lastColumns(x: tf.Tensor2D, from: number): tf.Tensor2D {
  if (from === 0) return x;
  const [R, C] = x.shape;
  const W = C - from;
  const d = wasmValues(x);
  if (d === null) return tf.slice(x, [0, from], [R, W]);
  if (scratch.length < R * W) scratch = new Float32Array(R * W);
  const o = scratch;
  for (let r = 0, i = from, k = 0; r < R; r++, i += C) for (let j = 0; j < W; j++) o[k++] = d[i + j]!;
  return tf.tensor2d(o.subarray(0, R * W), [R, W]);
}

/**
 * Run one of policies/kernels.wat's kernels on the wasm backend's heap into a new float32 tensor of `shape`, zeros
 * first for the kernels that add into their output (`zeroed`), else as the backend allocates it (the kernel writes
 * every value). `run` gets the kernels, the heap offsets of `inputs`, in order, and the output's. Null where the
 * kernels cannot run (another backend, an input not on the heap, a memory the module cannot import): the caller
 * then uses tfjs-core's operations.
 */
function onHeap(shape: number[], zeroed: boolean, inputs: tf.Tensor[], run: (k: Kernels, at: number[], out: number) => void): tf.Tensor | null {
  const k = wasmKernels();
  const at = inputs.map(wasmOffset);
  if (!k || at.some((o) => o === null)) return null;
  const make = (tf.backend() as unknown as WasmInternals).makeOutput;
  const out = zeroed ? tf.zeros(shape) : make ? tf.engine().makeTensorFromTensorInfo(make.call(tf.backend(), shape, 'float32')) : null;
  const po = out ? wasmOffset(out) : null;
  if (po === null) {
    out?.dispose();
    return null;
  }
  run(k, at as number[], po);
  return out;
}

/**
 * The column sums of a float32 matrix (the bias gradient of x W + b). On wasm they are summed by
 * policies/kernels.wat's `colsum` on the backend's heap: the backend's Sum transposes [R, C] to [C, R] first and
 * then adds each row in order, in float32; `colsum` adds the same values in the same order, each sum rounded to
 * float32 (four columns to a SIMD lane set), so the sums are bit-identical (tested), without the transpose. It
 * replaced a JS loop that did the same one value at a time (a tenth of the supervised models' training time).
 */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  const [R, C] = x.shape;
  const out = C > 1 ? onHeap([C], true, [x], (k, at, po) => k.colsum(at[0]!, po, R, C)) : null;
  return (out ?? tf.sum(x, 0)) as tf.Tensor1D;
}

/**
 * The sum of x [B, R, C] over its middle axis, [B, C]. On wasm it is policies/kernels.wat's `colsums` (the column
 * sums of each [R, C] block): the backend's Sum moves the reduced axis last with its general Transpose kernel and
 * then adds each run of R values in order from 0, in float32; `colsums` adds the same values in the same order, so
 * the sums are bit-identical (tested), without the transpose. Elsewhere tf.sum(x, 1).
 */
export function sumMiddle(x: tf.Tensor3D): tf.Tensor2D {
  const [B, R, C] = x.shape;
  const out = B > 0 && R > 0 && C > 0 ? onHeap([B, C], true, [x], (k, at, po) => k.colsums(at[0]!, po, B, R, C)) : null;
  return (out ?? tf.sum(x, 1)) as tf.Tensor2D;
}

/**
 * relu(u + c) for u [B, 1, H] broadcast over the N rows of c [B, N, H] (the scorer's first layer: the user part
 * added to each candidate's part), with the gradient tfjs-core gives relu(tf.add(u, c)): g = dy x Step(u + c),
 * which is dy x Step of the output (the output is positive, or NaN, exactly where u + c is), then g for c and g
 * summed over the N rows for u ({@link sumMiddle}). On wasm the value is policies/kernels.wat's `addrelu` (the
 * backend's float32 Add and Relu in one pass) and g its `relugrad`; the values are the same (tested), without the
 * [B, N, H] sum between the two kernels, which the backward pass no longer keeps either.
 */
export const addRelu = tf.customGrad(((u: tf.Tensor3D, c: tf.Tensor3D, save: tf.GradSaveFunc) => {
  const h = addReluValue(u, c);
  save([h]);
  return {
    value: h,
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const g = reluGrad(dy, saved[0]!) as tf.Tensor3D;
      // With one row (N 1) nothing is broadcast and u's gradient is g itself (a sum would turn -0 into +0).
      return [tf.reshape(u.shape[1] === c.shape[1] ? g : sumMiddle(g), u.shape), g];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (u: tf.Tensor3D, c: tf.Tensor3D) => tf.Tensor3D;

function addReluValue(u: tf.Tensor3D, c: tf.Tensor3D): tf.Tensor3D {
  const [B, N, H] = c.shape;
  const fits = c.size > 0 && u.shape[0] === B && u.shape[1] === 1 && u.shape[2] === H;
  const out = fits ? onHeap([B, N, H], false, [u, c], (k, at, po) => k.addrelu(at[0]!, at[1]!, po, B, N, H)) : null;
  return (out ?? tf.relu(tf.add(u, c))) as tf.Tensor3D;
}

/**
 * ReLU with the gradient tfjs-core gives it, dy x Step(x), made on wasm in one pass by policies/kernels.wat's
 * `relugrad` (the same float32 products, so the same values, tested) instead of a Step kernel, its [n] array and a
 * Multiply over the layer's activations. Elsewhere tfjs-core's own gradient.
 */
export const relu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [reluGrad(dy, saved[0]!)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const out = dy.size > 0 && dy.size === x.size ? onHeap(x.shape, false, [dy, x], (k, at, po) => k.relugrad(at[0]!, at[1]!, po, x.size)) : null;
  return out ?? tf.mul(dy, tf.step(x));
}

/**
 * (x^T) dy, the weight gradient of x W, for x [R, C] and dy [R, H]. On wasm it is policies/kernels.wat's `atb` on
 * the backend's heap: the backend's MatMul (XNNPACK) packs its second operand before multiplying, and here that
 * operand is a fresh [R, H] of every minibatch (PPO on retention-v0: the [40960, 64] candidate activations and
 * their gradient, about 30 ms a product, experiments/probe-ppo-kernels.ts), while `atb` reads them as they lie:
 * 4 and 0.4 ms as first written, 1.9 and 0.25 ms since it was blocked (results/bench/atb-blocked-probe.json).
 * XNNPACK adds each output's R products one after another in float32, each product and sum rounded on its own,
 * and `atb` does the same, so the result is bit-identical (tested on the shapes in use, against
 * matMul(transpose(x), dy)). With one output column it computes dy^T x (C 1, its four-wide lanes over x's row),
 * the same products in the same order. Elsewhere: dy^T x by a reshape for one column, else transpose and matMul.
 */
export function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [R, C] = x.shape;
  const H = dy.shape[1];
  // One output column: dy^T x, so that the kernel's four-wide lanes run over x's row.
  const [a, b, ca, cb] = H === 1 ? [dy, x, 1, C] : [x, dy, C, H];
  const out = onHeap([ca, cb], true, [a, b], (k, at, po) => k.atb(at[0]!, at[1]!, po, R, ca, cb));
  if (out) return (H === 1 ? tf.reshape(out, [C, 1]) : out) as tf.Tensor2D;
  if (H === 1) return tf.reshape(tf.matMul(tf.reshape(dy, [1, R]), x), [C, 1]);
  return tf.matMul(transpose2d(x), dy);
}

/**
 * x W. For a W of one column on wasm it is policies/kernels.wat's `amv` on the backend's heap: the backend's MatMul
 * (XNNPACK) pads the one output column to eight and computes all eight (a [40960, 64] x [64, 1] product, PPO's
 * score head over a minibatch's candidates, takes as long as [40960, 64] x [64, 8]); `amv` adds each row's products
 * in the same order from the same start (+0), each product and sum rounded on its own, so the result is bit-identical
 * (tested against matMul on the shapes in use and odd ones). Otherwise the backend's MatMul.
 */
export function product(x: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  const [R, C] = x.shape;
  const out = W.shape[1] === 1 && R > 0 && C > 0 ? onHeap([R, 1], true, [x, W], (k, at, po) => k.amv(at[0]!, at[1]!, po, R, C)) : null;
  return (out ?? tf.matMul(x, W)) as tf.Tensor2D;
}

/**
 * Dense layer x W + b with a hand-written gradient that avoids matMul with a transposed operand (14x slower
 * on wasm): dx = dy (W^T), dW = (x^T) dy ({@link weightGrad}), db = sum(dy), with explicit transposes.
 */
export const dense = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, W]);
  return {
    value: tf.add(product(x, W), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sW] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, transpose2d(sW)), weightGrad(sx, dy), columnSum(dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, W: tf.Variable | tf.Tensor, b: tf.Variable | tf.Tensor) => tf.Tensor2D;

/**
 * x W for a data input, without a bias: the gradient is (x^T) dy for W and zeros for x. The scorer's
 * candidate tower uses it (its bias lives in the user tower): a zero bias there cost an add over [B N, H] and a
 * discarded column sum of the same size in every update.
 */
export const matMulData = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: product(x, W),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx] = saved as [tf.Tensor2D];
      return [tf.zerosLike(sx), weightGrad(sx, dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, W: tf.Variable | tf.Tensor) => tf.Tensor2D;

/**
 * The same dense layer for a data input (no gradient needed with respect to x: it gets zeros), which saves the
 * dy W^T product on the widest matrices of a network (the first layer over all candidates).
 */
export const denseData = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.add(product(x, W), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx] = saved as [tf.Tensor2D];
      return [tf.zerosLike(sx), weightGrad(sx, dy), columnSum(dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, W: tf.Variable | tf.Tensor, b: tf.Variable | tf.Tensor) => tf.Tensor2D;

export { tf };
