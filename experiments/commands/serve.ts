/** `egym serve`. */
import type { Argv } from 'yargs';
import { serve } from '../serve.js';
import { out } from './common.js';

export const serveCommand = (cli: Argv): Argv =>
  cli.command(
    'serve [dir]',
    'Serve a local page that lists the runs under a results folder, opens their reports, and shows the learning curves of runs in progress as they are written',
    (y) =>
      y
        .positional('dir', { type: 'string', default: 'results', describe: 'the results folder' })
        .option('port', { type: 'number', default: 8080, describe: 'port on 127.0.0.1 (0: any free port)' })
        .example('$0 serve results', 'then open the printed address'),
    async (a) => {
      const s = await serve({ dir: a.dir, port: a.port });
      out(`serving ${a.dir} at ${s.url} (Ctrl-C stops)`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          void s.close().then(done);
        };
        process.on('SIGINT', stop);
      });
    },
  );
