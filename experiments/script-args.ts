/** The value after `--name` on the command line of an experiment script (tune-ceiling, the probes), or `d`. */
export function scriptArg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : d;
}
