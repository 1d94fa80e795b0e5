// Goal: `p2p-bootstrap config check FILE [--json]` validates a config file offline with the
// messages `run` gives for the same file, and exits by result (0 valid, 2 bad setting, 3 bad
// token); `run` and `config check` read the file P2PB_CONFIG_FILE names when no path is given
// (standing in for /etc/p2p-bootstrap/config.yaml, which tests must not touch). Method: the real
// bin as a child process on files in a temporary directory; `run` is given --dry-run and a state
// dir there, and every file here fails before anything would start.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cleanEnv, runBin } from './helpers.js'

let dir = ''
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pb-config-check-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

async function configFile (name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

describe('p2p-bootstrap config check', () => {
  it('says a valid file is valid, with what it sets, and exits 0', async () => {
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 3 }))
    const path = await configFile('good.yaml', `token: ${token}\nmdns: false\npeers: [/ip4/127.0.0.2/tcp/4001/p2p/12D3KooWGzh8E4ydk2BGcBbkGjfMAcrWgL3DnjNmSSWSbNFS1Lhm]\n`)
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toBe(`config ${path} is valid: expect 3, 3 control planes, VIP none; discovery: DHT, 1 static peer\n`)
  })

  it('accepts a file without a token, warning that run must be given one', async () => {
    const path = await configFile('no-token.yaml', 'cluster:\n  expect: 5\n')
    const result = await runBin(['config', 'check', path, '--json'], '', cleanEnv())
    expect(result.status).toBe(0)
    const report = JSON.parse(result.stdout) as Record<string, unknown>
    expect(report).toMatchObject({ valid: true, file: path, tokenInFile: false, expect: 5, controlPlanes: 1 })
    expect(report.warnings).toEqual([`no network token in ${path}: run takes it from --token or P2PB_TOKEN, or add token: to the file`])
  })

  it('refuses a bad setting with the very line run prints, exit status 2, and JSON on request', async () => {
    const path = await configFile('typo.yaml', 'cluster:\n  expcet: 3\n')
    const checked = await runBin(['config', 'check', path], '', cleanEnv())
    expect(checked.status).toBe(2)
    expect(checked.stdout).toBe('')
    expect(checked.stderr).toMatch(new RegExp(`^p2p-bootstrap: config ${path} line 2: cluster\\.expcet [^\\n]*expect[^\\n]*\\n$`))
    const ran = await runBin(['run', '--config', path, '--dry-run', '--state-dir', join(dir, 'state'), '--token', formatToken(generateToken())], '', cleanEnv())
    expect(ran.status).toBe(2)
    expect(ran.stderr).toBe(checked.stderr)
    const json = await runBin(['config', 'check', path, '--json'], '', cleanEnv())
    expect(json.status).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      valid: false, file: path, error: { code: 'CLI_CONFIG', message: checked.stderr.replace(/^p2p-bootstrap: /, '').trim(), exitStatus: 2 }
    })
  })

  it('refuses a damaged token in the file with exit status 3', async () => {
    const token = formatToken(generateToken())
    const damaged = token.slice(0, -1) + (token.at(-1) === 'A' ? 'B' : 'A')
    const path = await configFile('bad-token.yaml', `token: ${damaged}\n`)
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(3)
    expect(result.stderr).toMatch(/checksum/)
  })

  it('refuses a file that contradicts its token, as run does', async () => {
    const token = formatToken(generateToken({ expect: 3 }))
    const path = await configFile('conflict.yaml', `token: ${token}\ncluster:\n  expect: 5\n`)
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/expect/)
  })

  it('checks, and run reads, the file P2PB_CONFIG_FILE names when no path is given', async () => {
    const path = await configFile('default.yaml', 'cluster:\n  control-planes: 2\n')
    const env = cleanEnv({ P2PB_CONFIG_FILE: path })
    const checked = await runBin(['config', 'check'], '', env)
    expect(checked.status).toBe(2)
    expect(checked.stderr).toContain(`config ${path} line 2`)
    const ran = await runBin(['run', '--dry-run', '--state-dir', join(dir, 'state'), '--token', formatToken(generateToken())], '', env)
    expect(ran.status).toBe(2)
    expect(ran.stderr).toBe(checked.stderr)
  })

  it('says which file is missing', async () => {
    const path = join(dir, 'missing.yaml')
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(2)
    expect(result.stderr).toBe(`p2p-bootstrap: cannot read config ${path}: it does not exist: check the path given to --config\n`)
  })
})

describe('config check on a machine other than the target', () => {
  it('checks the form of node.interface, not that this machine has it', async () => {
    const good = await configFile('iface.yaml', 'node:\n  interface: enp9s0f7\n')
    const passed = await runBin(['config', 'check', good], '', cleanEnv())
    expect(passed.status).toBe(0)
    const bad = await configFile('bad-iface.yaml', 'node:\n  interface: "eth 0"\n')
    const refused = await runBin(['config', 'check', bad], '', cleanEnv())
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('node.interface')
  })
})

describe('config check and discovery', () => {
  it('warns when a file leaves no way to find other nodes', async () => {
    const token = formatToken(generateToken({ expect: 3 }))
    const path = await configFile('alone.yaml', `token: ${token}\nmdns: false\ndht: false\n`)
    const result = await runBin(['config', 'check', path], '', cleanEnv())
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('discovery: none')
    expect(result.stdout).toContain('warning: no way to find other nodes: mDNS and the DHT are off and no static peer is given')
  })
})
