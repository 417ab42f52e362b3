/**
 * The feature params that PPO and SlateQ share: consumed-item averages of the user's clicked items
 * (policies/history.ts ConsumedHistory) and per-item feedback columns (policies/item-feedback.ts), with the
 * check both agents make of how they combine. Kept apart from the agents so listing and validating params does
 * not load TensorFlow.js.
 */
import { param, paramConstraint } from '../envs/params.js';

export const CONSUMED_RATE_DEFAULT = 0.1;

export const consumedParams = {
  consumedHistory: param.boolean({ default: false, description: 'append to the user features the mean and a moving average of the features of the items this user consumed so far in the episode, and log(1 + clicks) (policies/history.ts ConsumedHistory)' }),
  consumedItemStats: param.boolean({ default: false, description: "with consumedHistory and itemFeedback: the consumed-item mean and moving average also cover the item-statistic columns (each clicked item's statistics as they were when it was served), so the user rows carry what the agent's own feedback says about the items the user consumed" }),
  consumedRate: param.number({ default: CONSUMED_RATE_DEFAULT, min: 0, max: 1, minExclusive: true, description: 'rate of the consumed-item moving average' }),
  itemFeedback: param.boolean({ default: false, description: "append to each candidate's features the item's smoothed click rate, reward per click, log(1 + shows) and (candidates with a length) reward per click per unit of length, counted from the agent's own training steps and frozen in evaluation (catalogue envs; policies/item-feedback.ts)" }),
};

/** Refuses combinations of the consumed-item params that would be ignored or could not be built. */
export function checkConsumedParams(agent: string, p: { consumedHistory: boolean; consumedItemStats: boolean; consumedRate: number; itemFeedback: boolean }): void {
  const owner = `agent ${agent}`;
  paramConstraint(owner, !p.consumedItemStats || (p.consumedHistory && p.itemFeedback), `consumedItemStats averages the item-statistic columns of consumed items: it needs consumedHistory true and itemFeedback true (got consumedHistory ${p.consumedHistory}, itemFeedback ${p.itemFeedback})`);
  // The moving average's rate is only read with consumedHistory: set without it, it would be ignored.
  paramConstraint(owner, p.consumedHistory || p.consumedRate === CONSUMED_RATE_DEFAULT, `consumedRate ${p.consumedRate} sets the consumed-item moving average of consumedHistory: it needs consumedHistory true (got false)`);
}
