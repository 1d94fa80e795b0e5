// Goal: issue 15 finding 7 — lost state files with the evidence left on disk never lead to a
// second bootstrap. A missing consensus.log beside other state is refused like a damaged one; a
// missing identity.key beside old logs is refused; a machine whose whole state dir is gone but
// whose rendered k3s config shows a committed plan takes no part in a first bootstrap and
// learns the plan from its peers. Method: a 3-node fleet of in-process bootstrappers (dry run)
// forms, is stopped, loses files by hand, and is started again.
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BootstrapperError } from '../src/index.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet, stateDirOf } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

/** A token without expect, so a restarted node may be given another one in its options. */
async function formed (): Promise<Fleet> {
  const made = await makeFleet({ controlPlanes: 1 })
  fleet = made
  for (let index = 0; index < 3; index++) await made.start(index, { shape: { expect: 3 } })
  await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(30_000) }) }))
  return made
}

async function refusal (made: Fleet, index: number): Promise<BootstrapperError> {
  try {
    await made.start(index, { peers: [], shape: { expect: 3 } })
  } catch (err) {
    if (err instanceof BootstrapperError) return err
    throw err
  }
  throw new Error(`node ${index} started`)
}

describe('lost state, kept evidence', () => {
  it('refuses a state dir that lost consensus.log and ledger.log but kept plan.json, and one that lost identity.key', async () => {
    const made = await formed()
    await made.stopAll()
    const dirOne = stateDirOf(made.dir, 1)
    expect(await readdir(dirOne)).toContain('plan.json')
    await rm(join(dirOne, 'consensus.log'))
    await rm(join(dirOne, 'ledger.log'))
    const lostLogs = await refusal(made, 1)
    expect(lostLogs.code).toBe('BOOTSTRAP_STATE_INCOMPLETE')
    expect(lostLogs.message).toMatch(/consensus\.log is missing or empty beside .*plan\.json.*could let it vote twice/)

    const dirTwo = stateDirOf(made.dir, 2)
    await rm(join(dirTwo, 'consensus.log'))
    expect((await refusal(made, 2)).message).toMatch(/consensus\.log is missing or empty beside .*ledger\.log/)

    const dirZero = stateDirOf(made.dir, 0)
    await rm(join(dirZero, 'identity.key'))
    const lostKey = await refusal(made, 0)
    expect(lostKey.code).toBe('BOOTSTRAP_STATE_INCOMPLETE')
    expect(lostKey.message).toMatch(/identity\.key is missing but .*consensus\.log of an earlier node is there/)
    // Nothing was created or deleted by the refusals.
    expect((await readdir(dirZero)).filter(name => name === 'identity.key')).toEqual([])
    expect(await readdir(dirOne)).toContain('plan.json')
  }, 90_000)

  it('a machine whose whole state dir is gone but whose k3s config remains waits for the plan and never bootstraps', async () => {
    const made = await formed()
    const plan = made.nodes[0]?.status().plan
    const oldId = made.nodes[2]?.nodeId
    await made.nodes[2]?.stop()
    await rm(stateDirOf(made.dir, 2), { recursive: true, force: true })
    // Alone first, with a quorum of one: it could only bootstrap a cluster of its own; it must not.
    const alone = await made.start(2, { peers: [], shape: { expect: 1 } })
    expect(alone.nodeId).not.toBe(oldId)
    await waitFor(() => /evidence of a committed plan .*config\.yaml.*takes no part in a first bootstrap/.test(alone.status().waitingFor),
      { timeoutMs: 10_000, what: 'the node to say why it does not bootstrap' })
    // Past the test profile's gather timeout (1 s) a quorum of one would have proposed: it did not.
    const startedAtMs = Date.now()
    await waitFor(() => Date.now() - startedAtMs > 2_000, { timeoutMs: 5_000, what: 'two gather timeouts to pass' })
    expect(alone.status().plan).toBeNull()
    expect(alone.status().ballot).toBeNull()
    await alone.stop()
    const back = await made.start(2, { shape: { expect: 3 } })
    await waitFor(() => back.status().plan !== null, { timeoutMs: 20_000, what: 'the re-installed machine to learn the plan' })
    expect(back.status().plan?.init).toBe(plan?.init)
  }, 90_000)
})
