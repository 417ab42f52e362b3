/**
 * Steps 5 and 6 of the supervised pipeline: serving and continual retraining.
 *
 * supervised: at construction, logs impressions of a behaviour policy on users of a dedicated population,
 * trains the click model (and a watch-time model E[watch | click]) and then ranks every candidate by the
 * chosen target: predicted engagement pCTR x E[watch | click] (default), pCTR, or E[watch | click]; the
 * slate is the top-K. This is the standard industry pipeline, and the myopic baseline RL agents must beat.
 *
 * adaptive-supervised: the same, plus continual learning: while training it serves epsilon-random slates
 * with probability exploreEpsilon, logs every impression it serves, and every `retrainEvery` user-steps
 * retrains from scratch on the most recent `window` impressions (the population drifts; the model follows).
 */
import type { SupervisedParams } from './definition.js';
import { sampleDistinct, statefulStream } from '../../envs/rng.js';
import { optimalMnlSlate, topK } from '../../policies/slates.js';
import { type BackendChoice, type BackendInfo, agentBackend } from '../../policies/backend.js';
import { type Agent, type AgentContext, type AgentEnvInfo, type AgentObservation, assertFiniteObservation, BaseAgent, IncompatibleEnv, type Transitions } from '../api.js';
import { LogBuilder, type ImpressionLog } from './logging.js';
import { type ModelKind, PredictionModel } from './models.js';
import { EmptySplit, fitPipeline, type Pipeline, type PipelineOptions, type PipelineReport, runPipeline } from './pipeline.js';
import { FeatureBuilder, ItemStats, Normalizer } from './preprocess.js';

export type Target = 'engagement' | 'click' | 'watch';

export interface SupervisedDeps {
  /** Build a behaviour agent by id (the registry's makeAgent, passed in to avoid an import cycle). */
  makeBehaviour(id: string, seed: number): Promise<Agent>;
}

export class SupervisedAgent extends BaseAgent<SupervisedParams> {
  readonly id: 'supervised' | 'adaptive-supervised';
  backend!: BackendInfo;
  pipeline!: Pipeline;
  /** Reports of the initial fit and of every retraining. */
  readonly reports: PipelineReport[] = [];
  private x = new Float32Array(0);
  private seq = new Float32Array(0);
  private score = new Float64Array(0);
  private odds = new Float64Array(0);
  private work = new Float64Array(0);
  private window: LogBuilder | null = null;
  private sinceRetrain = 0;
  private retrains = 0;
  /** User-steps logged so far (the step index of logged impressions). */
  private logged = 0;

  constructor(id: 'supervised' | 'adaptive-supervised', p: SupervisedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.id = id;
    const fb = new FeatureBuilder(env.layout);
    if (p.model === 'gru' && fb.seqLen === 0) throw new IncompatibleEnv(id, env.envId, 'the gru model needs an interaction history with topics (user feature "history"); use model "mlp" or "logistic"');
    if (p.itemStats && env.layout.itemCount === null) throw new IncompatibleEnv(id, env.envId, 'itemStats needs catalogue item ids (the env has none)');
    if (id === 'adaptive-supervised') this.window = new LogBuilder(env.layout.U, env.layout.F);
  }

  /** The pipeline options from the params. */
  private options(behaviour: Agent | null, trainSeed: number, epochs: number): PipelineOptions {
    const p = this.params;
    return {
      envId: this.env.envId,
      envParams: this.env.params,
      users: p.logUsers,
      seed: p.logPopulation >= 0 ? p.logPopulation : 1_000_000 + this.seed,
      behaviour,
      epsilon: p.behaviourEpsilon,
      model: p.model,
      watchModel: p.target !== 'click',
      hidden: p.hidden,
      gruUnits: p.gruUnits,
      epochs,
      batchSize: p.batchSize,
      lr: p.lr,
      patience: p.patience,
      fractions: { train: 0.7, val: 0.15 },
      trainSeed,
      itemStats: p.itemStats,
    };
  }

  /** Steps 1-4: select the backend, log, fit. */
  async init(deps: SupervisedDeps): Promise<this> {
    this.backend = await agentBackend(this.params.backend);
    const b = this.params.behaviour;
    const behaviour = b === 'random' ? null : await deps.makeBehaviour(b, this.seed);
    this.pipeline = runPipeline(this.options(behaviour, this.seed, this.params.epochs));
    this.reports.push(this.pipeline.report);
    return this;
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    assertFiniteObservation(this.id, obs, obs.B, obs.active);
    const out = this.out(obs.B);
    const { N, K, U, F } = this.env.layout;
    const fb = this.pipeline.features;
    const D = fb.dim;
    const explore = 'exploreEpsilon' in this.params && (ctx.training || ctx.explore) ? this.params.exploreEpsilon : 0;
    // Rows: every candidate of every active slot that is not exploring this step.
    const rows: number[] = [];
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      if (explore > 0 && ctx.rng() < explore) {
        sampleDistinct(ctx.rng, N, K, out, s * K);
        continue;
      }
      rows.push(s);
    }
    const n = rows.length * N;
    if (n === 0) return out;
    if (this.x.length < n * D) this.x = new Float32Array(n * D);
    const w = fb.seqLen * fb.seqDim;
    if (w > 0 && this.seq.length < n * w) this.seq = new Float32Array(n * w);
    if (this.score.length < n) this.score = new Float64Array(n);
    rows.forEach((s, r) => {
      for (let i = 0; i < N; i++) {
        const row = r * N + i;
        fb.write(obs.user, s * U, obs.candidates, (s * N + i) * F, this.x, row * D, obs.itemIds ? obs.itemIds[s * N + i]! : -1);
        if (w > 0) fb.writeSequence(obs.user, s * U, this.seq, row * w);
      }
    });
    const x = this.pipeline.normalizer.apply(this.x.subarray(0, n * D), D);
    const seq = w > 0 ? this.seq.subarray(0, n * w) : undefined;
    const target = this.params.target;
    const pc = target !== 'watch' ? this.pipeline.click.predict(x, n, seq) : null;
    const pw = target !== 'click' ? this.pipeline.watch!.predict(x, n, seq) : null;
    if (this.params.serving === 'mnl' && pc && pw) {
      // Slate-aware serving: the predicted click odds p / (1 - p) as MNL attractions against a no-click weight
      // estimated from the logs (PipelineReport.noClickOdds), the predicted watch time as the value; the exact slate by Dinkelbach, as myopic-oracle serves.
      if (this.odds.length < n) this.odds = new Float64Array(n);
      if (this.work.length !== N) this.work = new Float64Array(N);
      for (let k = 0; k < n; k++) {
        const p = Math.min(1 - 1e-6, Math.max(1e-6, pc[k]!));
        this.odds[k] = p / (1 - p);
        this.score[k] = pw[k]!;
      }
      rows.forEach((s, r) => optimalMnlSlate(this.odds, this.score, r * N, N, K, this.pipeline.report.noClickOdds ?? 1, out, s * K, this.work));
      return out;
    }
    for (let k = 0; k < n; k++) this.score[k] = target === 'click' ? pc![k]! : target === 'watch' ? pw![k]! : pc![k]! * pw![k]!;
    rows.forEach((s, r) => topK(this.score, r * N, N, K, out, s * K));
    return out;
  }

  observe(t: Transitions): void {
    if (!this.window) return;
    const { N, K, U, F } = this.env.layout;
    for (let s = 0; s < t.obs.B; s++) {
      if (!t.stepped[s]) continue;
      for (let j = 0; j < K; j++) {
        const i = t.actions[s * K + j]!;
        const clicked = t.clicked[s] === j ? 1 : 0;
        // `step` must tell this user's impressions apart (dedupe keys on user, step and position): a running count.
        this.window.push(t.obs.user, s * U, t.obs.candidates, (s * N + i) * F, t.obs.userIndex[s]!, this.logged, j, t.obs.itemIds ? t.obs.itemIds[s * N + i]! : -1, clicked, clicked ? t.rewards[s]! : 0, NaN, NaN);
      }
      this.logged++;
      this.sinceRetrain++;
    }
  }

  update(): Record<string, number> | void {
    const p = this.params;
    if (!this.window || !('retrainEvery' in p) || this.sinceRetrain < p.retrainEvery) return;
    this.sinceRetrain = 0;
    const log = this.window.build();
    const keep = Math.min(log.n, p.window);
    const recent = sliceLog(log, log.n - keep, log.n);
    // Keep only the window in memory.
    this.window = new LogBuilder(this.env.layout.U, this.env.layout.F);
    appendLog(this.window, recent);
    this.retrains++;
    const old = this.pipeline;
    try {
      this.pipeline = fitPipeline(recent, this.env.layout, this.options(null, this.seed + this.retrains, p.retrainEpochs));
    } catch (e) {
      if (!(e instanceof EmptySplit)) throw e;
      // Too few users in the window to split: keep serving the current model.
      return { retrains: this.retrains, skipped: 1, windowImpressions: recent.n };
    }
    old.click.dispose();
    old.watch?.dispose();
    this.reports.push(this.pipeline.report);
    return { retrains: this.retrains, testAuc: this.pipeline.report.testAuc, windowImpressions: recent.n };
  }

  protected override getState(): unknown {
    const pl = this.pipeline;
    return {
      click: { cfg: pl.click.cfg, weights: pl.click.getWeights().map((w) => Array.from(w)) },
      watch: pl.watch ? { cfg: pl.watch.cfg, weights: pl.watch.getWeights().map((w) => Array.from(w)) } : null,
      normalizer: pl.normalizer.toJSON(),
      itemStats: pl.features.itemStats?.toJSON() ?? null,
      // The report's diagnostics may be undefined (an AUC on a test split with one class): null in the
      // checkpoint, as JSON would write them; the learned state itself must be finite (BaseAgent.save checks).
      report: JSON.parse(JSON.stringify(pl.report)) as PipelineReport,
      sinceRetrain: this.sinceRetrain,
      retrains: this.retrains,
      logged: this.logged,
      window: this.window ? serializeLog(this.window.build()) : null,
    };
  }

  protected override setState(x: unknown): void {
    const st = x as {
      click: { cfg: PredictionModel['cfg']; weights: number[][] };
      watch: { cfg: PredictionModel['cfg']; weights: number[][] } | null;
      normalizer: { mean: number[]; std: number[] };
      itemStats?: ReturnType<ItemStats['toJSON']> | null;
      report: PipelineReport;
      sinceRetrain: number;
      retrains: number;
      logged: number;
      window: ReturnType<typeof serializeLog> | null;
    };
    const rng = statefulStream('egym|load');
    const click = new PredictionModel(st.click.cfg, rng);
    click.setWeights(st.click.weights);
    let watch: PredictionModel | null = null;
    if (st.watch) {
      watch = new PredictionModel(st.watch.cfg, rng);
      watch.setWeights(st.watch.weights);
    }
    this.pipeline?.click.dispose();
    this.pipeline?.watch?.dispose();
    this.pipeline = { features: new FeatureBuilder(this.env.layout, st.itemStats ? ItemStats.fromJSON(st.itemStats) : null), normalizer: Normalizer.fromJSON(st.normalizer), click, watch, report: st.report };
    this.sinceRetrain = st.sinceRetrain;
    this.retrains = st.retrains;
    this.logged = st.logged;
    if (st.window) {
      this.window = new LogBuilder(this.env.layout.U, this.env.layout.F);
      appendLog(this.window, deserializeLog(st.window));
    }
  }

  /** Release the model weights. */
  dispose(): void {
    this.pipeline.click.dispose();
    this.pipeline.watch?.dispose();
  }
}

function sliceLog(log: ImpressionLog, a: number, b: number): ImpressionLog {
  const { U, F } = log;
  return {
    U,
    F,
    n: b - a,
    user: log.user.slice(a * U, b * U),
    cand: log.cand.slice(a * F, b * F),
    userIndex: log.userIndex.slice(a, b),
    step: log.step.slice(a, b),
    position: log.position.slice(a, b),
    itemId: log.itemId.slice(a, b),
    click: log.click.slice(a, b),
    watch: log.watch.slice(a, b),
    propensity: log.propensity.slice(a, b),
    trueClick: log.trueClick.slice(a, b),
  };
}

function appendLog(b: LogBuilder, log: ImpressionLog): void {
  for (let i = 0; i < log.n; i++) {
    b.push(log.user, i * log.U, log.cand, i * log.F, log.userIndex[i]!, log.step[i]!, log.position[i]!, log.itemId[i]!, log.click[i]!, log.watch[i]!, log.propensity[i]!, log.trueClick[i]!);
  }
}

function serializeLog(log: ImpressionLog) {
  const arr = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));
  return {
    U: log.U,
    F: log.F,
    n: log.n,
    user: arr(log.user),
    cand: arr(log.cand),
    userIndex: arr(log.userIndex),
    step: arr(log.step),
    position: arr(log.position),
    itemId: arr(log.itemId),
    click: arr(log.click),
    watch: arr(log.watch),
    propensity: arr(log.propensity),
    trueClick: arr(log.trueClick),
  };
}

function deserializeLog(j: ReturnType<typeof serializeLog>): ImpressionLog {
  const f32 = (a: (number | null)[]) => Float32Array.from(a, (v) => (v === null ? NaN : v));
  return {
    U: j.U,
    F: j.F,
    n: j.n,
    user: f32(j.user),
    cand: f32(j.cand),
    userIndex: Float64Array.from(j.userIndex as number[]),
    step: Int32Array.from(j.step as number[]),
    position: Int32Array.from(j.position as number[]),
    itemId: Int32Array.from(j.itemId as number[]),
    click: f32(j.click),
    watch: f32(j.watch),
    propensity: f32(j.propensity),
    trueClick: f32(j.trueClick),
  };
}
