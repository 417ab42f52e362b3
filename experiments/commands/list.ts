/** `egym list`. */
import type { Argv } from 'yargs';
import { listEnvs } from '../../envs/registry.js';
import { listAgents } from '../../agents/index.js';
import { out } from './common.js';

export const listCommand = (cli: Argv): Argv =>
  cli.command(
    'list [what]',
    'List the registered envs or agents (id, description, source; oracles marked)',
    (y) =>
      y
        .positional('what', { choices: ['envs', 'agents'] as const, default: 'envs' as const, describe: 'what to list' })
        .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
        .example('$0 list envs', 'the env table')
        .example('$0 list agents', 'the agents and the papers they implement'),
    (a) => {
      if (a.what === 'agents') {
        const agents = listAgents();
        if (a.json) return out(JSON.stringify(agents, null, 2));
        for (const g of agents) out(`${(g.id + (g.oracle ? ' [oracle]' : '')).padEnd(28)}${g.description}\n${''.padEnd(28)}source: ${g.source}`);
        return;
      }
      const envs = listEnvs();
      if (a.json) return out(JSON.stringify(envs, null, 2));
      for (const e of envs) out(`${e.id.padEnd(28)}${e.description}\n${''.padEnd(28)}source: ${e.source}`);
    },
  );
