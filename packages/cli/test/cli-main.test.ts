// Goal: the CLI, run in-process through main(argv, io), generates tokens that parse, inspects
// them without ever printing the secret, and turns every kind of bad input into one stderr line
// and the documented exit status. Method: a captured CliIo (fixed clock, scripted stdin); the
// expected token facts come from the arguments given and the core parser, never from CLI output.
import { readFileSync } from 'node:fs'
import { deriveKeys, formatToken, generateToken, parseToken, TokenError } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { EXIT_STATUS, main } from '../src/index.js'
import { commandModules } from '../src/commands/index.js'
import { capturedIo } from './helpers.js'

const packageVersion = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version

async function run (argv: string[], options: { stdin?: string, nowMs?: number } = {}) {
  const io = capturedIo(options)
  const status = await main(argv, io)
  return { status, stdout: io.stdout(), stderr: io.stderr() }
}

describe('token generate', () => {
  it('prints one token line carrying the flags and the clock time', async () => {
    const nowMs = 1_700_000_000_123
    const result = await run(['token', 'generate', '--expect', '5', '--control-planes', '3', '--vip', 'fd00::10', '--name', 'mill-2'], { nowMs })
    expect(result.status).toBe(EXIT_STATUS.ok)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^p2pb1\.\S+\n$/)
    const token = parseToken(result.stdout)
    expect(token).toMatchObject({ expect: 5, controlPlanes: 3, vip: 'fd00::10', name: 'mill-2', createdMs: nowMs, origin: 'native' })
  })

  it('makes a new secret every time', async () => {
    const first = await run(['token', 'generate'])
    const second = await run(['token', 'generate'])
    expect(first.stdout).not.toBe(second.stdout)
  })

  it.each([
    [['--expect', 'abc'], /--expect <n>.*'abc' is invalid/],
    [['--expect', '-3'], /--expect <n>.*'-3' is invalid/],
    [['--expect', '0'], /expect 0 is invalid/],
    [['--control-planes', '2'], /controlPlanes 2 is invalid: use one of 1, 3, 5, 7/],
    [['--vip', 'not-an-ip'], /vip "not-an-ip" is not an IPv4 or IPv6 address/],
    [['--name', 'Bad_Name'], /name "Bad_Name" is invalid/],
    [['--expect'], /option '--expect <n>' argument missing/],
    [['--colour', 'blue'], /unknown option '--colour'/]
  ])('refuses %j with one line and the usage status', async (flags, message) => {
    const result = await run(['token', 'generate', ...flags])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^p2p-bootstrap: [^\n]+\n$/)
    expect(result.stderr).toMatch(message)
  })
})

describe('token inspect', () => {
  const token = generateToken({ expect: 3, controlPlanes: 1, vip: '10.1.2.3', createdMs: Date.UTC(2026, 0, 2, 3, 4, 5) })
  const text = formatToken(token)
  const secretForms = [Buffer.from(token.secret).toString('hex'), Buffer.from(token.secret).toString('base64url'), Buffer.from(token.secret).toString('base64')]

  it('--json prints exactly the documented fields', async () => {
    const result = await run(['token', 'inspect', text, '--json'])
    expect(result.status).toBe(EXIT_STATUS.ok)
    expect(JSON.parse(result.stdout)).toEqual({
      version: 1,
      clusterId: deriveKeys(token).clusterId,
      name: null,
      expect: 3,
      controlPlanes: 1,
      vip: '10.1.2.3',
      created: '2026-01-02T03:04:05.000Z',
      origin: 'native'
    })
  })

  it('prints the fields for people, and reads the token from stdin with "-"', async () => {
    const fromArgument = await run(['token', 'inspect', text])
    const fromStdin = await run(['token', 'inspect', '-'], { stdin: `${text}\n` })
    expect(fromStdin).toEqual(fromArgument)
    expect(fromArgument.stdout).toContain(deriveKeys(token).clusterId)
    expect(fromArgument.stdout).toMatch(/^control planes\s+1$/m)
    expect(fromArgument.stdout).toMatch(/^name\s+-$/m)
  })

  it('never prints the secret or the token itself', async () => {
    for (const argv of [['token', 'inspect', text], ['token', 'inspect', text, '--json']]) {
      const result = await run(argv)
      for (const form of [...secretForms, text.split('.')[1] ?? text]) {
        expect(result.stdout).not.toContain(form)
      }
    }
  })

  it.each([
    ['empty', '   ', 'TOKEN_EMPTY'],
    ['wrong prefix', 'k3s-token-abc', 'TOKEN_PREFIX'],
    ['truncated', text.slice(0, -3), 'TOKEN_CHECKSUM'],
    ['unknown version', text.replace(/^p2pb1/, 'p2pb7'), 'TOKEN_VERSION']
  ])('a %s token exits with the bad-token status and the typed message', async (_label, bad, code) => {
    let expected: TokenError | undefined
    try { parseToken(bad) } catch (err) { if (err instanceof TokenError) expected = err }
    expect(expected?.code).toBe(code)
    const result = await run(['token', 'inspect', bad])
    expect(result.status).toBe(EXIT_STATUS.badToken)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`p2p-bootstrap: ${expected?.message ?? ''}\n`)
  })

  it('without a token is a usage error', async () => {
    const result = await run(['token', 'inspect'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toMatch(/missing required argument 'token'/)
  })
})

describe('help and version', () => {
  it.each([[['--help']], [['token', '--help']], [['token', 'generate', '--help']], [['token', 'inspect', '--help']], [['help', 'token']]])('%j prints usage and succeeds', async (argv) => {
    const result = await run(argv)
    expect(result.status).toBe(EXIT_STATUS.ok)
    expect(result.stdout).toMatch(/^Usage: p2p-bootstrap/)
  })

  it('lists every registered command in the top-level help', async () => {
    const help = (await run(['--help'])).stdout
    expect(commandModules.length).toBeGreaterThan(0)
    for (const module of commandModules) expect(help).toMatch(new RegExp(`^  ${module.name}\\b`, 'm'))
  })

  it.each([['--version'], ['-V']])('%s prints the package version', async (flag) => {
    const result = await run([flag])
    expect(result).toEqual({ status: EXIT_STATUS.ok, stdout: `${packageVersion}\n`, stderr: '' })
  })

  it('an incomplete command prints help on stderr with the usage status', async () => {
    const result = await run(['token'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toMatch(/Usage: p2p-bootstrap token/)
  })

  it('an unknown command is one line with the usage status', async () => {
    const result = await run(['frobnicate'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toBe("p2p-bootstrap: unknown command 'frobnicate'\n")
  })
})
