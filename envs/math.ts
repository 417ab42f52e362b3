/** Small numeric helpers shared by the simulators. */

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Standard normal CDF via erf (Abramowitz and Stegun 7.1.26, absolute error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/**
 * Nodes and weights of a fixed quadrature for E[g(Z)], Z ~ Normal(0, 1): the midpoint rule on [-6, 6] with
 * 24 nodes (for smooth g it converges geometrically; for E[sigmoid(m + s Z)], s <= 2, the error is below 3e-8
 * against 4,096 nodes on [-9, 9]).
 */
const QN = 24;
const Q_NODES = new Float64Array(QN);
const Q_WEIGHTS = new Float64Array(QN);
{
  let total = 0;
  for (let k = 0; k < QN; k++) {
    const z = -6 + (12 * (k + 0.5)) / QN;
    Q_NODES[k] = z;
    Q_WEIGHTS[k] = Math.exp(-0.5 * z * z);
    total += Q_WEIGHTS[k]!;
  }
  for (let k = 0; k < QN; k++) Q_WEIGHTS[k] = Q_WEIGHTS[k]! / total;
}

/** E[sigmoid(m + s Z)], Z ~ Normal(0, 1), by quadrature (error below 3e-8 for s <= 2). */
export function expectedSigmoid(m: number, s: number): number {
  if (s === 0) return sigmoid(m);
  let acc = 0;
  for (let k = 0; k < QN; k++) acc += Q_WEIGHTS[k]! * sigmoid(m + s * Q_NODES[k]!);
  return acc;
}
