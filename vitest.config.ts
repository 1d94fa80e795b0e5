import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources, so tests need no build step.
    conditions: ['source']
  },
  ssr: {
    resolve: {
      conditions: ['source']
    }
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Both cores (vitest's default on 2 cores is one worker, and the suite would take twice as
    // long). Tests that start agents on chosen ports each use their own loopback range
    // (test/helpers/free-port.ts), so two files at once never race for a port.
    maxWorkers: 2,
    pool: 'forks'
  }
})
