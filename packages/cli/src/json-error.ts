// With --json, a script reads standard output as JSON whatever happens: an error too becomes one
// object there ({"error":{"code","message","exitStatus"}}), while main still prints the one-line
// message on stderr for people and sets the exit status.
import { reportFor } from './exit-status.js'
import type { CliIo } from './io.js'

/** Runs `action`; when it throws and `json` is set, first writes the error as JSON to stdout. */
export async function withJsonErrors (json: boolean, io: CliIo, action: () => Promise<void> | void): Promise<void> {
  try {
    await action()
  } catch (err) {
    if (json) io.writeOut(`${JSON.stringify(jsonErrorOf(err))}\n`)
    throw err
  }
}

/** The JSON form of an error: its code (INTERNAL for an unplanned one), message and exit status. */
export function jsonErrorOf (err: unknown): { error: { code: string, message: string, exitStatus: number } } {
  const { line, exitStatus } = reportFor(err)
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'INTERNAL'
  const message = err instanceof Error ? err.message : (line ?? String(err))
  return { error: { code, message, exitStatus } }
}
