import { defineConfig } from 'vitest/config';

// Three suites, all run by `npm test` (and CI): `unit` mirrors the source folders (test/envs, test/agents,
// test/policies, test/experiments); `learning` holds the slow tests that train agents to known optima or
// baselines; `cluster` runs sweeps on a real Slurm cluster (test/cluster). Run one with `npm run test:unit`,
// `npm run test:learning` or `npm run test:cluster`.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/envs/**/*.test.ts', 'test/agents/**/*.test.ts', 'test/policies/**/*.test.ts', 'test/experiments/**/*.test.ts'] } },
      { extends: true, test: { name: 'learning', include: ['test/learning/**/*.test.ts'] } },
      { extends: true, test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'] } },
    ],
  },
});
