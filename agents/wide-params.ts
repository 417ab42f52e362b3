/**
 * The check PPO and REINFORCE top-K share of their wide-part options (`wideLrScale`, `wideColumns`): each is read
 * only with the wide part (and `wideColumns: itemFeedback` only with the item columns), so set otherwise it would
 * be ignored and is refused, naming the field. Kept apart from the agents so validating params does not load
 * TensorFlow.js.
 */
import { paramConstraint } from '../envs/params.js';

export function checkWideParams(agent: string, p: { wide: boolean; wideLrScale: number; wideColumns: string; itemFeedback: boolean }): void {
  const owner = `agent ${agent}`;
  paramConstraint(owner, p.wide || p.wideLrScale === 1, `wideLrScale ${p.wideLrScale} sets the learning rate of the wide part: it needs wide true (got false)`);
  paramConstraint(owner, p.wideColumns === 'all' || (p.wide && p.itemFeedback), `wideColumns ${p.wideColumns} restricts the wide part to the item-statistic columns: it needs wide true and itemFeedback true (got wide ${p.wide}, itemFeedback ${p.itemFeedback})`);
}
