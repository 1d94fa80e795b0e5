// `p2p-bootstrap status --json` through the real binary, as an operator runs it. The status
// socket is a file in the state dir, so the query works from the test's own namespace.
import { execFile } from 'node:child_process'
import type { StatusReport } from '@p2p-bootstrap/bootstrapper'
import { binPath } from './binary.js'
import { HarnessError } from './errors.js'

export type { StatusReport } from '@p2p-bootstrap/bootstrapper'

/** The CLI itself waits up to 10 s for the agent; this bounds a process that hangs on top. */
const STATUS_TIMEOUT_MS = 20_000

export async function queryStatus (stateDir: string, options: { signal?: AbortSignal } = {}): Promise<StatusReport> {
  options.signal?.throwIfAborted()
  const { stdout, stderr, error } = await new Promise<{ stdout: string, stderr: string, error: Error | null }>((resolve) => {
    execFile(process.execPath, [binPath, 'status', '--state-dir', stateDir, '--json'], {
      encoding: 'utf8',
      timeout: STATUS_TIMEOUT_MS,
      ...(options.signal === undefined ? {} : { signal: options.signal })
    }, (err, out, errText) => { resolve({ stdout: out, stderr: errText, error: err }) })
  })
  if (error !== null) {
    throw new HarnessError('HARNESS_STATUS_FAILED', `p2p-bootstrap status --state-dir ${stateDir} failed: ${stderr.trim() === '' ? error.message : stderr.trim()}`, { cause: error })
  }
  try {
    return JSON.parse(stdout) as StatusReport
  } catch (err) {
    throw new HarnessError('HARNESS_STATUS_FAILED', `p2p-bootstrap status --json printed no JSON: ${stdout.slice(0, 200)}`, { cause: err })
  }
}
