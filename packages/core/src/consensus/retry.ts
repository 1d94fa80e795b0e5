import { assert } from '../assert.js'
import { BALLOT_WAIT_DOUBLINGS_MAX } from './limits.js'

/**
 * A proposer's waits after `failures` ballots of its own in a row ended without a decision: the
 * profile's base doubled per failure, at most `BALLOT_WAIT_DOUBLINGS_MAX` times. A fixed wait
 * livelocked 25 agents in one loaded process: every round trip took longer than the wait, so
 * every ballot was given up just before its promises were read, and each retry added traffic
 * that slowed the next. Doubling finds a wait longer than the round trip within a few ballots;
 * the cap keeps a retry after a rival's crash near.
 */
export function grownWaitMs (baseMs: number, failures: number): number {
  assert(Number.isSafeInteger(baseMs) && baseMs >= 0, 'a base wait is a whole number of ms')
  assert(Number.isSafeInteger(failures) && failures >= 0, 'failures are counted')
  return baseMs * 2 ** Math.min(failures, BALLOT_WAIT_DOUBLINGS_MAX)
}
