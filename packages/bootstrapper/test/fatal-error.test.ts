// Goal: a stopping node names what stopped it. Finding: an invariant failure (an incarnation past
// 2^53 from a peer) was reported as "the state dir refused a write … free space", sending the
// operator after the wrong problem. Method: the errors the driver can hand to `fail` — a state dir
// write failure, an invariant failure, a record the log could not encode, anything else.
import { InvariantError } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { fatalError } from '../src/fatal-error.js'
import { StateDirError } from '../src/state/errors.js'

const DIR = '/var/lib/p2p-bootstrap'

describe('the error a stopping node reports', () => {
  it('tells a failed write to free space or fix the state dir', () => {
    const error = fatalError(new StateDirError('STATE_WRITE_FAILED', `${DIR}/consensus.log`, 'ENOSPC: no space left on device'), DIR)
    expect(error.code).toBe('BOOTSTRAP_STORAGE_FAILED')
    expect(error.fatal).toBe(true)
    expect(error.message).toMatch(/state dir refused a write .*free space/)
  })

  it.each([
    ['an invariant failure', new InvariantError('an incarnation stays a safe integer'), /an internal check failed \(invariant broken: an incarnation stays a safe integer\); this is a bug/],
    ['a record the log cannot encode', new StateDirError('STATE_RECORD_INVALID', `${DIR}/consensus.log`, 'record 3 is not CBOR'), /an unexpected error .*this is a bug/],
    ['anything else', new TypeError('x is undefined'), /an unexpected error \(x is undefined\); this is a bug/]
  ])('calls %s a bug and never mentions free space', (_what, err, message) => {
    const error = fatalError(err, DIR)
    expect(error.code).toBe('BOOTSTRAP_INVARIANT_FAILED')
    expect(error.fatal).toBe(true)
    expect(error.message).toMatch(message)
    expect(error.message).not.toMatch(/free space/)
  })
})
