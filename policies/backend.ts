/**
 * The TensorFlow.js backend layer: picks the fastest backend available at run time and reports it.
 *
 * Order (`auto`): `tensorflow-gpu` (@tensorflow/tfjs-node-gpu, CUDA), `tensorflow` (@tensorflow/tfjs-node),
 * `wasm` (@tensorflow/tfjs-backend-wasm, SIMD, one thread in Node), `cpu` (pure JS). The two native packages
 * are optional peer dependencies: a plain `npm ci` never downloads libtensorflow; a user with a CUDA machine
 * runs `npm install @tensorflow/tfjs-node-gpu` and gets the GPU path. Measured facts behind this module
 * (../shared/reference/deps-probe.md): wasm trains about 10x faster than cpu with a custom dense gradient
 * ({@link dense}); wasm's gradient of `gather` is missing and `gather` with batchDims returns wrong values,
 * so pick log-probabilities with oneHot x logSoftmax; wasm threads do not work in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailable, InvalidArgument } from '../envs/errors.js';

import { BACKEND_CHOICES, type BackendChoice, type BackendName } from './backend-choices.js';
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
}

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

/**
 * Select a backend (once per process; later calls with the same request return the same info). `auto`
 * walks the order above; a named backend that is not available is an error naming what is installed.
 */
export async function initBackend(requested: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(requested)) {
    throw new InvalidArgument(`backend must be one of ${BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(requested)}`);
  }
  if (current && (requested === 'auto' || requested === current.name)) return current;
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
      if (native) {
        await tryImport(cand === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
        if (!(await tf.setBackend('tensorflow'))) throw new BackendUnavailable('setBackend(tensorflow) returned false');
      } else {
        if (cand === 'wasm') await tryImport('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend(cand))) throw new BackendUnavailable(`setBackend(${cand}) returned false`);
      }
      await tf.ready();
      attempts.push({ candidate: cand, ok: true });
      current = { requested, name: cand, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, attempts };
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
      : `backend "${requested}" is not available (${why}); install ${requested === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : requested === 'tensorflow' ? '@tensorflow/tfjs-node' : 'the package'} or use --backend auto`,
  );
}

/** The backend in use, or null before initBackend. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/**
 * Dense layer x W + b with a hand-written gradient that avoids matMul with a transposed operand (14x slower
 * on wasm): dx = dy (W^T), dW = (x^T) dy, db = sum(dy), with explicit transposes.
 */
export const dense = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, W]);
  return {
    value: tf.add(tf.matMul(x, W), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sW] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, tf.transpose(sW)), tf.matMul(tf.transpose(sx), dy), tf.sum(dy, 0)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, W: tf.Variable | tf.Tensor, b: tf.Variable | tf.Tensor) => tf.Tensor2D;

/**
 * The same dense layer for a data input (no gradient needed with respect to x: it gets zeros), which saves the
 * dy W^T product on the widest matrices of a network (the first layer over all candidates).
 */
export const denseData = tf.customGrad(((x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.add(tf.matMul(x, W), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx] = saved as [tf.Tensor2D];
      return [tf.zerosLike(sx), tf.matMul(tf.transpose(sx), dy), tf.sum(dy, 0)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, W: tf.Variable | tf.Tensor, b: tf.Variable | tf.Tensor) => tf.Tensor2D;

export { tf };
