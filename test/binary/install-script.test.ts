// Goal: scripts/install.sh installs like k3s' install script: it checks the executable against
// SHA256SUMS, places it, the systemd unit (its paths rewritten to the chosen folders) and the
// config template (never over an existing config, which holds the token; mode 0600), and runs
// systemctl daemon-reload, enable and restart, each skipped on INSTALL_P2PB_SKIP_ENABLE and
// INSTALL_P2PB_SKIP_START, and no start while the config still holds the token placeholder.
// Method: a release folder in a temp dir with a stand-in executable (a shell script answering
// --version and config check) and the real unit and template; a stand-in systemctl first on PATH
// that records its arguments; every folder the script writes is under the temp dir.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GATE_DROP_IN_NAME, gateDropIn } from '@p2p-bootstrap/bootstrapper'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXECUTABLE = 'p2p-bootstrap-linux-x64'
const STAND_IN = '#!/bin/sh\nif [ "$1" = --version ]; then echo 0.1.0; exit 0; fi\nif [ "$1" = config ]; then exit 0; fi\nexit 9\n'

let dir = ''
let release = ''
let systemctlLog = ''

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2pb-install-'))
  release = join(dir, 'release')
  await mkdir(release)
  await copyFile(join(ROOT, 'scripts', 'install.sh'), join(release, 'install.sh'))
  await copyFile(join(ROOT, 'examples', 'systemd', 'p2p-bootstrap.service'), join(release, 'p2p-bootstrap.service'))
  await copyFile(join(ROOT, 'examples', 'cloud-config', 'ha-3cp.yaml'), join(release, 'config.yaml.example'))
  await writeFile(join(release, EXECUTABLE), STAND_IN, { mode: 0o755 })
  const sum = createHash('sha256').update(STAND_IN).digest('hex')
  await writeFile(join(release, 'SHA256SUMS'), `${sum}  ${EXECUTABLE}\n`)
  const fakeBin = join(dir, 'fake-bin')
  await mkdir(fakeBin)
  systemctlLog = join(dir, 'systemctl.log')
  await writeFile(join(fakeBin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${systemctlLog}'\n`, { mode: 0o755 })
})

afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

interface Installed { status: number | null, stdout: string, stderr: string }

async function install (env: Record<string, string> = {}): Promise<Installed> {
  return await new Promise((resolve) => {
    execFile('sh', [join(release, 'install.sh')], {
      env: {
        PATH: `${join(dir, 'fake-bin')}:${process.env.PATH ?? ''}`,
        INSTALL_P2PB_ARCH: 'x64',
        INSTALL_P2PB_BIN_DIR: join(dir, 'bin'),
        INSTALL_P2PB_SYSTEMD_DIR: join(dir, 'systemd'),
        INSTALL_P2PB_CONFIG_DIR: join(dir, 'etc'),
        ...env
      }
    }, (error, stdout, stderr) => { resolve({ status: error === null ? 0 : (typeof error.code === 'number' ? error.code : -1), stdout, stderr }) })
  })
}

async function systemctlCalls (): Promise<string[]> {
  return await readFile(systemctlLog, 'utf8').then(text => text.trim().split('\n'), () => [])
}

async function modeOf (path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

describe('install.sh', () => {
  it('places the executable, the unit and the config template, and touches no systemd when told to skip', async () => {
    const result = await install({ INSTALL_P2PB_SKIP_ENABLE: 'true', INSTALL_P2PB_SKIP_START: 'true' })
    expect(result.status, result.stderr).toBe(0)
    expect(await readFile(join(dir, 'bin', 'p2p-bootstrap'), 'utf8')).toBe(STAND_IN)
    expect(await modeOf(join(dir, 'bin', 'p2p-bootstrap'))).toBe(0o755)
    const unit = await readFile(join(dir, 'systemd', 'p2p-bootstrap.service'), 'utf8')
    expect(unit).toContain(`ExecStart=${join(dir, 'bin', 'p2p-bootstrap')} run --config ${join(dir, 'etc', 'config.yaml')}`)
    expect(await modeOf(join(dir, 'systemd', 'p2p-bootstrap.service'))).toBe(0o644)
    // The start gate, byte for byte what the agent writes (so its first start changes nothing).
    for (const service of ['k3s', 'k3s-agent'] as const) {
      const dropIn = join(dir, 'systemd', `${service}.service.d`, GATE_DROP_IN_NAME)
      expect(await readFile(dropIn, 'utf8')).toBe(gateDropIn(service).content)
      expect(await modeOf(dropIn)).toBe(0o644)
    }
    expect(await readFile(join(dir, 'etc', 'config.yaml'), 'utf8')).toBe(await readFile(join(release, 'config.yaml.example'), 'utf8'))
    expect(await modeOf(join(dir, 'etc', 'config.yaml'))).toBe(0o600)
    expect(await systemctlCalls()).toEqual([])
  })

  it('enables and starts the unit by default, and keeps an existing config', async () => {
    await mkdir(join(dir, 'etc'))
    await writeFile(join(dir, 'etc', 'config.yaml'), 'token: p2pb1.mine\n', { mode: 0o600 })
    const result = await install()
    expect(result.status, result.stderr).toBe(0)
    expect(await readFile(join(dir, 'etc', 'config.yaml'), 'utf8')).toBe('token: p2pb1.mine\n')
    expect(await systemctlCalls()).toEqual(['daemon-reload', 'enable p2p-bootstrap.service', 'restart p2p-bootstrap.service'])
  })

  it('enables but does not start while the config still holds the token placeholder, and says why', async () => {
    const result = await install()
    expect(result.status, result.stderr).toBe(0)
    expect(await systemctlCalls()).toEqual(['daemon-reload', 'enable p2p-bootstrap.service'])
    expect(result.stdout).toContain('has no token yet; paste it')
  })

  it('honours skip-start alone and skip-enable alone', async () => {
    await mkdir(join(dir, 'etc'))
    await writeFile(join(dir, 'etc', 'config.yaml'), 'token: p2pb1.mine\n', { mode: 0o600 })
    expect((await install({ INSTALL_P2PB_SKIP_START: 'true' })).status).toBe(0)
    expect(await systemctlCalls()).toEqual(['daemon-reload', 'enable p2p-bootstrap.service'])
    await rm(systemctlLog)
    expect((await install({ INSTALL_P2PB_SKIP_ENABLE: 'true' })).status).toBe(0)
    expect(await systemctlCalls()).toEqual(['daemon-reload', 'restart p2p-bootstrap.service'])
  })

  it('refuses an executable that does not match SHA256SUMS, installing nothing', async () => {
    await writeFile(join(release, EXECUTABLE), `${STAND_IN}# changed\n`, { mode: 0o755 })
    const result = await install({ INSTALL_P2PB_SKIP_ENABLE: 'true', INSTALL_P2PB_SKIP_START: 'true' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(`${EXECUTABLE} does not match its SHA-256 sum in SHA256SUMS`)
    await expect(stat(join(dir, 'bin', 'p2p-bootstrap'))).rejects.toThrow()
  })

  it('refuses a skip value that is neither true nor false', async () => {
    const result = await install({ INSTALL_P2PB_SKIP_START: 'yes' })
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("expected true or false, got 'yes'")
  })
})
