// Goal: the shared polling helper resolves as soon as its condition holds and, on timeout, rejects
// with an error that names what was awaited. Method: conditions driven by a counter of checks, so
// no test depends on wall-clock timing beyond the helper's own short deadline.
import { describe, expect, it } from 'vitest'
import { waitFor, WaitForTimeoutError } from './wait.js'

describe('waitFor', () => {
  it('resolves once the condition holds, sync or async', async () => {
    let checks = 0
    await waitFor(() => ++checks >= 3, { timeoutMs: 5_000, intervalMs: 1, what: 'three checks' })
    expect(checks).toBe(3)
    await waitFor(async () => await Promise.resolve(true), { timeoutMs: 5_000, what: 'an async condition' })
  })

  it('rejects naming what it waited for, with the last error a check threw', async () => {
    const failure = waitFor(() => { throw new Error('not yet') }, { timeoutMs: 30, intervalMs: 5, what: 'the moon to rise' })
    await expect(failure).rejects.toBeInstanceOf(WaitForTimeoutError)
    await expect(failure).rejects.toThrow(/the moon to rise.*not yet/)
  })
})
