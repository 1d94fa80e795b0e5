// Goal: every bad overlay option is refused before libp2p is touched, with an OverlayError whose
// message names the option (down to the list index); profiles keep their documented relations;
// the redial back-off doubles and caps.
// Method: tables of bad options against createOverlay with `start: false` (no socket is opened
// when validation fails); pure checks of the profiles and of redialDelayMs.
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import type { PrivateKey } from '@libp2p/interface'
import {
  createOverlay, lanProfile, OverlayError, profileByName, redialDelayMs, testProfile, wanProfile
} from '../src/index.js'
import type { OverlayOptions } from '../src/index.js'
import { resolveOverlayOptions } from '../src/options.js'
import { overlayRefusal, testKeys } from './fixtures.js'

const identity = await generateKeyPair('Ed25519')
const otherPeer = (await generateKeyPair('Ed25519')).publicKey.toString()
const keys = testKeys()
const goodPeer = `/ip4/127.0.0.1/tcp/4001/p2p/${otherPeer}`

async function refusal (options: Partial<OverlayOptions>): Promise<OverlayError> {
  return await overlayRefusal({ keys, identity, ...options })
}

describe('createOverlay option validation', () => {
  it.each<[string, Partial<OverlayOptions>, RegExp]>([
    ['a bad multiaddr in peers[2]', { peers: [goodPeer, goodPeer, '/ip4/300.1.1.1/tcp/1/p2p/x'] }, /peers\[2\]/],
    ['a static peer that is no address', { peers: ['node 1:4001'] }, /peers\[0\]: "node 1:4001" is not a peer address: write an address such as 192\.168\.1\.10/],
    ['a static peer address with a bad port', { peers: ['127.0.0.2:0'] }, /peers\[0\]: "127\.0\.0\.2:0" is not a peer address/],
    ['a static peer with a bad peer id', { peers: ['/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeerId'] }, /peers\[0\]/],
    ['a static peer without TCP', { peers: [`/ip4/127.0.0.1/udp/4001/p2p/${otherPeer}`] }, /peers\[0\].*tcp/],
    ['this node as its own static peer', { peers: [`/ip4/127.0.0.1/tcp/1/p2p/${identity.publicKey.toString()}`] }, /peers\[0\].*itself/],
    ['a listen address without TCP', { listen: ['/ip4/127.0.0.1/udp/0'] }, /listen\[0\]/],
    ['no listen address', { listen: [] }, /listen/],
    ['a maxConnections of 0', { limits: { maxConnections: 0 } }, /limits\.maxConnections/],
    ['an address timeout above the dial timeout', { limits: { dialTimeoutMs: 1_000, addressDialTimeoutMs: 2_000 } }, /limits\.addressDialTimeoutMs/],
    ['a fractional pending limit', { limits: { maxIncomingPendingConnections: 1.5 } }, /limits\.maxIncomingPendingConnections/],
    ['an mDNS interval that floods the LAN', { mdns: { intervalMs: 5 } }, /mdns\.intervalMs/],
    ['an unknown profile', { profile: 'fast' as 'lan' }, /profile/],
    ['both a token and keys', { token: formatToken(generateToken()) }, /token/],
    ['a pnet key that is not a swarm key', { keys: { ...keys, pnetKey: new Uint8Array(32) } }, /keys\.pnetKey/],
    ['a bad mDNS service name', { keys: { ...keys, mdnsServiceName: 'has spaces' } }, /keys\.mdnsServiceName/],
    ['a DHT prefix that is not a path', { keys: { ...keys, dhtProtocolPrefix: 'kad' } }, /keys\.dhtProtocolPrefix/],
    ['a rendezvous key that is not a function', { keys: { ...keys, rendezvousKey: new Uint8Array(32) as unknown as () => Uint8Array } }, /keys\.rendezvousKey/],
    ['an mDNS option of null', { mdns: null as unknown as boolean }, /mdns/]
  ])('refuses %s', async (_label, options, namesOption) => {
    const failure = await refusal(options)
    expect(failure.code).toBe('OVERLAY_BAD_OPTION')
    expect(failure.message).toMatch(namesOption)
  })

  it('refuses a non-Ed25519 identity, naming the option', async () => {
    const failure = await refusal({ identity: await generateKeyPair('secp256k1') as PrivateKey })
    expect(failure.message).toMatch(/identity/)
  })

  it('accepts a token as text, deriving the same network as its keys', async () => {
    const token = generateToken()
    const overlay = await createOverlay({ token: formatToken(token), identity, start: false, mdns: false })
    try {
      expect(overlay.libp2p.status).toBe('stopped')
      expect(overlay.clusterId).toMatch(/^c[a-z2-7]{16}$/)
      const fromParsed = await createOverlay({ token, identity, start: false, mdns: false })
      expect(fromParsed.clusterId).toBe(overlay.clusterId)
      await fromParsed.stop()
    } finally {
      await overlay.stop()
    }
  })

  it('passes a mistyped token through as the core\'s TokenError', async () => {
    const text = formatToken(generateToken())
    // Change one character of the body for a different one (never for itself).
    const changed = text.at(-3) === 'A' ? 'B' : 'A'
    const mistyped = text.slice(0, -3) + changed + text.slice(-2)
    expect(mistyped).not.toBe(text)
    await expect(createOverlay({ token: mistyped, identity, start: false })).rejects.toMatchObject({ name: 'TokenError' })
  })
})

describe('profiles', () => {
  it.each(['lan', 'wan', 'test'] as const)('%s keeps room for inbound connections and bounded address dials', (name) => {
    const profile = profileByName(name)
    expect(profile.targetConnections).toBeLessThan(profile.maxConnections)
    expect(profile.addressDialTimeoutMs).toBeLessThanOrEqual(profile.dialTimeoutMs)
    expect(profile.redialBackoffInitialMs).toBeLessThanOrEqual(profile.redialBackoffMaxMs)
  })

  it.each(['lan', 'wan', 'test'] as const)('%s backs mDNS off upwards and ends a rendezvous round before the next', (name) => {
    const profile = profileByName(name)
    expect(profile.mdnsIntervalInitialMs).toBeLessThan(profile.mdnsIntervalMaxMs)
    expect(profile.rendezvousTimeoutMs).toBeLessThan(profile.rendezvousIntervalMs)
  })

  it('derives wan and test from lan, overriding only timing', () => {
    expect(wanProfile().maxConnections).toBe(lanProfile().maxConnections)
    expect(wanProfile().dialTimeoutMs).toBeGreaterThan(lanProfile().dialTimeoutMs)
    expect(testProfile().reconcileIntervalMs).toBeLessThan(lanProfile().reconcileIntervalMs)
  })
})

describe('the mdns option', () => {
  const resolve = (options: Partial<OverlayOptions>) =>
    resolveOverlayOptions({ keys, identity, profile: 'test', ...options }, '', () => keys)

  it('keeps the profile\'s intervals when mDNS is simply on', () => {
    const { profile, mdnsEnabled } = resolve({ mdns: true })
    expect(mdnsEnabled).toBe(true)
    expect([profile.mdnsIntervalInitialMs, profile.mdnsIntervalMaxMs]).toEqual([testProfile().mdnsIntervalInitialMs, testProfile().mdnsIntervalMaxMs])
  })

  it('takes { intervalMs } as the initial interval, backing off to the profile\'s maximum', () => {
    const { profile } = resolve({ mdns: { intervalMs: 200 } })
    expect([profile.mdnsIntervalInitialMs, profile.mdnsIntervalMaxMs]).toEqual([200, testProfile().mdnsIntervalMaxMs])
  })

  it('never backs off below an initial interval above the profile\'s maximum', () => {
    const { profile } = resolve({ mdns: { intervalMs: 20_000 } })
    expect([profile.mdnsIntervalInitialMs, profile.mdnsIntervalMaxMs]).toEqual([20_000, 20_000])
  })

  it('is off unless asked for', () => {
    expect(resolve({}).mdnsEnabled).toBe(false)
    expect(resolve({ mdns: false }).mdnsEnabled).toBe(false)
  })
})

describe('redialDelayMs', () => {
  it.each([
    [0, 0],
    [1, 100],
    [2, 200],
    [4, 800],
    [5, 1_000],
    [60, 1_000]
  ])('after %i failures waits %i ms (no jitter)', (failures, expectedMs) => {
    expect(redialDelayMs(failures, 100, 1_000, () => 0)).toBe(expectedMs)
  })

  it('adds at most a quarter of jitter', () => {
    expect(redialDelayMs(3, 100, 1_000, () => 1)).toBe(500)
  })
})
