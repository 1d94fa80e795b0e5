/**
 * Polls a condition until it holds or a deadline passes, for tests that wait on real networks.
 * A timeout rejects with an error naming what was awaited, so a failing test says what never
 * happened instead of timing out silently.
 */
export interface WaitForOptions {
  /** Give up after this long. */
  timeoutMs: number
  /** Time between checks; default 50 ms. */
  intervalMs?: number
  /** What is awaited, in words: "5 nodes connected". Named in the timeout error. */
  what: string
}

const DEFAULT_INTERVAL_MS = 50

export class WaitForTimeoutError extends Error {
  constructor (what: string, timeoutMs: number, lastError: unknown) {
    const detail = lastError === undefined ? '' : ` (last check threw: ${String(lastError)})`
    super(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`)
    this.name = 'WaitForTimeoutError'
  }
}

export async function waitFor (
  condition: () => boolean | Promise<boolean>,
  options: WaitForOptions
): Promise<void> {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS
  const deadlineMs = performance.now() + options.timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await condition()) return
      lastError = undefined
    } catch (err) {
      // A check may throw while the system settles; the last error is reported on timeout.
      lastError = err
    }
    if (performance.now() >= deadlineMs) {
      throw new WaitForTimeoutError(options.what, options.timeoutMs, lastError)
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}
