// Goal: the advanced `tuning` option overrides single fields of the overlay profile, after the
// named profile, `limits` and `mdns`; anything else (an unknown field, a fraction, a value below a
// field's floor, a broken relation between two fields) is refused before libp2p is touched, with an
// OverlayError naming `tuning.<field>`.
// Method: tables of bad tuning against createOverlay with `start: false` (no socket is opened when
// validation fails); good tuning through resolveOverlayOptions, the function createOverlay uses,
// compared field by field with the named profile.
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createOverlay, lanProfile, overlayTuningProblem, OverlayError, testProfile } from '../src/index.js'
import type { OverlayOptions, OverlayProfile } from '../src/index.js'
import { resolveOverlayOptions } from '../src/options.js'
import { overlayRefusal, testKeys } from './fixtures.js'

const identity = await generateKeyPair('Ed25519')
const keys = testKeys()
const noToken = (): never => { throw new Error('keys are given; no token is parsed') }

function resolvedProfile (options: Partial<OverlayOptions>): OverlayProfile {
  return resolveOverlayOptions({ keys, identity, ...options }, identity.publicKey.toString(), noToken).profile
}

async function refusal (options: Partial<OverlayOptions>): Promise<OverlayError> {
  return await overlayRefusal({ keys, identity, ...options })
}

describe('overlay tuning: refusals', () => {
  it.each<[string, Partial<OverlayOptions>, RegExp]>([
    ['an unknown field', { tuning: { mdnsInterval: 1_000 } as Partial<OverlayProfile> }, /option tuning\.mdnsInterval: is not a field of the overlay profile; use one of .*mdnsIntervalInitialMs/],
    ['a fractional interval', { tuning: { reconcileIntervalMs: 1.5 } }, /option tuning\.reconcileIntervalMs: must be a whole number from 1 to 600000, got 1\.5/],
    ['a negative count', { tuning: { targetConnections: -1 } }, /option tuning\.targetConnections: must be a whole number from 0/],
    ['a zero interval (a busy loop)', { tuning: { connectionPingIntervalMs: 0 } }, /option tuning\.connectionPingIntervalMs: .*from 1 /],
    ['an mDNS interval that floods the LAN', { tuning: { mdnsIntervalInitialMs: 5 } }, /option tuning\.mdnsIntervalInitialMs: .*from 100 /],
    ['a number as text', { tuning: { dialTimeoutMs: '5000' as unknown as number } }, /option tuning\.dialTimeoutMs: .*got "5000"/],
    ['a number for a boolean field', { tuning: { allowLoopback: 1 as unknown as boolean } }, /option tuning\.allowLoopback: must be true or false/],
    ['tuning that is not an object', { tuning: 7 as unknown as Partial<OverlayProfile> }, /option tuning: must be an object/],
    ['a target above the cap', { tuning: { targetConnections: 20 } }, /option tuning\.targetConnections: makes targetConnections \(20\) larger than maxConnections \(16\)/],
    ['a cap below the profile target', { tuning: { maxConnections: 4 } }, /option tuning\.maxConnections: makes targetConnections \(8\) larger than maxConnections \(4\)/],
    ['a target above a cap set by limits', { limits: { maxConnections: 4 }, tuning: { targetConnections: 5 } }, /option tuning\.targetConnections: .*maxConnections \(4\)/],
    ['a first mDNS interval above the longest', { tuning: { mdnsIntervalInitialMs: 90_000 } }, /option tuning\.mdnsIntervalInitialMs: makes mdnsIntervalInitialMs \(90000\) larger than mdnsIntervalMaxMs \(60000\)/],
    ['an address timeout above the whole dial', { tuning: { addressDialTimeoutMs: 6_000 } }, /option tuning\.addressDialTimeoutMs: .*dialTimeoutMs \(5000\)/]
  ])('refuses %s, naming the field', async (_label, options, message) => {
    const failure = await refusal(options)
    expect(failure.code).toBe('OVERLAY_BAD_OPTION')
    expect(failure.message).toMatch(message)
  })

  it('reports the first problem of a tuning object on its own, for callers that check early', () => {
    expect(overlayTuningProblem({ mdnsIntervalMaxMs: 1_000, targetConnections: 64 })).toBeNull()
    expect(overlayTuningProblem({ mdnsIntervalMaxMs: 1_000, nope: 1 })).toEqual({ field: 'nope', problem: expect.stringMatching(/not a field/) as string })
    expect(overlayTuningProblem(null)).toEqual({ field: '', problem: expect.stringMatching(/got null/) as string })
  })
})

describe('overlay tuning: tuned values reach the resolved profile', () => {
  it('overrides only the fields given, over the named profile', () => {
    const tuned = resolvedProfile({ profile: 'test', tuning: { mdnsIntervalInitialMs: 1_000, mdnsIntervalMaxMs: 1_000, allowLoopback: false } })
    expect(tuned).toEqual({ ...testProfile(), mdnsIntervalInitialMs: 1_000, mdnsIntervalMaxMs: 1_000, allowLoopback: false })
  })

  it('is applied after limits: the tuned target may equal a cap raised by limits', () => {
    const tuned = resolvedProfile({ limits: { maxConnections: 64 }, tuning: { targetConnections: 64 } })
    expect(tuned.maxConnections).toBe(64)
    expect(tuned.targetConnections).toBe(64)
    // Without tuning the same limits keep the profile's target.
    expect(resolvedProfile({ limits: { maxConnections: 64 } }).targetConnections).toBe(lanProfile().targetConnections)
  })

  it('is applied after the mdns option', () => {
    const tuned = resolvedProfile({ mdns: { intervalMs: 3_000 }, tuning: { mdnsIntervalInitialMs: 1_000 } })
    expect(tuned.mdnsIntervalInitialMs).toBe(1_000)
    expect(tuned.mdnsIntervalMaxMs).toBe(lanProfile().mdnsIntervalMaxMs)
  })

  it('leaves the profile as it was when tuning is empty', () => {
    expect(resolvedProfile({ tuning: {} })).toEqual(lanProfile())
  })
})
