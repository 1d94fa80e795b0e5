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
    pool: 'forks',
    // Both cores of a 2-core machine: vitest's default is CPUs - 1 workers, which leaves one idle
    // and runs the suite file by file. Tests that form fleets must hold up under that load anyway.
    maxWorkers: 2
  }
})
