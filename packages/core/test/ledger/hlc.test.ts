// Goal: the hybrid logical clock hands out strictly increasing stamps, folds in remote stamps so
// later writes order after them, and never lets a far-future remote stamp drag it more than
// maxClockSkewMs ahead. Method: it.each tables over now/observe, plus a fast-check property that
// any interleaving of now/observe calls yields strictly increasing local stamps.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HLC_COUNTER_MAX } from '../../src/limits.js'
import { HybridClock, compareStamps, compareVersions } from '../../src/ledger/hlc.js'

describe('compareStamps and compareVersions', () => {
  it.each([
    [{ wallMs: 1, counter: 0 }, { wallMs: 2, counter: 0 }, -1],
    [{ wallMs: 2, counter: 0 }, { wallMs: 1, counter: 9 }, 1],
    [{ wallMs: 2, counter: 1 }, { wallMs: 2, counter: 3 }, -1],
    [{ wallMs: 2, counter: 3 }, { wallMs: 2, counter: 3 }, 0]
  ])('orders %o against %o as %i', (a, b, expected) => {
    expect(compareStamps(a, b)).toBe(expected)
  })

  it.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0]
  ])('breaks stamp ties by writer %s vs %s', (writerA, writerB, expected) => {
    const stamp = { wallMs: 5, counter: 1 }
    expect(compareVersions({ stamp, writer: writerA }, { stamp, writer: writerB })).toBe(expected)
  })
})

describe('HybridClock', () => {
  it.each([
    ['wall clock moves on', [100, 200], [{ wallMs: 100, counter: 0 }, { wallMs: 200, counter: 0 }]],
    ['same millisecond', [100, 100, 100], [{ wallMs: 100, counter: 0 }, { wallMs: 100, counter: 1 }, { wallMs: 100, counter: 2 }]],
    ['wall clock goes back', [100, 50], [{ wallMs: 100, counter: 0 }, { wallMs: 100, counter: 1 }]]
  ])('now: %s', (_name, times, expected) => {
    const clock = new HybridClock(1_000)
    expect(times.map((t) => clock.now(t))).toEqual(expected)
  })

  it('observe of a remote stamp ahead (within skew) makes the next local stamp order after it', () => {
    const clock = new HybridClock(1_000)
    expect(clock.observe({ wallMs: 1_500, counter: 7 }, 1_000)).toBe(false)
    const next = clock.now(1_000)
    expect(compareStamps(next, { wallMs: 1_500, counter: 7 })).toBe(1)
    expect(next).toEqual({ wallMs: 1_500, counter: 9 })
  })

  it('observe of a stamp behind us only ticks the counter', () => {
    const clock = new HybridClock(1_000)
    clock.now(5_000)
    expect(clock.observe({ wallMs: 10, counter: 0 }, 5_000)).toBe(false)
    expect(clock.peek()).toEqual({ wallMs: 5_000, counter: 1 })
  })

  it('clamps a remote stamp beyond maxClockSkewMs and reports it', () => {
    const clock = new HybridClock(1_000)
    expect(clock.observe({ wallMs: 1_000_000, counter: 3 }, 10_000)).toBe(true)
    expect(clock.peek().wallMs).toBe(11_000)
    expect(clock.now(10_000).wallMs).toBe(11_000)
  })

  it('moves the wall part on when the counter is exhausted', () => {
    const clock = new HybridClock(0, { wallMs: 10, counter: HLC_COUNTER_MAX })
    expect(clock.now(10)).toEqual({ wallMs: 11, counter: 0 })
  })

  it('nowAbove orders a local write after the entry it replaces, even one from the future', () => {
    const clock = new HybridClock(1_000)
    const floor = { wallMs: 99_999, counter: 4 }
    const stamp = clock.nowAbove(floor, 10)
    expect(compareStamps(stamp, floor)).toBe(1)
  })

  it('hands out strictly increasing stamps under any mix of now and observe', () => {
    const step = fc.oneof(
      fc.record({ type: fc.constant('now' as const), nowMs: fc.nat(1_000_000) }),
      fc.record({ type: fc.constant('observe' as const), nowMs: fc.nat(1_000_000), wallMs: fc.nat(3_000_000), counter: fc.nat(50) })
    )
    fc.assert(fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const clock = new HybridClock(60_000)
      let last = clock.peek()
      for (const item of steps) {
        if (item.type === 'observe') {
          clock.observe({ wallMs: item.wallMs, counter: item.counter }, item.nowMs)
          // The clock never jumps more than the skew past the caller's time or its own past.
          expect(clock.peek().wallMs).toBeLessThanOrEqual(Math.max(last.wallMs + 1, item.nowMs + 60_000))
        } else {
          const stamp = clock.now(item.nowMs)
          expect(compareStamps(stamp, last)).toBe(1)
        }
        last = clock.peek()
      }
    }), { numRuns: 200 })
  })
})
