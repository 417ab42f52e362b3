/**
 * Export a trained slate policy network (PPO's actor) in TensorFlow.js's own layers-model format: a `model.json`
 * (topology and weights manifest) and a `weights.bin`, loadable elsewhere with `tf.loadLayersModel`. The model
 * takes the raw observation, user [U] and candidates [N, F], and returns one score per candidate [N]; the greedy
 * slate is the K highest scores, as the agent serves in evaluation. The agent's observation normalization,
 * (x - mean) / sqrt(var + 1e-8) clipped to [-10, 10], is folded into standard layers: a Dense layer with a
 * diagonal kernel (normalize and shift by +10), ReLU with max value 20 (the clip), and the shift undone in the
 * next layer's bias. Only standard, serializable layers: Dense, ReLU, RepeatVector, Add, Reshape.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from './backend.js';
import type { RunningNorm } from './nn.js';
import type { SlateScorer } from './scorer.js';

/** The scorer with normalization folded in, as a tf.LayersModel (inputs [user, candidates], output scores). */
export function scorerModel(scorer: SlateScorer, userNorm: RunningNorm | null, candNorm: RunningNorm | null, N: number): tf.LayersModel {
  const { U, F, hidden: H, hidden2: H2 } = scorer;
  const w = scorer.params.getWeights();
  // [Wu, Wc, b1, (W2, b2), W3, b3]
  const Wu = w[0]!;
  const Wc = w[1]!;
  const b1 = w[2]!;
  const rest = w.slice(3);
  const normLayer = (x: tf.SymbolicTensor, d: number, norm: RunningNorm | null, name: string): { out: tf.SymbolicTensor; shift: number } => {
    if (!norm) return { out: x, shift: 0 };
    const kernel = new Float32Array(d * d);
    const bias = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(norm.varr[j]! + 1e-8);
      kernel[j * d + j] = 1 / s;
      bias[j] = -norm.mean[j]! / s + 10;
    }
    const dense = tf.layers.dense({ units: d, name: `${name}_normalize`, weights: [tf.tensor2d(kernel, [d, d]), tf.tensor1d(bias)] });
    const clip = tf.layers.reLU({ maxValue: 20, name: `${name}_clip` });
    return { out: clip.apply(dense.apply(x)) as tf.SymbolicTensor, shift: 10 };
  };
  // sum over the input rows of a [d, H] kernel (what a +shift on every input adds to each unit)
  const colSums = (k: number[], d: number) => {
    const s = new Float32Array(H);
    for (let i = 0; i < d; i++) for (let h = 0; h < H; h++) s[h]! += k[i * H + h]!;
    return s;
  };
  const user = tf.input({ shape: [U], name: 'user' });
  const cands = tf.input({ shape: [N, F], name: 'candidates' });
  const u = normLayer(user, U, userNorm, 'user');
  const c = normLayer(cands, F, candNorm, 'candidates');
  const su = colSums(Wu, U);
  const sc = colSums(Wc, F);
  const bu = Float32Array.from(b1, (b, h) => b - u.shift * su[h]! - c.shift * sc[h]!);
  const pu = tf.layers.dense({ units: H, name: 'user_projection', weights: [tf.tensor2d(Wu, [U, H]), tf.tensor1d(bu)] }).apply(u.out) as tf.SymbolicTensor;
  const pc = tf.layers.dense({ units: H, useBias: false, name: 'candidate_projection', weights: [tf.tensor2d(Wc, [F, H])] }).apply(c.out) as tf.SymbolicTensor;
  const rep = tf.layers.repeatVector({ n: N, name: 'user_per_candidate' }).apply(pu) as tf.SymbolicTensor;
  let h = tf.layers.reLU({ name: 'hidden' }).apply(tf.layers.add({ name: 'sum' }).apply([rep, pc]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  if (H2 > 0) h = tf.layers.dense({ units: H2, activation: 'relu', name: 'hidden2', weights: [tf.tensor2d(rest[0]!, [H, H2]), tf.tensor1d(rest[1]!)] }).apply(h) as tf.SymbolicTensor;
  const [W3, b3] = H2 > 0 ? [rest[2]!, rest[3]!] : [rest[0]!, rest[1]!];
  const s = tf.layers.dense({ units: 1, name: 'score', weights: [tf.tensor2d(W3, [H2 > 0 ? H2 : H, 1]), tf.tensor1d(b3)] }).apply(h) as tf.SymbolicTensor;
  const scores = tf.layers.reshape({ targetShape: [N], name: 'scores' }).apply(s) as tf.SymbolicTensor;
  return tf.model({ inputs: [user, cands], outputs: scores, name: 'slate_policy' });
}

/** Write `model.json` and `weights.bin` (TensorFlow.js layers format) into `dir`; returns the two paths. */
export async function saveLayersModel(model: tf.LayersModel, dir: string, metadata: Record<string, unknown> = {}): Promise<{ modelJson: string; weights: string }> {
  mkdirSync(dir, { recursive: true });
  const modelJson = join(dir, 'model.json');
  const weights = join(dir, 'weights.bin');
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = Array.isArray(a.weightData) ? Buffer.concat(a.weightData.map((b) => Buffer.from(b))) : Buffer.from(a.weightData as ArrayBuffer);
      writeFileSync(weights, data);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs} (engagement-gym export)`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        userDefinedMetadata: metadata,
      };
      writeFileSync(modelJson, JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  return { modelJson, weights };
}
