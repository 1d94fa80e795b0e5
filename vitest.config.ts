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
    // One file at a time (vitest's default on 2 cores). Tests that spawn agents share the loopback
    // addresses 127.0.0.2 and up and pick free ports before their processes bind them: two such
    // files at once can race for a port, and a fleet then waits for a node that never started.
    pool: 'forks'
  }
})
