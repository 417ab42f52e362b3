/** `egym export-policy`. */
import type { Argv } from 'yargs';
import { existsSync, statSync } from 'node:fs';
import { type AgentCheckpoint, makeAgent, readCheckpointFile } from '../../agents/index.js';
import { out, UsageError } from './common.js';

export const exportPolicyCommand = (cli: Argv): Argv =>
  cli.command(
    'export-policy <checkpoint>',
    "Export a trained PPO policy network in TensorFlow.js's layers format (model.json + weights.bin), loadable with tf.loadLayersModel",
    (y) =>
      y
        .positional('checkpoint', { type: 'string', demandOption: true, describe: 'an agent checkpoint (egym run --save-checkpoints writes them under <run>/checkpoints/)' })
        .option('out', { type: 'string', demandOption: true, describe: 'folder for model.json and weights.bin' })
        .example('$0 export-policy results/flagship/run-x/checkpoints/ppo-seed0.json --out policy', 'the seed-0 PPO policy of a run'),
    async (a) => {
      const path = a.checkpoint as string;
      if (!existsSync(path) || statSync(path).isDirectory()) throw new UsageError(`export-policy: ${path} is not a checkpoint file`);
      let ck: AgentCheckpoint;
      try {
        ck = readCheckpointFile(path);
      } catch (e) {
        throw new UsageError(`export-policy: ${(e as Error).message}`);
      }
      if (ck?.format !== 'engagement-gym/agent') throw new UsageError(`export-policy: ${path} is not an engagement-gym agent checkpoint`);
      if (ck.agent !== 'ppo') throw new UsageError(`export-policy: ${path} is a checkpoint of agent ${ck.agent}; only ppo has one policy network to export`);
      const agent = (await makeAgent('ppo', ck.params, { envId: ck.envId, envParams: ck.envParams, seed: ck.seed })) as unknown as { load(c: AgentCheckpoint): void; exportPolicy(dir: string): Promise<{ modelJson: string; weights: string }> };
      agent.load(ck);
      const r = await agent.exportPolicy(a.out);
      out(`wrote ${r.modelJson} and ${r.weights}`);
    },
  );
