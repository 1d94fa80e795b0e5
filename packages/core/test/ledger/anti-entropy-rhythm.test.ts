// Goal: the steady-state rhythm of anti-entropy (issue 16, "quiet after formation"): waits double
// up to the steady maximum only while this node holds the plan and nothing differed, and any
// difference brings the next round within one base interval. Method: tables of rounds and changes
// on the pure helper, plus a long walk checking that the wait never leaves [base, max].
import { describe, expect, it } from 'vitest'
import { afterChange, afterRound, exchangeDiffers, startRhythm } from '../../src/ledger/anti-entropy-rhythm.js'
import type { AntiEntropyRhythm } from '../../src/ledger/anti-entropy-rhythm.js'
import { lanProfile, testProfile, validateProfile, wanProfile } from '../../src/index.js'

const profile = { antiEntropyIntervalMs: 2_000, antiEntropySteadyMaxMs: 30_000 }

/** Runs `rounds` quiet rounds, each when it is due, and returns the waits chosen. */
function quietWaits (rhythm: AntiEntropyRhythm, rounds: number, holdsPlan: boolean): number[] {
  const waits: number[] = []
  let current = rhythm
  for (let round = 0; round < rounds; round++) {
    current = afterRound(current, current.nextMs, holdsPlan, profile)
    waits.push(current.intervalMs)
  }
  return waits
}

describe('anti-entropy rhythm', () => {
  it.each([
    { what: 'holding the plan, quiet: doubles to the steady maximum', holdsPlan: true, waits: [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000] },
    { what: 'without the plan (forming): stays at the base interval', holdsPlan: false, waits: [2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000] }
  ])('$what', ({ holdsPlan, waits }) => {
    // The start counts as a change: the first wait is the base interval whatever happens.
    expect(quietWaits(startRhythm(0, 500, profile), waits.length, holdsPlan)).toEqual(waits)
  })

  it.each([
    { what: 'a change long before the next round', changeAtMs: 1_000, nextMs: 31_000, wantNextMs: 3_000 },
    { what: 'a change just before the next round keeps it', changeAtMs: 30_000, nextMs: 31_000, wantNextMs: 31_000 },
    { what: 'a change at the round itself', changeAtMs: 31_000, nextMs: 31_000, wantNextMs: 31_000 }
  ])('snaps back: $what', ({ changeAtMs, nextMs, wantNextMs }) => {
    const steady: AntiEntropyRhythm = { intervalMs: 30_000, nextMs, changed: false }
    const changed = afterChange(steady, changeAtMs, profile)
    expect(changed).toEqual({ intervalMs: 2_000, nextMs: wantNextMs, changed: true })
    // The round after a change waits the base interval again, then the back-off starts over.
    const next = afterRound(changed, changed.nextMs, true, profile)
    expect(next.intervalMs).toBe(2_000)
    expect(afterRound(next, next.nextMs, true, profile).intervalMs).toBe(4_000)
  })

  it('never waits less than the base interval or more than the steady maximum, whatever the order of rounds and changes', () => {
    let rhythm = startRhythm(0, 0, profile)
    let nowMs = 0
    for (let step = 0; step < 1_000; step++) {
      // A fixed, irregular pattern: mostly quiet rounds, a change every 7th or 11th step.
      if (step % 7 === 3 || step % 11 === 5) {
        nowMs += 100
        const before = rhythm.nextMs
        rhythm = afterChange(rhythm, nowMs, profile)
        expect(rhythm.nextMs).toBeLessThanOrEqual(Math.min(before, nowMs + profile.antiEntropyIntervalMs))
      } else {
        nowMs = rhythm.nextMs
        rhythm = afterRound(rhythm, nowMs, step % 13 !== 0, profile)
        expect(rhythm.nextMs - nowMs).toBe(rhythm.intervalMs)
      }
      expect(rhythm.intervalMs).toBeGreaterThanOrEqual(profile.antiEntropyIntervalMs)
      expect(rhythm.intervalMs).toBeLessThanOrEqual(profile.antiEntropySteadyMaxMs)
    }
  })

  it('a steady maximum equal to the base interval means no back-off', () => {
    const flat = { antiEntropyIntervalMs: 500, antiEntropySteadyMaxMs: 500 }
    let rhythm = startRhythm(0, 0, flat)
    for (let round = 0; round < 10; round++) {
      rhythm = afterRound(rhythm, rhythm.nextMs, true, flat)
      expect(rhythm.intervalMs).toBe(500)
    }
  })

  it.each([
    { kind: 'ledger/digest', answered: 0, differs: false },
    { kind: 'ledger/digest', answered: 1, differs: true },
    { kind: 'ledger/buckets', answered: 0, differs: true },
    { kind: 'ledger/summary', answered: 0, differs: true },
    { kind: 'ledger/pull', answered: 1, differs: true },
    { kind: 'ledger/delta', answered: 0, differs: false }
  ] as const)('a $kind answered with $answered messages differs: $differs', ({ kind, answered, differs }) => {
    expect(exchangeDiffers(kind, answered)).toBe(differs)
  })
})

describe('antiEntropySteadyMaxMs in the profiles', () => {
  it.each([lanProfile(), wanProfile(), testProfile()])('$name backs off to at least its base interval and validates', (named) => {
    expect(named.antiEntropySteadyMaxMs).toBeGreaterThan(named.antiEntropyIntervalMs)
    expect(validateProfile(named)).toBe(named)
  })

  it('a steady maximum below the base interval is refused by name', () => {
    expect(() => validateProfile({ ...lanProfile(), antiEntropySteadyMaxMs: 1_000 }))
      .toThrow(/antiEntropySteadyMaxMs must be at least antiEntropyIntervalMs/)
  })
})
