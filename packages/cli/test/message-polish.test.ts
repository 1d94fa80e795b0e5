// Goal: the messages an operator meets first say what is wrong, where it came from and what to do,
// in our own words: a bad token names the place it came from (flag, file, environment), a shape
// conflict names the flag or config key, a wrapped Kairos token says it contains line breaks, a
// reserved k3s key gives a reason without a property code, `--json` commands answer errors in
// JSON, and `token generate` without --expect says the first boot is then best effort. Method: the
// real bin as a child process, in a temporary directory.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cleanEnv, runBin } from './helpers.js'

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pb-messages-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

/** A token with its last character changed: the checksum no longer matches. */
function mistyped (): string {
  const token = formatToken(generateToken())
  return token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A')
}

/** `run` flags that would fail only after the token and shape checks. */
const RUN = ['run', '--dry-run', '--once', '--state-dir', '/nonexistent/state', '--root', '/nonexistent/root']

describe('a bad token names where it came from', () => {
  it.each([
    ['--token', (token: string) => ({ args: ['--token', token], env: cleanEnv() }), 'the token given with --token: token checksum does not match'],
    ['P2PB_TOKEN', (token: string) => ({ args: [], env: cleanEnv({ P2PB_TOKEN: token }) }), 'the token in P2PB_TOKEN: token checksum does not match']
  ])('from %s', async (_where, given, start) => {
    const { args, env: environment } = given(mistyped())
    const result = await runBin([...RUN, ...args], '', environment)
    expect(result.status).toBe(3)
    expect(result.stderr.startsWith(`p2p-bootstrap: ${start}`)).toBe(true)
  })

  it('from a config file, in run and in config check', async () => {
    const path = join(dir, 'config.yaml')
    await writeFile(path, `token: ${mistyped()}\n`)
    const start = `p2p-bootstrap: the token in config ${path} (token: or p2p.network_token): token checksum does not match`
    const ran = await runBin([...RUN, '--config', path], '', cleanEnv())
    expect(ran.status).toBe(3)
    expect(ran.stderr.startsWith(start)).toBe(true)
    const checked = await runBin(['config', 'check', path], '', cleanEnv())
    expect(checked.status).toBe(3)
    expect(checked.stderr).toBe(ran.stderr)
  })
})

describe('a shape conflict names the flag or key and the token\'s place', () => {
  it('a flag against the token in P2PB_TOKEN', async () => {
    const result = await runBin([...RUN, '--expect', '5'], '', cleanEnv({ P2PB_TOKEN: formatToken(generateToken({ expect: 3 })) }))
    expect(result.status).toBe(2)
    expect(result.stderr).toBe('p2p-bootstrap: the token in P2PB_TOKEN says expect = 3, but --expect 5 says otherwise: every node must hold the same shape, ' +
      'so remove the setting (the token already carries it) or generate a new token\n')
  })

  it('a config key against the token in the same file', async () => {
    const path = join(dir, 'config.yaml')
    await writeFile(path, `token: ${formatToken(generateToken({ controlPlanes: 3 }))}\ncluster:\n  control-planes: 5\n`)
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(2)
    expect(result.stderr).toContain(`the token in config ${path} (token: or p2p.network_token) says controlPlanes = 3, but cluster.control-planes (or p2p.auto.ha.master_nodes) = 5 in config ${path} says otherwise`)
  })
})

describe('other messages', () => {
  it('a Kairos token wrapped at 76 columns: "contains line breaks"', async () => {
    const yaml = 'otp:\n  dht:\n    interval: 9000\n    key: AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH\n    length: 32\n  crypto:\n    interval: 9000\n    key: IIIIJJJJKKKKLLLLMMMMNNNNOOOOPPPP\n    length: 32\nroom: QQQQRRRRSSSSTTTTUUUUVVVVWWWWXXXX\nrendezvous: abcdefghabcdefghabcdefghabcdefgh\nmdns: ijklmnopijklmnopijklmnopijklmnop\nmax_message_size: 20971520\n'
    const wrapped = Buffer.from(yaml).toString('base64').replace(/(.{76})/g, '$1\n')
    const result = await runBin(['token', 'inspect', '-'], wrapped, cleanEnv())
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(/^p2p-bootstrap: token contains line breaks: it was probably wrapped or split when copied; join it into one line/)
  })

  it('a reserved k3s key says why, without a property code', async () => {
    const path = join(dir, 'config.yaml')
    await writeFile(path, 'k3s:\n  agent-token: secret\n')
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('the agent token comes from the committed plan, so every node holds the same one')
    expect(result.stderr).not.toMatch(/\(S\d\)/)
  })

  it('token inspect --json and status --json answer an error in JSON too', async () => {
    const inspected = await runBin(['token', 'inspect', mistyped(), '--json'], '', cleanEnv())
    expect(inspected.status).toBe(3)
    expect(JSON.parse(inspected.stdout)).toMatchObject({ error: { code: 'TOKEN_CHECKSUM', exitStatus: 3 } })
    const status = await runBin(['status', '--state-dir', dir, '--json'], '', cleanEnv())
    expect(status.status).toBe(4)
    const answer = JSON.parse(status.stdout) as { error: { code: string, message: string, exitStatus: number } }
    expect(answer.error.exitStatus).toBe(4)
    expect(answer.error.message).toContain('no agent is running')
  })

  it('token generate without --expect says the first boot is best effort, on stderr only', async () => {
    const bare = await runBin(['token', 'generate'], '', cleanEnv())
    expect(bare.status).toBe(0)
    expect(bare.stdout).toMatch(/^p2pb1\.\S+\n$/)
    expect(bare.stderr).toMatch(/^p2p-bootstrap: note: this token sets no --expect, so the first boot is best effort: .* pass --expect N .* for one cluster, never two\n$/)
    const counted = await runBin(['token', 'generate', '--expect', '3'], '', cleanEnv())
    expect(counted.stderr).toBe('')
  })
})
