/** `egym worker`. */
import type { Argv } from 'yargs';
import { out } from './common.js';

export const workerCommand = (cli: Argv): Argv =>
  cli.command(
    'worker <url>',
    'Take cells from the queue at redis://HOST:PORT/DB (egym run --queue) and run them, one at a time, until stopped (Ctrl-C or SIGTERM)',
    (y) =>
      y
        .positional('url', { type: 'string', demandOption: true, describe: 'redis://HOST:PORT/DB' })
        .option('lock-ms', { type: 'number', default: 30_000, describe: "a running cell's lock: a worker silent this long has its cell taken back" })
        .example('$0 worker redis://10.0.0.5:6379/0', 'one worker; start as many as you like, anywhere'),
    async (a) => {
      const { parseRedisUrl, startQueueWorker } = await import('../queue.js');
      parseRedisUrl(a.url as string);
      const w = startQueueWorker({ url: a.url as string, lockMs: a['lock-ms'], onCell: (c) => out(`done ${c.label} seed ${c.seed} (${c.key})`),
        onFailed: (c, m, retried) => out(`failed ${c.label} seed ${c.seed} (${c.key}): ${m}${retried ? ' (it will be tried again)' : ''}`),
      });
      out(`worker: taking cells from ${a.url}`);
      const stop = () => void w.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await w.closed;
      // ioredis and BullMQ may keep timers of a connection that never came back: the worker is done.
      process.exit(process.exitCode ?? 0);
    },
  );
