// Goal: the installed bin works as a real process: `token generate | token inspect -` round
// trip through a pipe, `--json`, a bad token's exit status and one-line message, help and
// version. Method: spawn bin/p2p-bootstrap.js with this Node (process.execPath) and wait for the
// process to close; needs the compiled dist (`npx tsc -b`), which the root `npm test` builds.
import { existsSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { distMainPath, runBin } from './helpers.js'

describe('p2p-bootstrap bin', () => {
  beforeAll(() => {
    if (!existsSync(distMainPath)) throw new Error('packages/cli/dist/main.js is missing: run `npx tsc -b` before these tests')
  })

  it('round-trips generate | inspect through a pipe, as JSON and for people', async () => {
    const generated = await runBin(['token', 'generate', '--expect', '4', '--control-planes', '3', '--name', 'bay'])
    expect(generated.status).toBe(0)
    expect(generated.stdout).toMatch(/^p2pb1\.\S+\n$/)
    const inspected = await runBin(['token', 'inspect', '-', '--json'], generated.stdout)
    expect(inspected.status).toBe(0)
    const view = JSON.parse(inspected.stdout) as Record<string, unknown>
    expect(view).toMatchObject({ version: 1, name: 'bay', expect: 4, controlPlanes: 3, vip: null, origin: 'native' })
    expect(view.clusterId).toMatch(/^c[a-z2-7]{16}$/)
    expect(Date.parse(String(view.created))).not.toBeNaN()
    const human = await runBin(['token', 'inspect', generated.stdout.trim()])
    expect(human.status).toBe(0)
    expect(human.stdout).toContain(String(view.clusterId))
  })

  it('exits 3 with the typed one-line message for a mistyped token', async () => {
    const generated = await runBin(['token', 'generate'])
    const token = generated.stdout.trim()
    const last = token.at(-1) === 'A' ? 'B' : 'A'
    const result = await runBin(['token', 'inspect', token.slice(0, -1) + last])
    expect(result.status).toBe(3)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^p2p-bootstrap: token checksum does not match: the token was probably mistyped or truncated[^\n]*\n$/)
  })

  it('exits 2 for a bad flag value', async () => {
    const result = await runBin(['token', 'generate', '--expect', 'abc'])
    expect(result.status).toBe(2)
    expect(result.stderr.split('\n')).toHaveLength(2)
  })

  it('prints help and version', async () => {
    const help = await runBin(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/Usage: p2p-bootstrap/)
    const version = await runBin(['--version'])
    expect(version.status).toBe(0)
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })
})
