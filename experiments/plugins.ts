/**
 * User modules (plugins): files that register agents, envs or anything else on import, loaded by
 * `egym run --import FILE` and a spec's `modules` list, in the main thread and in every worker (thread or process), so user
 * agents and envs run exactly like built-in ones. `.js`/`.mjs` files load on plain Node; `.ts` files need tsx
 * (a development dependency of this repo; `npm i -D tsx` in a user project). A module's content hash is part of
 * every cell's key, so an edited plugin is never mistaken for finished cells of the old one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EgymError } from '../envs/errors.js';

export interface LoadedModule {
  /** Absolute path. */
  path: string;
  /** SHA-256 of the file's content (first 16 hex digits). */
  sha256: string;
}

const loaded = new Map<string, string>();
let tsxRegistered = false;

function importFailed(where: string, abs: string, e: unknown): EgymError {
  return e instanceof EgymError ? e : new EgymError('USAGE', `${where}: importing ${abs} failed: ${(e as Error).message}`, where);
}

/** Resolve, hash and import user modules (each once per thread); `base` resolves relative paths. */
export async function loadModules(paths: readonly string[], base: string, field = 'modules'): Promise<LoadedModule[]> {
  const out: LoadedModule[] = [];
  for (const [i, p] of paths.entries()) {
    const where = `${field}[${i}]`;
    if (typeof p !== 'string' || p === '') throw new EgymError('USAGE', `${where}: a module path must be a non-empty string`, where);
    const abs = isAbsolute(p) ? p : resolve(base, p);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new EgymError('USAGE', `${where}: module ${abs} does not exist (paths are relative to the spec file, or to the current folder for --import)`, where);
    const sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16);
    if (!loaded.has(abs)) {
      const url = pathToFileURL(abs).href;
      try {
        await import(url);
      } catch (e) {
        // A .ts module where no TypeScript loader is registered yet (an installed package, a fresh worker): tsx.
        if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || tsxRegistered) throw importFailed(where, abs, e);
        try {
          const { register } = (await import('tsx/esm/api')) as { register: () => void };
          register();
          tsxRegistered = true;
        } catch {
          throw new EgymError('USAGE', `${where}: ${abs} is TypeScript and tsx is not installed; npm i -D tsx, or compile the module to .js`, where);
        }
        try {
          await import(url);
        } catch (e2) {
          throw importFailed(where, abs, e2);
        }
      }
      loaded.set(abs, sha256);
    } else if (loaded.get(abs) !== sha256) {
      throw new EgymError('USAGE', `${where}: ${abs} changed on disk after it was loaded in this process; restart to use the new version`, where);
    }
    out.push({ path: abs, sha256 });
  }
  return out;
}
