#!/usr/bin/env node
// The egym command: registers the TypeScript loader (tsx), then runs the CLI in experiments/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../experiments/cli.ts');
process.exitCode = await main(process.argv.slice(2));
