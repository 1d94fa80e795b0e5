#!/usr/bin/env node
// The installed command: refuse a Node that is too old before loading anything that needs a newer
// one, then run the compiled CLI on this process's arguments and end the process with its status
// (stdout drains first; a stray handle cannot keep it alive).
import { NODE_TOO_OLD_EXIT_STATUS, nodeTooOldMessage } from './node-version-gate.js'

const tooOld = nodeTooOldMessage(process.version)
if (tooOld !== undefined) {
  process.stderr.write(tooOld)
  process.exitCode = NODE_TOO_OLD_EXIT_STATUS
} else {
  // Loaded only now: a static import would be evaluated before the check above.
  const { exitWhenDone, main, processIo } = await import('../dist/main.js')
  exitWhenDone(await main(process.argv.slice(2), processIo()))
}
