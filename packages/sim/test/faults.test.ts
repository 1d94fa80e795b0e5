// Goal: each fault mechanism acts as set. Method: drive the network, the store and the clock
// directly with seeded generators and count outcomes: partitions drop cross-group messages and only
// those, loss lands near its rate, duplication and latency stay in their bounds, the in-flight
// bound holds, a crash loses exactly the un-synced batches, and skew and drift show in nowMs.
import { Prng } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { MemoryStore, Network, NodeClock, QUIET_LINKS, cborCodec } from '../src/index.js'
import type { Envelope, LinkSettings, PersistRecord } from '../src/index.js'

const ping = (from: string, to: string): Envelope => ({ from, to, message: { kind: 'test/ping' } })
const network = (links: Partial<LinkSettings>, inFlightMax = 1_000_000): Network =>
  new Network({ ...QUIET_LINKS, ...links }, cborCodec, new Prng(11), inFlightMax)

describe('network', () => {
  it('drops messages across partition groups, delivers within a group, and delivers all after heal', () => {
    const net = network({})
    net.partition([['a', 'b'], ['c']])
    expect(net.send(ping('a', 'b'), 0).deliveries).toHaveLength(1)
    expect(net.send(ping('a', 'c'), 0)).toEqual({ deliveries: [], dropped: 'partition' })
    expect(net.send(ping('c', 'b'), 0).dropped).toBe('partition')
    expect(net.dropped.partition).toBe(2)
    net.heal()
    expect(net.send(ping('a', 'c'), 0).deliveries).toHaveLength(1)
  })

  it('cuts one link non-transitively: a–b and b–c stay up while a–c is down, both ways, until healed', () => {
    const net = network({})
    net.cut([['a', 'c']])
    expect([net.connected('a', 'b'), net.connected('b', 'c'), net.connected('a', 'c'), net.connected('c', 'a')]).toEqual([true, true, false, false])
    expect(net.send(ping('c', 'a'), 0).dropped).toBe('partition')
    net.heal()
    expect(net.connected('a', 'c')).toBe(true)
  })

  it('isolates a node that is in no group', () => {
    const net = network({})
    net.partition([['a', 'b']])
    expect(net.connected('a', 'z')).toBe(false)
    expect(net.connected('z', 'z')).toBe(false)
  })

  it('loses messages near the configured rate (30 %)', () => {
    const net = network({ lossPerMille: 300 })
    const sends = 10_000
    let lost = 0
    for (let i = 0; i < sends; i++) if (net.send(ping('a', 'b'), 0).dropped === 'loss') lost++
    expect(lost / sends).toBeGreaterThan(0.28)
    expect(lost / sends).toBeLessThan(0.32)
  })

  it('duplicates near its rate, and keeps latency within base + jitter + tail', () => {
    const links = { duplicatePerMille: 100, latencyMsMin: 3, latencyJitterMsMax: 5, tailPerMille: 100, latencyTailMsMax: 40 }
    const net = network(links)
    let copies = 0
    const latencies = new Set<number>()
    for (let i = 0; i < 5_000; i++) {
      for (const delivery of net.send(ping('a', 'b'), 1_000).deliveries) {
        copies++
        latencies.add(delivery.atMs - 1_000)
      }
    }
    expect(copies / 5_000).toBeGreaterThan(1.08)
    expect(copies / 5_000).toBeLessThan(1.12)
    expect(Math.min(...latencies)).toBe(3)
    expect(Math.max(...latencies)).toBeLessThanOrEqual(3 + 5 + 40)
    expect(Math.max(...latencies)).toBeGreaterThan(3 + 5) // the tail happens
  })

  it('drops on overflow beyond the in-flight bound, and makes room as messages land', () => {
    const net = network({}, 2)
    expect(net.send(ping('a', 'b'), 0).dropped).toBeNull()
    expect(net.send(ping('a', 'b'), 0).dropped).toBeNull()
    expect(net.send(ping('a', 'b'), 0).dropped).toBe('overflow')
    net.landed()
    expect(net.send(ping('a', 'b'), 0).dropped).toBeNull()
  })

  it('counts messages and encoded bytes per sender, and the bytes decode back', () => {
    const net = network({})
    const message = { kind: 'test/data', payload: 'x'.repeat(100) }
    const outcome = net.send({ from: 'a', to: 'b', message }, 0)
    const delivery = outcome.deliveries[0]
    expect(delivery).toBeDefined()
    expect(net.trafficOf('a').messagesSent).toBe(1)
    expect(net.trafficOf('a').bytesSent).toBe(delivery?.bytes.byteLength)
    expect(net.trafficOf('a').bytesSent).toBeGreaterThan(100)
    expect(net.decode(delivery?.bytes ?? new Uint8Array())).toEqual({ kind: 'test/data', payload: 'x'.repeat(100) })
  })
})

describe('store', () => {
  const record = (n: number): PersistRecord => ({ kind: `test/${n}` })
  const store = (): MemoryStore => new MemoryStore({ encode: cborCodec.encode, decode: cborCodec.decode })

  it('on power loss keeps synced batches and everything before them, and loses only later un-synced ones', () => {
    const disk = store()
    disk.append({ records: [record(1)], sync: false })
    disk.append({ records: [record(2)], sync: true }) // fsync makes record 1 durable too
    disk.append({ records: [record(3), record(4)], sync: false })
    expect(disk.crash(true)).toBe(2)
    expect(disk.restore()).toEqual([record(1), record(2)])
  })

  it('on a process crash keeps every write (the page cache survives)', () => {
    const disk = store()
    disk.append({ records: [record(1)], sync: true })
    disk.append({ records: [record(2)], sync: false })
    expect(disk.crash(false)).toBe(0)
    expect(disk.restore()).toEqual([record(1), record(2)])
  })

  it('hands back fresh objects, as a disk would', () => {
    const disk = store()
    const written = record(1)
    disk.append({ records: [written], sync: true })
    const [restored] = disk.restore()
    expect(restored).toEqual(written)
    expect(restored).not.toBe(written)
  })
})

describe('clock', () => {
  it('shows skew in nowMs from the start', () => {
    const clock = new NodeClock(1_700_000_000_000, { skewMs: -30_000, driftPpm: 0 })
    expect(clock.nowMs(0)).toBe(1_700_000_000_000 - 30_000)
    expect(clock.nowMs(5_000)).toBe(1_700_000_000_000 - 25_000)
  })

  it('drifts by driftPpm per million ms and never goes back', () => {
    const clock = new NodeClock(0, { skewMs: 0, driftPpm: 200 })
    expect(clock.nowMs(1_000_000)).toBe(1_000_200)
    let previous = -Infinity
    for (let simMs = 0; simMs < 20_000; simMs += 7) {
      expect(clock.nowMs(simMs)).toBeGreaterThanOrEqual(previous)
      previous = clock.nowMs(simMs)
    }
  })
})
