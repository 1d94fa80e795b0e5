// Goal: every network key derives deterministically from the token secret, under its own HKDF
// label, in the exact form its consumer (libp2p pnet, mDNS, kad-dht) needs, and rendezvous slots
// follow the clock. Method: an independent oracle (node:crypto hkdfSync) pins the derivation so
// cluster compatibility cannot change silently; pairwise comparisons show the keys are distinct;
// format checks by regular expression; an it.each table for the pure slot arithmetic.
import { hkdfSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deriveKeys, generateToken, InvariantError, rendezvousSlots } from '../src/index.js'
import type { NetworkToken } from '../src/index.js'
import { DERIVATION_LABELS } from '../src/token/derive.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const tokenOf = (secret: Uint8Array): NetworkToken => generateToken({ randomBytes: () => secret })
const oracle = (secret: Uint8Array, label: string, length: number): Uint8Array =>
  new Uint8Array(hkdfSync('sha256', secret, 'p2p-bootstrap/network-token', label, length))

describe('deriveKeys', () => {
  const secret = Uint8Array.from({ length: 32 }, (_, index) => index * 7)
  const keys = deriveKeys(tokenOf(secret))

  it('matches an independent HKDF-SHA256 under the documented labels', () => {
    expect(hex(keys.sealingKey)).toBe(hex(oracle(secret, 'p2pb/v1/sealing-key', 32)))
    expect(hex(keys.rendezvousKey(42))).toBe(hex(oracle(secret, 'p2pb/v1/rendezvous-slot/42', 32)))
    expect(new TextDecoder().decode(keys.pnetKey)).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${hex(oracle(secret, 'p2pb/v1/pnet-psk', 32))}`)
    expect(keys.mdnsServiceName).toBe(`p2pb-${hex(oracle(secret, 'p2pb/v1/mdns-service', 5))}`)
    expect(keys.dhtProtocolPrefix).toBe(`/p2pb/${hex(oracle(secret, 'p2pb/v1/dht-protocol', 6))}`)
    expect(keys.syncProtocolPrefix).toBe(`/p2pb-sync/${hex(oracle(secret, 'p2pb/v1/sync-protocol', 6))}`)
  })

  it('gives each key the form its consumer requires', () => {
    expect(keys.clusterId).toMatch(/^c[a-z2-7]{16}$/)
    expect(new TextDecoder().decode(keys.pnetKey)).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
    // RFC 6335 service name: at most 15 characters, letters, digits and inner hyphens.
    expect(keys.mdnsServiceName).toMatch(/^[a-z][a-z0-9-]{0,13}[a-z0-9]$/)
    expect(keys.dhtProtocolPrefix).toMatch(/^\/p2pb\/[0-9a-f]{12}$/)
    expect(keys.syncProtocolPrefix).toMatch(/^\/p2pb-sync\/[0-9a-f]{12}$/)
    expect(keys.sealingKey).toHaveLength(32)
    expect(keys.rendezvousKey(0)).toHaveLength(32)
  })

  it('uses pairwise distinct labels and yields pairwise distinct keys', () => {
    const labels = Object.values(DERIVATION_LABELS)
    expect(new Set(labels).size).toBe(labels.length)
    const pnetHex = new TextDecoder().decode(keys.pnetKey).split('\n')[2] ?? ''
    const material = [
      keys.clusterId, pnetHex, keys.mdnsServiceName.slice(5), keys.dhtProtocolPrefix.slice(6),
      keys.syncProtocolPrefix.slice(11), hex(keys.sealingKey), hex(keys.rendezvousKey(0)),
      hex(keys.rendezvousKey(1)), hex(secret)
    ]
    for (const [index, value] of material.entries()) {
      for (const other of material.slice(index + 1)) {
        expect(other.includes(value) || value.includes(other)).toBe(false)
      }
    }
  })

  it('is deterministic per secret and differs between secrets', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (first, second) => {
      fc.pre(hex(first) !== hex(second))
      const again = deriveKeys(tokenOf(Uint8Array.from(first)))
      const a = deriveKeys(tokenOf(first))
      const b = deriveKeys(tokenOf(second))
      expect(again.clusterId).toBe(a.clusterId)
      expect(hex(again.sealingKey)).toBe(hex(a.sealingKey))
      expect(a.clusterId).not.toBe(b.clusterId)
      expect(hex(a.pnetKey)).not.toBe(hex(b.pnetKey))
    }), { numRuns: 50 })
  })

  it('does not depend on the shape fields (same secret, same keys)', () => {
    const shaped = deriveKeys(generateToken({ randomBytes: () => secret, expect: 3, controlPlanes: 3, name: 'x' }))
    expect(shaped.clusterId).toBe(keys.clusterId)
    expect(hex(shaped.pnetKey)).toBe(hex(keys.pnetKey))
  })

  it.each([-1, 1.5, Number.NaN])('refuses rendezvous slot %d as a caller bug', (slot) => {
    expect(() => keys.rendezvousKey(slot)).toThrow(InvariantError)
  })
})

describe('rendezvousSlots', () => {
  const hourMs = 3_600_000
  it.each<[number, number | undefined, number, number]>([
    [0, undefined, 0, 0],
    [hourMs - 1, undefined, 0, 0],
    [hourMs, undefined, 1, 0],
    [2 * hourMs - 1, undefined, 1, 0],
    [2 * hourMs, undefined, 2, 1],
    [5_500, 1_000, 5, 4],
    [1_700_000_000_000, 60_000, 28_333_333, 28_333_332]
  ])('at %d ms with slot %s ms: current %d, previous %d', (nowMs, slotMs, current, previous) => {
    expect(rendezvousSlots(nowMs, slotMs)).toEqual({ current, previous })
  })

  it('refuses a zero slot length as a caller bug', () => {
    expect(() => rendezvousSlots(1000, 0)).toThrow(InvariantError)
  })
})
