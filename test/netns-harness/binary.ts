// Where the real `p2p-bootstrap` binary is, and a check that it was built: the bin runs the
// compiled dist, so a missing build would otherwise look like an agent that crashes at once.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { HarnessError } from './errors.js'

export const binPath = fileURLToPath(new URL('../../packages/cli/bin/p2p-bootstrap.js', import.meta.url))
const distMainPath = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url))

export function checkBinaryBuilt (): void {
  if (!existsSync(distMainPath)) {
    throw new HarnessError('HARNESS_NOT_BUILT', `${distMainPath} is missing: build the binary with \`npx tsc -b\` from the repository root first`)
  }
}
