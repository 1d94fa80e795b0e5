// Goal: every seed that ever failed keeps running. Method: load packages/sim/regressions.json and
// run each entry with the default node factory (the real core); check the loader rejects bad
// files by name, and that a regression list is run exactly as its entries say.
import { describe, expect, it } from 'vitest'
import { SimError, loadRegressions, parseRegressions, runSimulation } from '../src/index.js'
import { strawmanNode } from './strawman.js'
import { SUITE_TIMEOUT_MS } from './seeded.js'

describe('regression seeds', () => {
  it('runs every seed in regressions.json without a violation', () => {
    const regressions = loadRegressions()
    for (const regression of regressions) {
      const result = runSimulation({ scenario: regression.scenario, seed: regression.seed, nodes: regression.nodes })
      expect(result.violations, `${regression.scenario} seed ${regression.seed}: ${regression.note}`).toEqual([])
    }
    expect(regressions.length).toBeGreaterThan(0)
  }, SUITE_TIMEOUT_MS)

  it('replays a listed seed as written (the mechanism, on the strawman)', () => {
    const [regression] = parseRegressions([{ scenario: 'partition-minority', seed: 1, nodes: 5, note: 'two inits' }], 'inline')
    expect(regression).toEqual({ scenario: 'partition-minority', seed: 1, nodes: 5, note: 'two inits' })
    const result = runSimulation({ scenario: regression?.scenario ?? '', seed: regression?.seed ?? 0, nodes: regression?.nodes ?? 0, nodeFactory: strawmanNode })
    expect(result.seed).toBe(1)
    expect(result.nodes).toBe(5)
    expect(result.scenario).toBe('partition-minority')
  })

  it.each([
    [{}, /must hold a JSON array/],
    [[{ scenario: 'nope', seed: 1, nodes: 5, note: 'x' }], /entry 0 has unknown scenario "nope"/],
    [[{ scenario: 'healthy', seed: -1, nodes: 5, note: 'x' }], /entry 0 has a bad seed -1/],
    [[{ scenario: 'healthy', seed: 1, nodes: 0, note: 'x' }], /entry 0 has a bad node count 0/],
    [[{ scenario: 'healthy', seed: 1, nodes: 5, note: '' }], /entry 0 needs a note/]
  ])('rejects %j', (value, message) => {
    expect(() => parseRegressions(value, 'regressions.json')).toThrow(SimError)
    expect(() => parseRegressions(value, 'regressions.json')).toThrow(message)
  })
})
