/** `egym pipeline`. */
import type { Argv } from 'yargs';
import { join } from 'node:path';
import { envSpec } from '../../envs/registry.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../policies/backend-choices.js';
import type { ModelKind } from '../../agents/supervised/models.js';
import { checkOutFile, checkSeed, out, tfjsParts, UsageError } from './common.js';
import { withSetupProgress } from '../../agents/setup-progress.js';
import { machineInfo, writeJsonAtomic } from '../bench-envs.js';

export const pipelineCommand = (cli: Argv): Argv =>
  cli.command(
    'pipeline',
    'Run the supervised baseline pipeline (log, preprocess, train, test) and report AUC next to the Bayes-optimal AUC',
    (y) =>
      y
        .option('env', { type: 'string', default: 'retention-v0' })
        .option('model', { choices: ['logistic', 'mlp', 'gru'] as const, default: 'mlp' as const })
        .option('users', { type: 'number', default: 600, describe: 'users logged by a uniform random policy' })
        .option('seed', { type: 'number', default: 5, describe: 'population seed of the logged users' })
        .option('epochs', { type: 'number', default: 20 })
        .option('batch-size', { type: 'number', default: 128 })
        .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'TensorFlow.js backend' })
        .option('out', { type: 'string', describe: 'also write the report as JSON to this file, with the command and the wall time (e.g. results/bench/pipeline-mlp.json)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 pipeline --model logistic --users 300', 'a quick logistic-regression baseline')
        .example('$0 pipeline --out results/bench/pipeline-mlp.json', "the README's pipeline table, MLP row"),
    async (a) => {
      envSpec(a.env);
      if (!Number.isInteger(a.users) || a.users < 10) throw new UsageError('pipeline: --users must be an integer >= 10');
      checkSeed('pipeline', a.seed);
      checkOutFile('pipeline', a.out);
      const started = performance.now(); // clock-ok: the wall time the --out file reports
      const { agentBackend, runPipeline } = await tfjsParts();
      const backend = await agentBackend(a.backend);
      // Progress from the first second: the logged user-steps as they run (then the models are fitted).
      if (!a.json) process.stderr.write(`pipeline: logging ${a.users} users of ${a.env} with uniform random slates, then fitting the ${a.model} click and watch-time models\n`);
      let logged = 0;
      let shown = 0;
      let fitted = 0;
      let fitShown = 0;
      const p = await withSetupProgress(
        (n) => {
          logged += n;
          if (!a.json && logged - shown >= 20_000) {
            shown = logged;
            process.stderr.write(`  logged ${logged} user-steps\n`);
          }
        },
        async () =>
          runPipeline({
            envId: a.env,
            users: a.users,
            seed: a.seed,
            behaviour: null,
            epsilon: 1,
            model: a.model as ModelKind,
            watchModel: true,
            hidden: 128,
            gruUnits: 32,
            epochs: a.epochs,
            batchSize: a['batch-size'],
            lr: 1e-3,
            patience: 3,
            fractions: { train: 0.7, val: 0.15 },
            trainSeed: 1,
          }),
        (share) => {
          fitted += share;
          if (!a.json && fitted - fitShown >= 0.1 - 1e-9) {
            fitShown = fitted;
            process.stderr.write(`  models fitted: ${Math.round(100 * Math.min(1, fitted))}% (epochs up to --epochs ${a.epochs}; early stopping may end sooner)\n`);
          }
        },
      );
      const { click, watch, ...r } = p.report;
      if (a.out) {
        const command = `npx egym pipeline --env ${a.env} --model ${a.model} --users ${a.users} --seed ${a.seed} --epochs ${a.epochs} --batch-size ${a['batch-size']} --backend ${a.backend} --out ${a.out}`;
        const wallSeconds = (performance.now() - started) / 1000; // clock-ok
        writeJsonAtomic(a.out, { command, env: a.env, model: a.model, users: a.users, seed: a.seed, backend: backend.name, wallSeconds, machine: machineInfo(), ...p.report });
      }
      if (a.json) return out(JSON.stringify({ backend: backend.name, ...p.report }, null, 2));
      out(
        [
          `supervised pipeline on ${a.env}: ${a.model}, backend ${backend.name}`,
          `impressions ${r.impressions} (train ${r.trainImpressions}, validation ${r.valImpressions}, test ${r.testImpressions}); click rate ${r.clickRate.toFixed(3)}`,
          `click model: test AUC ${r.testAuc.toFixed(4)} (Bayes-optimal ${r.bayesAuc === null ? 'n/a: no choice model' : r.bayesAuc.toFixed(4)}), log-loss ${r.testLogLoss.toFixed(4)}; ${click.epochs} epochs, best ${click.bestEpoch}`,
          `watch-time model: test RMSE ${r.watchRmse?.toFixed(3)} minutes${watch ? `; ${watch.epochs} epochs, best ${watch.bestEpoch}` : ''}`,
        ].join('\n'),
      );
    },
  );
