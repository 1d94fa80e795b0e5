// Goal: the driver runs the node on two clocks (monotonic for timers, wall for the HLC) and tells
// it when its own event loop was frozen, before the late tick (Lifeguard, issue 16). Method: a
// recording stand-in node and an injected clock; ticks are called by hand, so nothing waits.
import { describe, expect, it } from 'vitest'
import type { CoreNode, Ready } from '@p2p-bootstrap/core'
import { NodeDriver, STALL_GAP_MS } from '../src/index.js'

const TICK_MS = 50

function recordingNode (calls: string[]): CoreNode {
  const ready: Ready = { persist: { records: [], sync: false }, send: [], events: [] }
  return {
    nodeId: 'n',
    tick: (nowMs, wallMs) => { calls.push(`tick ${nowMs} ${String(wallMs)}`) },
    step: (_envelope, nowMs, wallMs) => { calls.push(`step ${nowMs} ${String(wallMs)}`) },
    discover: (peer, nowMs, wallMs) => { calls.push(`discover ${peer} ${nowMs} ${String(wallMs)}`) },
    resumed: (frozenMs, nowMs) => { calls.push(`resumed ${frozenMs} ${nowMs}`) },
    ready: () => ready,
    advance: () => {},
    leave: () => {},
    status: () => { throw new Error('not used') },
    inspect: () => { throw new Error('not used') }
  }
}

describe('NodeDriver clocks', () => {
  it('passes the monotonic clock as nowMs and the wall clock as wallMs, and says a late tick was a stall before it runs', async () => {
    const calls: string[] = []
    let monotonicMs = 1_000
    let wallMs = 1_800_000_000_000
    const driver = new NodeDriver(recordingNode(calls), {
      persist: async () => {},
      send: () => {},
      events: () => {},
      fatal: (error) => { throw error },
      clock: { monotonicMs: () => monotonicMs, wallMs: () => wallMs }
    }, TICK_MS)
    driver.tick()
    await driver.settled()
    monotonicMs += TICK_MS + STALL_GAP_MS - 1 // late, but within timer jitter
    wallMs -= 600_000 // NTP steps the wall clock back 10 minutes: only wallMs follows
    driver.tick()
    await driver.settled()
    monotonicMs += TICK_MS + 2_000 // frozen for 2 s
    driver.tick()
    driver.discover('peer')
    await driver.settled()
    driver.stop()
    expect(calls).toEqual([
      'tick 1000 1800000000000',
      `tick ${1_000 + TICK_MS + STALL_GAP_MS - 1} 1799999400000`,
      `resumed 2000 ${1_000 + 2 * TICK_MS + STALL_GAP_MS - 1 + 2_000}`,
      `tick ${1_000 + 2 * TICK_MS + STALL_GAP_MS - 1 + 2_000} 1799999400000`,
      `discover peer ${1_000 + 2 * TICK_MS + STALL_GAP_MS - 1 + 2_000} 1799999400000`
    ])
  })
})
