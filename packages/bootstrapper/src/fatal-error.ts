import { InvariantError } from '@p2p-bootstrap/core'
import { BootstrapperError } from './errors.js'
import { StateDirError } from './state/errors.js'

/**
 * The error a stopping node reports, by what stopped it: the state dir refusing a write (the
 * operator frees space or fixes the dir), or anything else, which is a bug (one of our own
 * invariants, or an error nobody planned for). An invariant failure was once reported as "the state
 * dir refused a write … free space", sending the operator after the wrong problem.
 */
export function fatalError (err: unknown, stateDir: string): BootstrapperError {
  const message = err instanceof Error ? err.message : String(err)
  // A record the log cannot encode is our bug, not the disk's.
  if (err instanceof StateDirError && err.code !== 'STATE_RECORD_INVALID') {
    return new BootstrapperError('BOOTSTRAP_STORAGE_FAILED',
      `stopping: the state dir refused a write (${message}); free space or fix ${stateDir}, then start again`,
      { cause: err, fatal: true })
  }
  const what = err instanceof InvariantError ? 'an internal check failed' : 'an unexpected error'
  return new BootstrapperError('BOOTSTRAP_INVARIANT_FAILED',
    `stopping: ${what} (${message}); this is a bug, please report it with the log; the state dir ${stateDir} is left as it was`,
    { cause: err, fatal: true })
}
