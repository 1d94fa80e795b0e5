import { assert } from '@p2p-bootstrap/core'
import type { Prng } from '@p2p-bootstrap/core'

/** Drift is in parts per million: 100 ppm is 8.6 s a day, a cheap crystal without NTP. */
const PPM = 1_000_000

export interface ClockSettings {
  /** Constant offset of this node's clock from true time. */
  readonly skewMs: number
  /** Rate error: the clock gains `driftPpm` ms per 1,000 s of simulated time (negative loses). */
  readonly driftPpm: number
}

/**
 * One node's view of time: `epochBaseMs + simTimeMs + skewMs + drift`. Monotonic within a node
 * (|drift| < 1e6 ppm), but two nodes disagree by their skews, as boxes booted without NTP do.
 */
export class NodeClock {
  constructor (readonly epochBaseMs: number, readonly settings: ClockSettings) {
    assert(Math.abs(settings.driftPpm) < PPM, 'clock drift below 100 % keeps a clock monotonic')
    assert(Number.isSafeInteger(settings.skewMs), 'clock skew is whole milliseconds')
  }

  nowMs (simTimeMs: number): number {
    const driftMs = Math.floor((simTimeMs * this.settings.driftPpm) / PPM)
    return this.epochBaseMs + simTimeMs + this.settings.skewMs + driftMs
  }
}

/** Draws a clock with skew in [-skewMsMax, skewMsMax] and drift in [-driftPpmMax, driftPpmMax]. */
export function randomClockSettings (prng: Prng, skewMsMax: number, driftPpmMax: number): ClockSettings {
  return {
    skewMs: prng.intInclusive(-skewMsMax, skewMsMax),
    driftPpm: prng.intInclusive(-driftPpmMax, driftPpmMax)
  }
}
