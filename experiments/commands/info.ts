/** `egym info`. */
import type { Argv } from 'yargs';
import { join } from 'node:path';
import { envSpec, listEnvs, make } from '../../envs/registry.js';
import { describeAllowed, type ParamSpec } from '../../envs/params.js';
import { agentSpec, listAgents } from '../../agents/index.js';
import { out, UsageError } from './common.js';

/** One entry per parameter: name, allowed values and default, then its description. */
function printParams(specs: readonly ParamSpec[]): void {
  for (const p of specs) out(`  ${p.name.padEnd(22)}${describeAllowed(p)}, default ${JSON.stringify(p.default)}\n  ${''.padEnd(22)}${p.description}`);
}

export const infoCommand = (cli: Argv): Argv =>
  cli.command(
    'info <id>',
    'Describe an env (parameters with ranges and defaults, spaces) or an agent (source, parameters)',
    (y) =>
      y
        .positional('id', { type: 'string', demandOption: true, describe: 'env id (retention-v0) or agent id (ppo)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 info retention-v0', 'parameters and spaces of the flagship env')
        .example('$0 info slateq', "SlateQ's parameters"),
    (a) => {
      if (listAgents().some((g) => g.id === a.id)) {
        const g = agentSpec(a.id as string);
        if (a.json) return out(JSON.stringify({ id: g.id, description: g.description, source: g.source, oracle: g.oracle, params: g.params.specs }, null, 2));
        out(`${g.id}${g.oracle ? ' [oracle]' : ''}: ${g.description}\nsource: ${g.source}\n\nparameters:`);
        printParams(g.params.specs);
        return;
      }
      if (!listEnvs().some((e) => e.id === a.id) && !/-v\d+$/.test(String(a.id))) {
        throw new UsageError(`info: ${JSON.stringify(a.id)} is neither an env nor an agent; envs: ${listEnvs().map((e) => e.id).join(', ')}; agents: ${listAgents().map((g) => g.id).join(', ')}`);
      }
      const spec = envSpec(a.id as string);
      const env = make(spec.id);
      if (a.json) {
        return out(JSON.stringify({ id: spec.id, description: spec.description, source: spec.source, params: spec.params.specs, card: spec.card, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, null, 2));
      }
      out(`${spec.id}: ${spec.description}\nsource: ${spec.source}\n\nparameters:`);
      printParams(spec.params.specs);
      out(`\nobservation: ${env.observationSpace.describe()}\naction: ${env.actionSpace.describe()}`);
    },
  );
