// Goal: S8 — a config edited after the commit is reported, setting by setting, and never changes
// the plan. Method: a table of configs against one plan decided under { expect 3, controlPlanes 3,
// name mill, vip 10.0.0.100 }: each differing setting gives one sentence naming both values.
import { describe, expect, it } from 'vitest'
import { shapeDrift } from '../src/index.js'
import type { ClusterShape, Plan } from '../src/index.js'

const plan: Plan = {
  clusterId: 'c',
  epoch: 2,
  name: 'mill',
  init: 'a',
  controlPlanes: ['a', 'b', 'c'],
  workers: ['d'],
  vip: '10.0.0.100',
  decidedUnder: { expect: 3, controlPlanes: 3 },
  secrets: { serverTokenHash: 's', agentTokenHash: 'g', serverTokenSealed: {}, agentTokenSealed: new Uint8Array(0) },
  notes: []
}
const same: ClusterShape = { expect: 3, controlPlanes: 3, name: 'mill', vip: '10.0.0.100' }

describe('shapeDrift', () => {
  it('says nothing when the config is the shape the plan was decided under', () => {
    expect(shapeDrift(plan, same)).toEqual([])
  })

  it.each([
    [{ ...same, expect: 7 }, /^expect is 7 in this node's config but plan epoch 2 was decided under expect 3: .*no effect/],
    [{ controlPlanes: 3, name: 'mill', vip: '10.0.0.100' }, /^expect is not set .* decided under expect 3/],
    [{ ...same, controlPlanes: 5 }, /^controlPlanes is 5 in this node's config but plan epoch 2 has 3 \(decided under 3\): .*committed epoch/],
    [{ ...same, name: 'shop' }, /^name is shop in this node's config but the committed plan says mill/],
    [{ ...same, vip: '10.0.0.200' }, /^vip is 10\.0\.0\.200 .* says 10\.0\.0\.100/]
  ])('reports %j in one sentence', (shape, sentence) => {
    const drift = shapeDrift(plan, shape)
    expect(drift).toHaveLength(1)
    expect(drift[0]).toMatch(sentence)
  })

  it('a raised controlPlanes that growth has carried out is no longer reported', () => {
    const grown: Plan = { ...plan, epoch: 3, controlPlanes: ['a', 'b', 'c', 'd', 'e'], workers: [] }
    expect(shapeDrift(grown, { ...same, controlPlanes: 5 })).toEqual([])
  })
})
