/**
 * The package as users get it: `npm pack`, installed from the tarball into a temporary project outside the
 * repository, imported from plain Node (ESM, no TypeScript loader) through the root and the subpath exports,
 * and its `egym` command run there with 2 worker threads.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (cmd: string, args: string[], cwd: string) => spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000 });

describe('the packed package, installed elsewhere', () => {
  it('ships only what users need, imports from plain Node, and runs egym (2 workers) in a fresh project', () => {
    const packDir = mkdtempSync(join(tmpdir(), 'egym-pack-'));
    const pack = run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = info[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/experiments/specs/flagship.json');
    expect(files).toContain('bin/egym.mjs');
    expect(files.filter((f) => f.startsWith('results/') || f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
    const proj = mkdtempSync(join(tmpdir(), 'egym-user-'));
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', type: 'module', private: true }));
    const inst = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packDir, info[0]!.filename)], proj);
    expect(inst.status, inst.stderr).toBe(0);
    expect(existsSync(join(proj, 'node_modules', 'tsx'))).toBe(false);
    writeFileSync(
      join(proj, 'use.mjs'),
      `import { make, makeAgent, evaluateAgent, listEnvs } from 'engagement-gym';
import { makeVec } from 'engagement-gym/envs';
import { listAgents } from 'engagement-gym/agents';
import { resolveSpec } from 'engagement-gym/experiments';
const r = make('retention-v1').reset({ seed: 1 });
const a = await makeAgent('random', {}, { envId: 'retention-v0', seed: 0 });
const o = evaluateAgent('retention-v0', {}, a, { users: 4, seed: 3 });
console.log(JSON.stringify({ envs: listEnvs().length, agents: listAgents().length, U: r.observation.user.length, B: makeVec('retention-v0', {}, { numEnvs: 2 }).numEnvs, users: o.return.length, spec: resolveSpec({ name: 'x', env: { id: 'retention-v0' }, agents: [{ id: 'random' }], seeds: 1, train: { userSteps: 0 }, final: { users: 2 } }).name }));
`,
    );
    const use = run(process.execPath, ['use.mjs'], proj);
    expect(use.status, use.stderr).toBe(0);
    expect(JSON.parse(use.stdout.trim().split('\n').pop()!)).toEqual({ envs: 7, agents: 30, U: 49, B: 2, users: 4, spec: 'x' });
    const bin = join(proj, 'node_modules', '.bin', 'egym');
    const r = run(bin, ['run', '--env', 'retention-v0', '--agent', 'random', '--agent', 'ppo', '--seeds', '1', '--user-steps', '256', '--users', '6', '--workers', '2', '--out', 'out'], proj);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/report: out\/report\.html/);
    expect(readdirSync(join(proj, 'out', 'cells')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(2);
    const man = JSON.parse(readFileSync(join(proj, 'out', 'manifest.json'), 'utf8')) as { packageVersion: string; tfjsVersion: string };
    expect(man.packageVersion).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(man.tfjsVersion).toMatch(/^\d+\.\d+\.\d+$/);
    // Plugins: a custom agent and a custom env (the README's), by --import and by a spec's modules, on 2 workers.
    for (const f of ['my-agent.mjs', 'my-env.mjs']) writeFileSync(join(proj, f), readFileSync(join(ROOT, 'test', 'fixtures', f), 'utf8'));
    const p1 = run(bin, ['run', '--import', './my-agent.mjs', '--import', './my-env.mjs', '--env', 'coin-v0', '--agent', 'random', 'my-quality-greedy', '--seeds', '2', '--user-steps', '0', '--users', '200', '--workers', '2', '--out', 'plug', '--json'], proj);
    expect(p1.status, p1.stderr).toBe(0);
    const groups = (JSON.parse(p1.stdout) as { summary: { groups: { label: string; metrics: { return: { mean: number } } }[] } }).summary.groups;
    const ret = (l: string) => groups.find((g) => g.label === l)!.metrics.return.mean;
    expect(ret('random')).toBeGreaterThan(8);
    expect(ret('random')).toBeLessThan(12); // 20 steps at mean quality 0.5
    expect(ret('my-quality-greedy')).toBeGreaterThan(16); // the best of 8 uniform qualities: about 0.89 a step
    expect(run(bin, ['report', 'plug'], proj).status).toBe(0);
    mkdirSync(join(proj, 'specs'));
    writeFileSync(join(proj, 'specs', 'coin.json'), JSON.stringify({ name: 'coin', modules: ['../my-agent.mjs', '../my-env.mjs'], env: { id: 'coin-v0' }, agents: [{ id: 'random' }, { id: 'my-quality-greedy' }], seeds: 2, train: { userSteps: 0 }, final: { users: 200 } }));
    const p2 = run(bin, ['run', 'specs/coin.json', '--workers', '2', '--out', 'plug2', '--json'], proj);
    expect(p2.status, p2.stderr).toBe(0);
    expect(readFileSync(join(proj, 'plug2', 'summary.json'), 'utf8')).toBe(readFileSync(join(proj, 'plug', 'summary.json'), 'utf8').replace(/"experiment": "[^"]*"/, '"experiment": "coin"'));
    const missing = run(bin, ['run', '--import', './nope.mjs', '--env', 'coin-v0', '--agent', 'random'], proj);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--import\[0\]: module .*nope\.mjs does not exist/);
    // A shipped spec by name.
    const rep = run(bin, ['reproduce', 'nope'], proj);
    expect(rep.status).toBe(2);
    expect(rep.stderr).toMatch(/available: flagship, slateq/);
  });
});
