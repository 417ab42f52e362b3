#!/usr/bin/env node
// The egym command: registers the TypeScript loader (tsx), then runs the CLI in experiments/cli.ts.
import { register } from 'tsx/esm/api';

register();
// A closed pipe (egym list | head) is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../experiments/cli.ts');
process.exitCode = await main(process.argv.slice(2));
