// Goal: on a Node older than 22 the installed command says which Node it needs and which it found,
// and exits 2, instead of dying inside a dependency with an internal error. Method: the gate's
// pure function over a table of versions, and the real bin run by an older Node found on PATH
// (the machine's system Node, when it is older than 22; the test says why it skips otherwise).
import { execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { NODE_MAJOR_MIN, nodeTooOldMessage } from '../bin/node-version-gate.js'
import { binPath, runProcess } from './helpers.js'

/** The first `node` on PATH whose major version is below the minimum, with its version. */
function olderNodeOnPath (): { path: string, version: string } | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory === '') continue
    const candidate = join(directory, 'node')
    try {
      accessSync(candidate, constants.X_OK)
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
      if (Number(version.replace(/^v/, '').split('.')[0]) < NODE_MAJOR_MIN) return { path: candidate, version }
    } catch {
      // not there, or not runnable: try the next directory
    }
  }
  return undefined
}

describe('the Node version gate', () => {
  it.each([
    ['v20.20.2', 'p2p-bootstrap needs Node ≥ 22, found v20.20.2'],
    ['v18.0.0', 'p2p-bootstrap needs Node ≥ 22, found v18.0.0'],
    ['v21.7.3', 'p2p-bootstrap needs Node ≥ 22, found v21.7.3']
  ])('refuses %s', (version, start) => {
    expect(nodeTooOldMessage(version)).toMatch(new RegExp(`^${start}: install Node 22 or later`))
  })

  it.each(['v22.0.0', 'v24.21.0', 'v30.1.0'])('accepts %s', (version) => {
    expect(nodeTooOldMessage(version)).toBeUndefined()
  })

  const older = olderNodeOnPath()
  it.skipIf(older === undefined)(`the bin run by an older Node exits 2 with one line${older === undefined ? ' (skipped: no node older than 22 on PATH)' : ''}`, async () => {
    if (older === undefined) return
    const { status, stdout, stderr } = await runProcess(older.path, [binPath, 'token', 'generate'])
    expect(status).toBe(2)
    expect(stdout).toBe('')
    expect(stderr.startsWith(`p2p-bootstrap needs Node ≥ 22, found ${older.version}:`)).toBe(true)
    expect(stderr.split('\n')).toHaveLength(2)
    expect(stderr).not.toContain('internal error')
  })
})
