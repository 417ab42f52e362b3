/**
 * The TensorFlow.js backend names, apart from policies/backend.ts so that listing and validating them (the CLI,
 * agent params) does not load TensorFlow.js: the CLI starts without it and loads it with the first agent that
 * needs it.
 */
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly BackendChoice[];
