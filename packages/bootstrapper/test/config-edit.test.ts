// Goal: S8 with real bootstrappers — a fleet formed under `expect: 3` (token without expect, set in
// each node's options), stopped and started again with `expect: 4` (the fleet grew: a natural edit),
// keeps its plan on every node, renders the same k3s config, reports the edit in status, and keeps
// no rejected entries aside (nothing was refused). Before the fix every restarted node checked its
// restored plan against the new expect, refused it and compacted it away.
// Method: in-process bootstrappers on loopback with stand-in output (dry run); the restarted nodes
// are started with no peers, so what they hold comes from their own disk.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeFleet, rootOf, stateDirOf } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

async function renderedConfigs (made: Fleet, size: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: size }, async (_, index) =>
    await readFile(join(rootOf(made.dir, index), 'etc/rancher/k3s/config.yaml'), 'utf8')))
}

describe('config edited between restarts (S8)', () => {
  it('raising expect keeps every node\'s plan and rendered config, and says what the edit does', async () => {
    const made = await makeFleet({ controlPlanes: 1 })
    fleet = made
    for (let index = 0; index < 3; index++) await made.start(index, { shape: { expect: 3 } })
    await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(30_000) }) }))
    const plans = made.nodes.map(node => node.status().plan)
    const configs = await renderedConfigs(made, 3)
    expect(plans[0]).not.toBeNull()
    expect(made.nodes.map(node => node.status().configDrift)).toEqual([[], [], []])
    await made.stopAll()

    for (let index = 0; index < 3; index++) await made.start(index, { shape: { expect: 4 }, peers: [] })
    for (const [index, node] of made.nodes.entries()) {
      const status = node.status()
      expect(status.plan, `node ${index} keeps its plan`).toEqual(plans[index])
      expect(status.configDrift?.[0]).toMatch(/^expect is 4 in this node's config but plan epoch 1 was decided under expect 3/)
      const kept = (await readdir(stateDirOf(made.dir, index))).filter(name => name.startsWith('ledger.log.rejected-'))
      expect(kept, 'nothing was refused, so nothing is kept aside').toEqual([])
    }
    await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(30_000) }) }))
    expect(await renderedConfigs(made, 3)).toEqual(configs)
    expect(configs.filter(config => config.includes('cluster-init: true'))).toHaveLength(1)
  }, 120_000)
})
