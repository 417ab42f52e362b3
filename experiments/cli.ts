/**
 * The egym command line (yargs): one module a command in experiments/commands/. Errors print one line and exit
 * non-zero (stack traces with --verbose).
 */
import yargs, { type Argv } from 'yargs';
import { exitCodeOf } from '../envs/errors.js';
import { UsageError } from './commands/common.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { sweepCommand } from './commands/sweep.js';
import { exportPolicyCommand } from './commands/export-policy.js';
import { reportCommand } from './commands/report.js';
import { mergeCommand } from './commands/merge.js';
import { compareCommand } from './commands/compare.js';
import { reproduceCommand } from './commands/reproduce.js';
import { infoCommand } from './commands/info.js';
import { checkEnvCommand } from './commands/check-env.js';
import { benchCommand } from './commands/bench.js';
import { pipelineCommand } from './commands/pipeline.js';
import { calibrateCommand } from './commands/calibrate.js';
import { demoCommand } from './commands/demo.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';

export { readSpecFile, REPRODUCTIONS } from './commands/common.js';

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const verbose = argv.includes('--verbose');
  const cli: Argv = yargs(argv)
    .scriptName('egym')
    .usage('$0 <command> [options]\n\nengagement-gym: user simulators, agents and experiments for long-horizon engagement in recommender systems.');
  // One module a command (experiments/commands/).
  for (const add of [listCommand, runCommand, sweepCommand, exportPolicyCommand, reportCommand, compareCommand, mergeCommand, reproduceCommand, infoCommand, checkEnvCommand, benchCommand, pipelineCommand, calibrateCommand, demoCommand, serveCommand, workerCommand]) add(cli);
  cli
    .option('verbose', { type: 'boolean', default: false, describe: 'print stack traces on errors' })
    .demandCommand(1, 'name a command (see egym --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`egym: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(err.stack + '\n');
    // Usage errors: bad flags, an invalid spec, or an env or agent id that does not exist (the same in every command).
    code = exitCodeOf(err);
  }
  // A handler that ended without an error may have set its own code (3: a merge with cells missing; 130: an
  // interrupted run): the caller assigns the returned code to process.exitCode, so carry it through.
  if (code === 0 && typeof process.exitCode === 'number') code = process.exitCode;
  return code;
}
