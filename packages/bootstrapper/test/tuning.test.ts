// Goal: the advanced `tuning` option overrides single timings of the named profile, for the core
// (validated by the core's validateProfile after the merge) and for the overlay (applied after the
// bootstrapper's own connection limit); bad tuning is refused before anything starts, with a
// BootstrapperError naming `tuning.…` down to the field, and the fix.
// Method: tables of bad tuning against resolveOptions (what createBootstrapper runs first); good
// tuning read back from the resolved options; one real bootstrapper (loopback, no discovery, state
// dir in a temp folder) whose overlay refuses a tuned target above the bootstrapper's connection
// cap, which only the overlay knows: so the tuning did reach createOverlay.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken, lanProfile, testProfile } from '@p2p-bootstrap/core'
import { OverlayError } from '@p2p-bootstrap/overlay'
import { describe, expect, it } from 'vitest'
import { BootstrapperError, createBootstrapper, resolveOptions } from '../src/index.js'
import type { BootstrapperOptions } from '../src/index.js'

const token = formatToken(generateToken({ expect: 3 }))

function refusal (tuning: unknown): BootstrapperError {
  let failure: unknown
  try {
    resolveOptions({ token, tuning: tuning as BootstrapperOptions['tuning'] })
  } catch (err) {
    failure = err
  }
  expect(failure).toBeInstanceOf(BootstrapperError)
  return failure as BootstrapperError
}

describe('bootstrapper tuning: refusals', () => {
  it.each<[string, unknown, RegExp]>([
    ['tuning that is not an object', 'fast', /^option tuning: must be an object such as \{ core: .*got string/],
    ['an unknown part', { consensus: {} }, /^option tuning\.consensus: unknown; tuning takes core .* and overlay/],
    ['a core part that is an array', { core: [] }, /^option tuning\.core: must be an object .*got an array/],
    ['an unknown core field', { core: { probeIntervalMillis: 500 } }, /^option tuning\.core\.probeIntervalMillis: not a tunable field .*use one of probeIntervalMs/],
    ['the profile name as a core field', { core: { name: 'wan' } }, /^option tuning\.core\.name: .*choose the profile with the profile option/],
    ['a negative core value', { core: { antiEntropyIntervalMs: -1 } }, /^option tuning\.core\.antiEntropyIntervalMs: must be a whole number of 0 or more.*got -1/],
    ['a fractional core value', { core: { pushFanout: 2.5 } }, /^option tuning\.core\.pushFanout: must be a whole number .*got 2\.5/],
    ['a core value as text', { core: { gatherTimeoutMs: '100' } }, /^option tuning\.core\.gatherTimeoutMs: .*got "100"/],
    ['a core profile the core refuses', { core: { probeTimeoutMs: 1_000 } }, /^option tuning\.core: over the lan profile, probeTimeoutMs must be below probeIntervalMs .*change the tuned values/],
    ['an unknown overlay field', { overlay: { mdnsIntervalMs: 1_000 } }, /^option tuning\.overlay\.mdnsIntervalMs: is not a field of the overlay profile/],
    ['an overlay value below its floor', { overlay: { mdnsIntervalInitialMs: 10 } }, /^option tuning\.overlay\.mdnsIntervalInitialMs: must be a whole number from 100 /],
    ['an overlay part that is null', { overlay: null }, /^option tuning\.overlay: must be an object .*got null/]
  ])('refuses %s, naming the field', (_label, tuning, message) => {
    const failure = refusal(tuning)
    expect(failure.code).toBe('BOOTSTRAP_BAD_OPTION')
    expect(failure.message).toMatch(message)
  })
})

describe('bootstrapper tuning: tuned values reach the resolved profiles', () => {
  it('merges core fields over the named profile, which is then called custom', () => {
    const resolved = resolveOptions({ token, profile: 'test', tuning: { core: { ledgerRebroadcastIntervalMs: 10_000, probeIntervalMs: 2_000 } } })
    expect(resolved.coreProfile).toEqual({ ...testProfile(), name: 'custom', ledgerRebroadcastIntervalMs: 10_000, probeIntervalMs: 2_000 })
  })

  it('is applied over failoverDelayMs', () => {
    expect(resolveOptions({ token, failoverDelayMs: 60_000 }).coreProfile.failoverDelayMs).toBe(60_000)
    expect(resolveOptions({ token, failoverDelayMs: 60_000, tuning: { core: { failoverDelayMs: 90_000 } } }).coreProfile.failoverDelayMs).toBe(90_000)
  })

  it('leaves the named profile alone without tuning, or with empty tuning', () => {
    expect(resolveOptions({ token }).coreProfile).toEqual(lanProfile())
    expect(resolveOptions({ token, tuning: { core: {}, overlay: {} } }).coreProfile).toEqual(lanProfile())
    expect(resolveOptions({ token }).overlayTuning).toEqual({})
  })

  it('carries overlay fields to the overlay', () => {
    const overlay = { mdnsIntervalInitialMs: 1_000, mdnsIntervalMaxMs: 1_000, targetConnections: 64 }
    expect(resolveOptions({ token, tuning: { overlay } }).overlayTuning).toEqual(overlay)
  })

  it('hands overlay tuning to createOverlay, after the bootstrapper\'s connection cap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-tuning-'))
    const options: BootstrapperOptions = {
      token,
      stateDir: join(dir, 'state'),
      root: join(dir, 'root'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      dht: false,
      profile: 'test',
      statusSocket: false,
      dryRun: true,
      node: { nodeIp: '10.0.0.1', hostname: 'node-0', interface: 'eth0' }
    }
    // 65 is a valid field value on its own, but above the cap of 64 the bootstrapper sets through limits.
    const refused = createBootstrapper({ ...options, tuning: { overlay: { targetConnections: 65 } } })
    const accepted = createBootstrapper({ ...options, stateDir: join(dir, 'state-2'), tuning: { overlay: { targetConnections: 64 } } })
    try {
      const failure = await refused.start({ signal: AbortSignal.timeout(10_000) }).then(() => undefined, (err: unknown) => err)
      expect(failure).toBeInstanceOf(OverlayError)
      expect((failure as OverlayError).message).toMatch(/tuning\.targetConnections: makes targetConnections \(65\) larger than maxConnections \(64\)/)
      await accepted.start({ signal: AbortSignal.timeout(10_000) })
      expect(accepted.addresses().length).toBeGreaterThan(0)
    } finally {
      await refused.stop()
      await accepted.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
