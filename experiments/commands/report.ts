/** `egym report`. */
import type { Argv } from 'yargs';
import { join } from 'node:path';
import { reportRun } from '../experiment.js';
import { summaryTable } from '../summary.js';
import { checkPublished, out } from './common.js';

export const reportCommand = (cli: Argv): Argv =>
  cli.command(
    'report <runDir>',
    'Rebuild summary.json, summary.csv, plots and report.html of a run folder',
    (y) =>
      y
        .positional('runDir', { type: 'string', demandOption: true })
        .option('json', { type: 'boolean', default: false })
        .example('$0 report results/flagship/run-d3754fe9b1', 'rebuild the summary and report of a run'),
    async (a) => {
      const s = await reportRun(a.runDir as string);
      out(a.json ? JSON.stringify(s, null, 2) : `${summaryTable(s)}\n\nreport: ${join(a.runDir as string, 'report.html')}`);
      checkPublished(s);
    },
  );
