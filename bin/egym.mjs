#!/usr/bin/env node
// The egym command. In a checkout (the TypeScript sources are there) it runs them through tsx, a development
// dependency, so an edit takes effect at once; an installed package ships no sources and runs its compiled
// JavaScript (dist/) on plain Node, with no loader.
import { existsSync } from 'node:fs';

// A closed pipe (egym list | head) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
let main;
if (existsSync(new URL('../experiments/cli.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../experiments/cli.ts'));
} else ({ main } = await import('../dist/experiments/cli.js'));
process.exitCode = await main(process.argv.slice(2));
