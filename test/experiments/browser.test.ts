// The report and the live page in a real browser: Chromium from the OS packages (.ci/run installs it), driven by
// playwright-core. No console errors, every figure rendered with its marks, the live curve grows while a run
// writes evaluation points, and a screenshot of each under the run folder.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runExperiment } from '../../experiments/experiment.js';
import { serve } from '../../experiments/serve.js';

const ROOT_FILE = join(import.meta.dirname, '..', '..', 'package.json');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH ?? ''].find((p) => p && existsSync(p));
if (!CHROMIUM) console.log('browser tests skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH); .ci/run installs it');

const spec = (name: string, userSteps: number, every: number, learner: Record<string, unknown> = { id: 'q-learning' }) => ({
  version: 2,
  name,
  env: { id: 'retention-v0', params: { horizonDays: 10 } },
  agents: [{ id: 'random' }, learner, { id: 'ceiling-oracle' }],
  seeds: 2,
  train: { userSteps, numEnvs: 32 },
  eval: { every, users: 40 },
  final: { users: 60 },
});

describe.skipIf(!CHROMIUM)('in Chromium', () => {
  it('report.html: no console errors, every figure drawn with marks, a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const root = mkdtempSync(join(tmpdir(), 'egym-browser-'));
    const r = await runExperiment(spec('browser-report', 3200, 1600), { workers: 0, out: join(root, 'run') });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(r.runDir, 'report.html')).href);
      const figures = await page.$$eval('figure', (fs) => fs.map((f) => ({ id: f.id, marks: f.querySelectorAll('svg path, svg line, svg circle, svg rect').length, caption: f.querySelector('figcaption')?.textContent ?? '' })));
      expect(figures.length).toBeGreaterThanOrEqual(8);
      for (const f of figures) {
        expect(f.marks, f.id).toBeGreaterThan(3);
        expect(f.caption, f.id).not.toBe(f.id);
      }
      expect(await page.$$eval('#headline tr', (rows) => rows.length)).toBe(4);
      expect(await page.$eval('details > summary', (s) => s.textContent)).toMatch(/^Manifest/);
      mkdirSync(join(r.runDir, 'screenshots'), { recursive: true });
      const shot = join(r.runDir, 'screenshots', 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('the live page of a running experiment: the runs listed, the learning curve grows as cells write points, a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const root = mkdtempSync(join(tmpdir(), 'egym-live-'));
    const runDir = join(root, 'live-run');
    const server = await serve({ dir: root, port: 0 });
    // Workers keep this thread free to serve while the cells run; PPO's cells take long enough to watch (about 20 s).
    const running = runExperiment(spec('browser-live', 32_000, 4_000, { id: 'ppo', params: { numSteps: 32, hidden: 16, backend: 'cpu' } }), { workers: 2, out: runDir });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      // The run folder appears once the run has written its manifest.
      for (let i = 0; i < 100 && !existsSync(join(runDir, 'manifest.json')); i++) await new Promise((ok) => setTimeout(ok, 100));
      await page.goto(server.url);
      expect(await page.$$eval('#runs tr', (rows) => rows.map((r) => r.textContent ?? '').join('\n'))).toContain('browser-live');
      await page.goto(`${server.url}run/live-run/`);
      const points = async () => Number(/(\d+) curve points/.exec((await page.textContent('#status')) ?? '')?.[1] ?? -1);
      const seen: number[] = [await points()];
      // The page polls every 2 s: watch the count of points while the run goes on.
      for (let i = 0; i < 40 && seen.length < 4; i++) {
        await page.waitForTimeout(1000);
        const n = await points();
        if (n !== seen.at(-1)) seen.push(n);
      }
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
      expect(seen.length).toBeGreaterThanOrEqual(3);
      const img = await page.$eval('#curve', (e) => ({ w: (e as unknown as { naturalWidth: number }).naturalWidth, src: (e as unknown as { src: string }).src }));
      expect(img.w).toBeGreaterThan(300);
      expect(img.src).toContain('live.svg?n=');
      mkdirSync(join(runDir, 'screenshots'), { recursive: true });
      await page.screenshot({ path: join(runDir, 'screenshots', 'live.png') });
      expect(statSync(join(runDir, 'screenshots', 'live.png')).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
      const r = await running;
      expect(r.complete).toBe(true);
      // Complete: the live files are gone and the page reads the same points from the cell files.
      expect(existsSync(join(runDir, 'live'))).toBe(false);
      const j = (await (await fetch(`${server.url}run/live-run/live.json`)).json()) as { points: unknown[] };
      expect(j.points.length).toBe(2 * 9 + 2 * 2);
    } finally {
      await browser.close();
      await server.close();
      await running.catch(() => undefined);
    }
  });
});

describe('egym serve without a browser', () => {
  it('serves only files under the results folder: raw ../ and encoded %2e%2e paths are refused', async () => {
    const { request } = await import('node:http');
    const root = mkdtempSync(join(tmpdir(), 'egym-serve-'));
    const s = await serve({ dir: root, port: 0 });
    const get = (path: string) =>
      new Promise<number>((ok, fail) => {
        const u = new URL(s.url);
        const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
    try {
      expect(await get('/')).toBe(200);
      for (const p of ['/files/../package.json', '/files/%2e%2e/package.json', '/files/..%2f..%2fetc%2fpasswd', '/run/../x/', '/files/' + encodeURIComponent(ROOT_FILE)]) expect(await get(p), p).toBe(404);
    } finally {
      await s.close();
    }
    await expect(serve({ dir: join(root, 'nope'), port: 0 })).rejects.toThrow(/is not a folder/);
  });
});
