/** Test helpers: small statistics used to compare simulators with their closed forms; where a WebGPU test finds an adapter. */
import { existsSync } from 'node:fs';

export function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

export function sdOf(x: ArrayLike<number>): number {
  const m = meanOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / (x.length - 1));
}

/** Mean and normal-approximation 95% CI (n is large in every use). */
export function meanCi(x: ArrayLike<number>): { mean: number; lo: number; hi: number } {
  const m = meanOf(x);
  const h = (1.959964 * sdOf(x)) / Math.sqrt(x.length);
  return { mean: m, lo: m - h, hi: m + h };
}

/** z statistic of an observed count against the sum of Bernoulli probabilities. */
export function countZ(observed: number, probs: number[]): number {
  let e = 0;
  let v = 0;
  for (const p of probs) {
    e += p;
    v += p * (1 - p);
  }
  return (observed - e) / Math.sqrt(v);
}

/**
 * What a WebGPU test runs on without a GPU: Chromium's SwiftShader ICD (a software Vulkan; SWIFTSHADER_ICD names
 * another) and the Vulkan loader (libvulkan1, which .ci/run installs); each null where it is missing.
 */
export const SWIFTSHADER_ICD = ['/usr/lib/chromium/vk_swiftshader_icd.json', process.env.SWIFTSHADER_ICD ?? ''].find((p) => p && existsSync(p)) ?? null;
export const VULKAN_LOADER = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1'].find((p) => existsSync(p)) ?? null;
