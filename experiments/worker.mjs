// Cell worker entry from the TypeScript sources (a worker thread or a child process): tsx's loader does not reach
// worker threads on Node 20, nor a forked child started without it, so register it here first.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
