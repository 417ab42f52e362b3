// Worker-thread entry: tsx's loader does not reach worker threads on Node 20, so register it here first.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
