/**
 * Checks policies/expf.ts against the wasm backend's own Exp kernel on every one of the 2^32 float32 inputs, bit
 * for bit (NaN payloads included), in chunks of 2^22 (issue 9, item 4).
 *
 * `npx tsx experiments/probe-expf.ts` (about 90 s here) prints the chunks checked so far and ends with the count
 * of inputs whose results differ; it exits 1 if any does.
 */
import { expfArray } from '../policies/expf.js';
import { initBackend, runOwnWasmKernel, tf } from '../policies/backend.js';

await initBackend('wasm');
const C = 1 << 22;
const x = new Float32Array(C);
const bits = new Uint32Array(x.buffer);
const ours = new Float32Array(C);
const oursBits = new Uint32Array(ours.buffer);
let differ = 0;
for (let c = 0; c < 2 ** 32 / C; c++) {
  for (let i = 0; i < C; i++) bits[i] = c * C + i;
  const xt = tf.tensor1d(x);
  const yt = runOwnWasmKernel('Exp', xt);
  const y = yt.dataSync() as Float32Array;
  tf.dispose([xt, yt]);
  expfArray(x, ours, C);
  const theirs = new Uint32Array(y.buffer, y.byteOffset, C);
  for (let i = 0; i < C; i++) {
    if (theirs[i] === oursBits[i]) continue;
    if (differ++ < 10) console.log(`differs at ${x[i]}: backend ${y[i]}, expf.ts ${ours[i]}`);
  }
  if (c % 128 === 127) console.log(`${(c + 1) * C} inputs checked, ${differ} differ`);
}
console.log(`every float32 input: ${differ} of ${2 ** 32} results differ`);
process.exitCode = differ === 0 ? 0 : 1;
