import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../policies/backend.js';
import { computeGae } from '../agents/gae.js';
import { gumbelTopK, plLogProb, plLogProbTf } from '../policies/plackett-luce.js';
import { Adam, clipByGlobalNorm, orthogonal } from '../policies/nn.js';
import { streamFromString } from '../envs/rng.js';
import { makeAgent } from '../agents/index.js';
import type { PpoAgent } from '../agents/ppo.js';
import type { SlateQAgent } from '../agents/slateq.js';
import { topKCorrection } from '../agents/reinforce-topk.js';
import { trainAgent } from '../agents/loop.js';
import { makeVec, make } from '../envs/registry.js';
import { policyEvaluation, startValue, valueIteration } from '../agents/planning.js';
import { evaluateAgent } from '../experiments/evaluate.js';
import { optimalMnlSlate, greedyMnlSlate, mnlSlateValue } from '../policies/slates.js';
import { meanCi } from './helpers.js';

await initBackend('wasm');

describe('GAE', () => {
  it('matches hand-computed values with a truncation cut and a termination in the same rollout', () => {
    // One env, 4 steps, gamma 0.9, lambda 0.8: step 1 is truncated (final value 5), step 3 terminates.
    const g = 0.9;
    const l = 0.8;
    const r = [1, 2, 3, 4];
    const v = [0.5, 1, 1.5, 2];
    const done = [0, 1, 0, 1];
    const trunc = [0, 5, 0, 0];
    const { advantages, returns } = computeGae(4, 1, r, v, done, trunc, [7], g, l);
    // Hand computation, backwards:
    const d3 = 4 - 2; // terminated: no bootstrap
    const a3 = d3;
    const d2 = 3 + g * 2 - 1.5; // next value V(s3) = 2
    const a2 = d2 + g * l * a3;
    const d1 = 2 + g * 5 - 1; // truncated: bootstrap from the final observation's value, not V(s2)
    const a1 = d1; // the advantage does not flow across the boundary
    const d0 = 1 + g * 1 - 0.5;
    const a0 = d0 + g * l * a1;
    expect(Array.from(advantages)).toEqual([a0, a1, a2, a3].map(Math.fround));
    expect(Array.from(returns)).toEqual([a0 + 0.5, a1 + 1, a2 + 1.5, a3 + 2].map(Math.fround));
    // Without an episode end, the last step bootstraps from lastValues.
    const open = computeGae(1, 1, [1], [0], [0], [0], [7], g, l);
    expect(open.advantages[0]).toBeCloseTo(1 + g * 7, 5);
  });
});

describe('Plackett-Luce slates', () => {
  const logits = [0.3, -1.2, 0.8, 0.1, -0.4];
  const N = 5;

  it('log-probabilities of all ordered slates sum to one (N 5, K 1..3)', () => {
    for (let K = 1; K <= 3; K++) {
      let total = 0;
      const rec = (prefix: number[]) => {
        if (prefix.length === K) {
          total += Math.exp(plLogProb(logits, 0, N, prefix, 0, K));
          return;
        }
        for (let i = 0; i < N; i++) if (!prefix.includes(i)) rec([...prefix, i]);
      };
      rec([]);
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('Gumbel top-K sampling frequencies match the Plackett-Luce probabilities', () => {
    const K = 2;
    const rng = streamFromString('gumbel');
    const out = new Int32Array(K);
    const work = new Float64Array(N);
    const counts = new Map<string, number>();
    const draws = 40000;
    for (let i = 0; i < draws; i++) {
      gumbelTopK(logits, 0, N, K, rng, out, 0, work);
      const k = `${out[0]},${out[1]}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let chi2 = 0;
    let cells = 0;
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < N; b++) {
        if (a === b) continue;
        const p = Math.exp(plLogProb(logits, 0, N, [a, b], 0, K));
        const o = counts.get(`${a},${b}`) ?? 0;
        chi2 += (o - draws * p) ** 2 / (draws * p);
        cells++;
      }
    }
    expect(cells).toBe(20);
    expect(chi2).toBeLessThan(43.82); // chi-square(19) at p = 0.001
  });

  it('the differentiable log-probability matches the plain one and masks invalid candidates', () => {
    const slates = Int32Array.from([2, 0, 4, 1]);
    const t = plLogProbTf(tf.tensor2d([...logits, ...logits], [2, N]), slates, 2);
    const lp = t.logp.dataSync();
    expect(lp[0]).toBeCloseTo(plLogProb(logits, 0, N, [2, 0], 0, 2), 5);
    expect(lp[1]).toBeCloseTo(plLogProb(logits, 0, N, [4, 1], 0, 2), 5);
    t.logp.dispose();
    t.entropy.dispose();
    const rng = streamFromString('mask');
    const out = new Int32Array(2);
    for (let i = 0; i < 200; i++) {
      gumbelTopK(logits, 0, N, 2, rng, out, 0, new Float64Array(N), [1, 0, 1, 1, 0]);
      expect([1, 4]).not.toContain(out[0]);
      expect([1, 4]).not.toContain(out[1]);
    }
  });

  it('stays exact and finite, gradient included, when the policy is peaked (no cancellation in the remaining mass)', () => {
    // One dominant candidate: Z minus the placed items would cancel in float32 at the later positions.
    const peaked = [40, 0, -3, -25, 5, -60, 12, 1];
    const n = peaked.length;
    const slates = Int32Array.from([0, 6, 4, 7, 1]);
    const x = tf.tensor2d(peaked, [1, n]);
    const v = tf.variable(x, true, 'peaked');
    const { value, grads } = tf.variableGrads(() => {
      const t = plLogProbTf(v as unknown as tf.Tensor2D, slates, 5);
      return tf.add(tf.sum(t.logp), tf.sum(t.entropy)) as tf.Scalar;
    }, [v]);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    for (const g of Object.values(grads)) for (const v of g.dataSync()) expect(Number.isFinite(v)).toBe(true);
    const t = plLogProbTf(x, slates, 5);
    expect(t.logp.dataSync()[0]).toBeCloseTo(plLogProb(peaked, 0, n, slates, 0, 5), 3);
    // The entropy of a slate whose later positions are nearly uniform among small logits is positive and finite.
    expect(t.entropy.dataSync()[0]).toBeGreaterThan(0);
    expect(Number.isFinite(t.entropy.dataSync()[0]!)).toBe(true);
    tf.dispose([x, v, value, ...Object.values(grads), t.logp, t.entropy]);
  });
});

describe('network plumbing', () => {
  it('orthogonal init has orthonormal columns times the gain', () => {
    const w = orthogonal(streamFromString('o'), 6, 4, 2);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        let d = 0;
        for (let r = 0; r < 6; r++) d += w[r * 4 + a]! * w[r * 4 + b]!;
        expect(d).toBeCloseTo(a === b ? 4 : 0, 4);
      }
    }
  });

  it('global-norm clipping scales the gradients to the maximum norm', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { grads, norm } = clipByGlobalNorm(g, 0.5);
    expect(norm).toBeCloseTo(5, 5);
    const n = Math.hypot(...grads.flatMap((x) => Array.from(x.dataSync())));
    expect(n).toBeCloseTo(0.5, 4);
    grads.forEach((x) => x.dispose());
  });

  it("Adam's learning rate is settable (annealing takes effect) and epsilon is explicit", () => {
    const v = tf.variable(tf.tensor1d([1]));
    const opt = new Adam([v], 0.1, 1e-5);
    expect(opt.eps).toBe(1e-5);
    const step = (lr: number) => {
      opt.lr = lr;
      const before = v.dataSync()[0]!;
      const g = tf.tensor1d([1]);
      opt.apply([g]);
      g.dispose();
      return before - v.dataSync()[0]!;
    };
    const big = step(0.1);
    const small = step(0.01);
    expect(big).toBeCloseTo(0.1, 3);
    expect(small).toBeCloseTo(0.01, 3);
    opt.dispose();
    v.dispose();
  });
});

describe('SlateQ serving', () => {
  it('the optimal slate (OS) equals enumeration of all slates; greedy and top-K are no better', () => {
    const rng = streamFromString('os');
    const N = 7;
    const K = 3;
    for (let trial = 0; trial < 50; trial++) {
      const v = Array.from({ length: N }, () => 0.1 + 2 * rng());
      const q = Array.from({ length: N }, () => 10 * rng() - 2);
      const v0 = 0.5 + rng();
      let best = -Infinity;
      for (let a = 0; a < N; a++) for (let b = a + 1; b < N; b++) for (let c = b + 1; c < N; c++) best = Math.max(best, mnlSlateValue(v, q, 0, [a, b, c], 0, K, v0));
      const os = new Int32Array(K);
      optimalMnlSlate(v, q, 0, N, K, v0, os, 0, new Float64Array(N));
      expect(mnlSlateValue(v, q, 0, os, 0, K, v0)).toBeCloseTo(best, 10);
      const gs = new Int32Array(K);
      greedyMnlSlate(v, q, 0, N, K, v0, gs, 0);
      expect(mnlSlateValue(v, q, 0, gs, 0, K, v0)).toBeLessThanOrEqual(best + 1e-12);
    }
  });
});

describe('SlateQ with a valued no-click outcome', () => {
  it('the shifted decomposition equals the slate value with a no-click value: Q0 + V(q - Q0) = (sum v q + v0 Q0) / (v0 + sum v)', () => {
    const rng = streamFromString('q0');
    const N = 6;
    const K = 3;
    for (let trial = 0; trial < 30; trial++) {
      const v = Array.from({ length: N }, () => 0.1 + 2 * rng());
      const q = Array.from({ length: N }, () => 10 * rng() - 2);
      const v0 = 0.5 + rng();
      const q0 = 5 * rng() - 1;
      const slate = [0, 2, 5];
      let num = v0 * q0;
      let den = v0;
      for (const i of slate) (num += v[i]! * q[i]!), (den += v[i]!);
      expect(q0 + mnlSlateValue(v, q.map((x) => x - q0), 0, slate, 0, K, v0)).toBeCloseTo(num / den, 10);
      // Serving on shifted values finds the best slate of the valued objective (checked by enumeration).
      let best = -Infinity;
      for (let a = 0; a < N; a++) for (let b = a + 1; b < N; b++) for (let c = b + 1; c < N; c++) {
        let nm = v0 * q0;
        let dn = v0;
        for (const i of [a, b, c]) (nm += v[i]! * q[i]!), (dn += v[i]!);
        best = Math.max(best, nm / dn);
      }
      const os = new Int32Array(K);
      optimalMnlSlate(v, q.map((x) => x - q0), 0, N, K, v0, os, 0, new Float64Array(N));
      expect(q0 + mnlSlateValue(v, q.map((x) => x - q0), 0, os, 0, K, v0)).toBeCloseTo(best, 10);
    }
  });

  it('noClickValue learned trains on every transition (no-click ones train Q0); zero keeps the paper\'s click transitions only', async () => {
    const envParams = { horizonDays: 2, maxSessionSteps: 8 };
    const steps = 40;
    const run = async (noClickValue: string) => {
      const agent = (await makeAgent('slateq', { noClickValue, learningStarts: 10, batchSize: 8, hidden: 8 }, { envId: 'retention-v1', envParams, seed: 2 })) as SlateQAgent;
      let clicks = 0;
      const logs: Record<string, number>[] = [];
      trainAgent(agent, makeVec('retention-v1', envParams, { numEnvs: 4 }), { steps, seed: 3, onStep: (t) => t.clicked.forEach((c) => (clicks += c >= 0 ? 1 : 0)), onUpdate: (m) => logs.push(m) });
      const size = (agent.save().state as { size: number }).size;
      agent.dispose();
      return { size, clicks, q0: agent.q0 !== null, logs };
    };
    const learned = await run('learned');
    expect(learned.q0).toBe(true);
    // The diagnostics: TD loss, estimates, targets and their gap, the no-click share and value, all finite.
    expect(learned.logs.length).toBeGreaterThan(10);
    for (const m of learned.logs) {
      for (const k of ['td_loss', 'q_mean', 'target_mean', 'target_gap', 'no_click_share', 'q0_mean', 'epsilon']) expect(Number.isFinite(m[k]), k).toBe(true);
      expect(m.target_gap).toBeCloseTo(m.target_mean! - m.q_mean!, 6);
    }
    const share = learned.logs.reduce((a, m) => a + m.no_click_share!, 0) / learned.logs.length;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.95);
    expect(learned.size).toBe(steps * 4);
    const zero = await run('zero');
    expect(zero.q0).toBe(false);
    expect(zero.size).toBe(zero.clicks);
    expect(zero.size).toBeLessThan(steps * 4);
    expect(zero.logs.every((m) => m.no_click_share === 0 && !('q0_mean' in m))).toBe(true);
    // auto: learned on multi-session envs, the paper's zero on RecSim's single-session env.
    const auto = (await makeAgent('slateq', { hidden: 8 }, { envId: 'interest-evolution-v0', seed: 0 })) as SlateQAgent;
    expect(auto.q0).toBe(null);
    auto.dispose();
    await expect(makeAgent('slateq', { noClickValue: 'learned' }, { envId: 'long-term-satisfaction-v0', seed: 0 })).rejects.toThrow(/noClickValue "learned" needs a choice model with a no-click option/);
  });
});

describe('PPO', () => {
  it('infinite-horizon check: with reward 1 and only truncation, the value converges to 1 / (1 - gamma)', async () => {
    const envParams = { means: [1, 1], horizon: 50 };
    const agent = (await makeAgent('ppo', { gamma: 0.9, normalizeReward: false, lr: 3e-3, numSteps: 32, annealLr: false, entCoef: 0 }, { envId: 'bernoulli-bandit-v0', envParams, seed: 0 })) as PpoAgent;
    trainAgent(agent, makeVec('bernoulli-bandit-v0', envParams, { numEnvs: 16 }), { steps: 2500, seed: 1 });
    // The value at the first and at the last step before the cut: both ~10 (treating the cut as a
    // termination would give ~1 at the last step).
    const obs = (step: number) => ({ user: new Float32Array([step]), candidates: new Float32Array([1, 0, 0, 1]) });
    for (const step of [0, 25, 49]) expect(agent.criticValue(obs(step), 1)[0]).toBeGreaterThan(9);
    for (const step of [0, 25, 49]) expect(agent.criticValue(obs(step), 1)[0]).toBeLessThan(11);
    agent.dispose();
  });

  it('reaches at least 90% of the value-iteration optimum on boredom-mdp-v0 within 96k user-steps (3 seeds)', async () => {
    for (const seed of [0, 1, 2]) {
      const agent = (await makeAgent('ppo', { lr: 3e-3, numSteps: 32, gamma: 0.99 }, { envId: 'boredom-mdp-v0', seed })) as PpoAgent;
      trainAgent(agent, makeVec('boredom-mdp-v0', {}, { numEnvs: 32 }), { steps: 3000, seed: 10 + seed });
      // Exact value of the learned deterministic policy: act greedily on every state of the model.
      const m = agent.env.model!;
      const T = 3;
      const obsOf = (s: number) => {
        const g = s % 3;
        let rest = Math.floor(s / 3);
        const user = new Float32Array(T + 1);
        for (let t = 0; t < T; t++) {
          user[t] = rest % 3;
          rest = Math.floor(rest / 3);
        }
        user[T] = g;
        return user;
      };
      const env = make('boredom-mdp-v0');
      const cands = env.reset({ seed: 0 }).observation.candidates;
      const pi = new Float64Array(m.numStates * m.numActions);
      const ctx = agent.context(false);
      for (let s = 0; s < m.numStates; s++) {
        const u = obsOf(s);
        expect(m.stateOf(u, 0)).toBe(s);
        const a = agent.act({ user: u, candidates: cands, itemIds: null, B: 1, active: new Uint8Array([1]), userIndex: new Float64Array([0]), firstStep: new Uint8Array([0]) }, ctx)[0]!;
        pi[s * m.numActions + a] = 1;
      }
      const value = startValue(m, policyEvaluation(m, pi, 1).V);
      const optimum = startValue(m, valueIteration(m, 1).V);
      expect(value / optimum).toBeGreaterThanOrEqual(0.9);
      agent.dispose();
    }
  });

  it('reports the CleanRL debug metrics, and the learning-rate annealing takes effect', async () => {
    const agent = (await makeAgent('ppo', { numSteps: 16, totalSteps: 16 * 8 * 4 }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const env = makeVec('retention-v0', {}, { numEnvs: 8 });
    trainAgent(agent, env, { steps: 64, seed: 0 });
    expect(agent.iteration).toBe(4);
    // The fifth iteration runs at frac = 1 - 4 / 4 = 0: the update leaves the weights unchanged.
    const before = JSON.stringify(agent.actor.params.getWeights());
    const r = trainAgent(agent, env, { steps: 16, resume: true });
    expect(r.metrics.learning_rate).toBe(0);
    expect(JSON.stringify(agent.actor.params.getWeights())).toBe(before);
    for (const k of ['policy_loss', 'value_loss', 'entropy', 'approx_kl', 'clipfrac', 'explained_variance', 'grad_norm']) expect(Number.isFinite(r.metrics[k])).toBe(true);
    agent.dispose();
  });

  it('leaks no tensors across training iterations', async () => {
    const agent = (await makeAgent('ppo', { numSteps: 8 }, { envId: 'interest-evolution-v0', seed: 0 })) as PpoAgent;
    const env = makeVec('interest-evolution-v0', {}, { numEnvs: 4 });
    trainAgent(agent, env, { steps: 8, seed: 0 });
    const before = tf.memory().numTensors;
    trainAgent(agent, env, { steps: 32, seed: 0 });
    expect(tf.memory().numTensors).toBe(before);
    agent.dispose();
  });
});

describe('long-term agents beat the myopic oracle where long-term satisfaction matters (choc/kale, tau 0.3)', () => {
  const envParams = { sensitivity: 0.3 };
  const users = 200;

  async function paired(id: string, params: Record<string, unknown>, steps: number) {
    const agent = await makeAgent(id, params, { envId: 'long-term-satisfaction-v0', envParams, seed: 3 });
    trainAgent(agent, makeVec('long-term-satisfaction-v0', envParams, { numEnvs: 32 }), { steps, seed: 4 });
    const myo = await makeAgent('myopic-oracle', {}, { envId: 'long-term-satisfaction-v0', envParams, seed: 3 });
    const a = evaluateAgent('long-term-satisfaction-v0', envParams, agent, { users, seed: 5 });
    const b = evaluateAgent('long-term-satisfaction-v0', envParams, myo, { users, seed: 5 });
    (agent as { dispose?: () => void }).dispose?.();
    return meanCi(Array.from(a.return, (v, i) => v - b.return[i]!));
  }

  it('PPO: the 95% CI of the paired difference over 200 users excludes zero', async () => {
    expect((await paired('ppo', { lr: 3e-3, numSteps: 32 }, 1000)).lo).toBeGreaterThan(0);
  });

  it('SlateQ: the 95% CI of the paired difference over 200 users excludes zero', async () => {
    const agent = (await makeAgent('slateq', {}, { envId: 'long-term-satisfaction-v0', envParams, seed: 3 })) as SlateQAgent;
    expect(agent.choice).toBe('position0');
    agent.dispose();
    expect((await paired('slateq', {}, 1500)).lo).toBeGreaterThan(0);
  });

  it('REINFORCE with top-K correction, trained on random logs, beats random online', async () => {
    const agent = await makeAgent('reinforce-topk', { behaviour: 'random', logUsers: 150, topK: 2, epochs: 4 }, { envId: 'long-term-satisfaction-v0', envParams, seed: 1 });
    const rnd = await makeAgent('random', {}, { envId: 'long-term-satisfaction-v0', envParams, seed: 1 });
    const a = evaluateAgent('long-term-satisfaction-v0', envParams, agent, { users, seed: 5 });
    const b = evaluateAgent('long-term-satisfaction-v0', envParams, rnd, { users, seed: 5 });
    expect(meanCi(Array.from(a.return, (v, i) => v - b.return[i]!)).lo).toBeGreaterThan(0);
    (agent as { dispose?: () => void }).dispose?.();
  });

  it('the top-K correction and weight capping follow the paper', () => {
    expect(topKCorrection(0.2, 1)).toBe(1);
    expect(topKCorrection(0.2, 3)).toBeCloseTo(3 * 0.8 ** 2, 12);
    expect(topKCorrection(1, 4)).toBe(0);
  });
});

describe('finite numbers only: a NaN never reaches the weights silently', () => {
  it('a NaN observation handed to PPO in training stops the loop with NonFiniteValue naming the slot and field; the weights stay finite', async () => {
    const { NonFiniteValue } = await import('../envs/errors.js');
    const agent = (await makeAgent('ppo', { numSteps: 8, hidden: 8 }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const env = makeVec('retention-v0', {}, { numEnvs: 4 });
    let t = 0;
    const U = env.layout.U;
    // Poison slot 2's user row at step 5, after the agent acted: the transition carries it.
    const run = () => trainAgent(agent, env, { steps: 64, seed: 0, onAct: () => { if (t++ === 5) env.sim.user[2 * U + 1] = NaN; } });
    expect(run).toThrow(NonFiniteValue);
    t = 0;
    const env2 = makeVec('retention-v0', {}, { numEnvs: 4 });
    expect(() => trainAgent(agent, env2, { steps: 64, seed: 0, onAct: () => { if (t++ === 5) env2.sim.user[2 * U + 1] = NaN; } })).toThrow(/ppo: observation.user of slot 2 holds NaN at column 1/);
    const ck = agent.save();
    expect(JSON.stringify(ck)).not.toMatch(/null,|\[null/);
    agent.dispose();
  });

  it('save() refuses a non-finite state; load() refuses a checkpoint whose numbers became null and leaves the agent as it was', async () => {
    const { NonFiniteValue } = await import('../envs/errors.js');
    const { BadCheckpoint } = await import('../agents/api.js');
    const agent = (await makeAgent('ppo', { hidden: 8 }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const good = agent.save();
    const broken = JSON.parse(JSON.stringify(good)) as typeof good;
    const w = (broken.state as { actor: number[][] }).actor;
    w[0]![3] = null as unknown as number;
    expect(() => agent.load(broken)).toThrow(BadCheckpoint);
    expect(JSON.stringify(agent.save())).toBe(JSON.stringify(good));
    agent.actor.params.vars[0]!.assign(tf.fill(agent.actor.params.vars[0]!.shape, NaN));
    expect(() => agent.save()).toThrow(NonFiniteValue);
    expect(() => agent.save()).toThrow(/ppo: cannot save a non-finite agent state \(state\.actor\[0\]\[0\] = NaN\)/);
    agent.dispose();
  });

  it('the deep agents refuse a NaN observation in act, naming the slot and the field', async () => {
    const { NonFiniteValue } = await import('../envs/errors.js');
    for (const id of ['ppo', 'slateq']) {
      const agent = await makeAgent(id, { hidden: 8 }, { envId: 'retention-v0', seed: 0 });
      const env = makeVec('retention-v0', {}, { numEnvs: 3 });
      const r = env.reset({ seed: 1 });
      const user = Float32Array.from(r.observation.user);
      user[env.layout.U + 2] = NaN;
      const obs = { user, candidates: r.observation.candidates, itemIds: r.observation.itemIds, B: 3, active: new Uint8Array(3).fill(1), userIndex: new Float64Array(3), firstStep: new Uint8Array(3).fill(1) };
      expect(() => agent.act(obs, agent.context(false))).toThrow(NonFiniteValue);
      expect(() => agent.act(obs, agent.context(false))).toThrow(new RegExp(`${id}: observation.user of slot 1 holds NaN at column 2`));
      // An inactive slot's contents do not matter.
      obs.active[1] = 0;
      expect(agent.act(obs, agent.context(false)).length).toBe(3 * env.layout.K);
      (agent as { dispose?: () => void }).dispose?.();
    }
  });

  it('a non-finite gradient is not applied: clipByGlobalNorm throws before the optimizer step', async () => {
    const { NonFiniteValue } = await import('../envs/errors.js');
    const before = tf.memory().numTensors;
    expect(() => clipByGlobalNorm([tf.tensor1d([1, NaN]), tf.tensor1d([2])], 1)).toThrow(NonFiniteValue);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('exporting a trained PPO policy to the TensorFlow.js layers format', () => {
  it('model.json + weights.bin load with tf.loadLayersModel and score raw observations as the agent does (normalization and clipping folded in)', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    for (const hidden2 of [0, 6]) {
      const agent = (await makeAgent('ppo', { numSteps: 8, hidden: 8, hidden2 }, { envId: 'retention-v1', seed: 4 })) as PpoAgent;
      trainAgent(agent, makeVec('retention-v1', {}, { numEnvs: 4 }), { steps: 32, seed: 1 });
      const dir = mkdtempSync(join(tmpdir(), 'egym-export-'));
      const { modelJson, weights } = await agent.exportPolicy(dir);
      const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { format: string; modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
      const bin = readFileSync(weights);
      const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
      const { U, N, F, K } = agent.env.layout;
      const B = 16;
      const rng = streamFromString(`export-${hidden2}`);
      // Raw observations, some far out of the training range (the clip at 10 standard deviations must match).
      const user = Float32Array.from({ length: B * U }, () => (rng() - 0.5) * (rng() < 0.1 ? 400 : 8));
      const cand = Float32Array.from({ length: B * N * F }, () => (rng() - 0.5) * (rng() < 0.1 ? 400 : 6));
      const got = (model.predict([tf.tensor2d(user, [B, U]), tf.tensor3d(cand, [B, N, F])]) as tf.Tensor).dataSync();
      const nu = agent.userNorm.apply(user, B, new Float32Array(B * U));
      const nc = agent.candNorm.apply(cand, B * N, new Float32Array(B * N * F));
      const want = agent.actor.scores(tf.tensor2d(nu, [B, U]), tf.tensor2d(nc, [B * N, F]), N).dataSync();
      for (let i = 0; i < B * N; i++) expect(got[i]!).toBeCloseTo(want[i]!, 4);
      // The greedy slate from the exported scores is the agent's evaluation slate.
      const slates = agent.act({ user, candidates: cand, itemIds: null, B, active: new Uint8Array(B).fill(1), userIndex: new Float64Array(B), firstStep: new Uint8Array(B) }, agent.context(false));
      for (let s = 0; s < B; s++) {
        const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => got[s * N + b]! - got[s * N + a]!);
        expect(new Set(Array.from(slates.subarray(s * K, (s + 1) * K)))).toEqual(new Set(order.slice(0, K)));
      }
      model.dispose();
      agent.dispose();
    }
  });
});
