/** Public entry of the experiment runner: specs, runs, evaluation, summaries, statistics and result files. */
export { runExperiment, reportRun, mergeRuns, writeReport, type RunOptions, type RunOutcome } from './experiment.js';
export { resolveSpec, SpecSchema, SpecError, MAX_USERS, type Published, type RawSpec, type ResolvedSpec, type ResolvedAgent } from './spec.js';
export { evaluateAgent, type EvaluationOptions, type UserOutcomes } from './evaluate.js';
export { runCell, userColumns, type CellResult, type CurvePoint, type TrainLogPoint } from './run-cell.js';
export { expandCells, type Cell } from './cells.js';
export { comparePublished, publishedTable, summarize, summaryCsv, summaryJson, summaryTable, type PublishedComparison, type PublishedRow, type Summary } from './summary.js';
export { compareGroups, comparisonText, type SeedComparison } from './compare.js';
export * as stats from './stats.js';
export { readCell, readCells, ResultFileError, cellPath, sha256 } from './results.js';
export { runCalibration, calibrationPolicies, type Calibration, type CalibrationRow } from './calibrate.js';
export { collectedMetrics, listMetrics, metricValues, registerMetric, USER_COLUMNS, type MetricCollector, type MetricContext, type MetricDefinition, type MetricStep } from './metrics.js';
