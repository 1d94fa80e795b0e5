// Goal: every package packs (`npm pack`) as something another project can use: an `exports` map
// whose types and code are in the tarball, `engines`, a README, and no build leftovers; and the
// packed library packages, installed into an empty project, run the embed example
// (examples/embed/node-agent.ts) and type-check it against their own declarations. Method: one
// `npm pack` of the six workspaces into a temp folder; the four packages the example needs are
// unpacked into the project's node_modules, as npm installs a tarball. Their third-party
// dependencies (libp2p, zod, …) are not fetched: a test sends no traffic off this machine, so the
// project sits in a folder inside the repository (removed afterwards) and finds them in the
// repository's node_modules, the way Node resolves a package up the folder tree. The example runs
// one node on 127.0.0.2 (dry run, no discovery) until it has applied its plan, then gets SIGTERM.
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WORKSPACES = ['packages/core', 'packages/overlay', 'packages/k3s', 'packages/bootstrapper', 'packages/sim', 'packages/cli']
/** What the embed example imports, directly or through another of these. */
const EMBEDDED = ['core', 'overlay', 'k3s', 'bootstrapper']

interface Ran { status: number | null, stdout: string, stderr: string }

async function run (file: string, args: readonly string[], cwd: string): Promise<Ran> {
  return await new Promise((resolve) => {
    execFile(file, [...args], { cwd, maxBuffer: 32 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : (typeof error.code === 'number' ? error.code : -1), stdout, stderr })
    })
  })
}

let packDir = ''
let projectParent = ''
let project = ''
/** Tarball file name by package name. */
const tarballs = new Map<string, string>()

beforeAll(async () => {
  for (const workspace of WORKSPACES) {
    if (!existsSync(join(ROOT, workspace, 'dist', 'index.js'))) throw new Error(`${workspace}/dist is missing: run \`npx tsc -b\` before this test`)
  }
  packDir = await mkdtemp(join(tmpdir(), 'p2pb-pack-'))
  const packed = await run('npm', ['pack', '--json', '--pack-destination', packDir, ...WORKSPACES.flatMap(workspace => ['-w', workspace])], ROOT)
  expect(packed.status, packed.stderr).toBe(0)
  for (const entry of JSON.parse(packed.stdout) as Array<{ name: string, filename: string }>) tarballs.set(entry.name, join(packDir, entry.filename))
  projectParent = await mkdtemp(join(ROOT, '.pack-test-'))
  project = join(projectParent, 'app')
  for (const name of EMBEDDED) {
    const target = join(project, 'node_modules', '@p2p-bootstrap', name)
    await mkdir(target, { recursive: true })
    const unpacked = await run('tar', ['-xzf', tarballs.get(`@p2p-bootstrap/${name}`) ?? '', '-C', target, '--strip-components=1'], ROOT)
    expect(unpacked.status, unpacked.stderr).toBe(0)
  }
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'embed-app', private: true, type: 'module' }))
  await copyFile(join(ROOT, 'examples', 'embed', 'node-agent.ts'), join(project, 'node-agent.ts'))
}, 300_000)

afterAll(async () => {
  if (packDir !== '') await rm(packDir, { recursive: true, force: true })
  if (projectParent !== '') await rm(projectParent, { recursive: true, force: true })
})

describe('npm pack', () => {
  it.each(WORKSPACES)('%s packs with exports, types, engines and a README, and no build leftovers', async (workspace) => {
    const manifest = JSON.parse(await readFile(join(ROOT, workspace, 'package.json'), 'utf8')) as { name: string }
    const tarball = tarballs.get(manifest.name) ?? ''
    const listed = (await run('tar', ['-tzf', tarball], ROOT)).stdout.trim().split('\n').map(path => path.replace(/^package\//, ''))
    const packedManifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'], ROOT)).stdout) as {
      exports: Record<string, { types: string, default: string }>, engines: { node: string }
    }
    const main = packedManifest.exports['.']
    expect(main).toBeDefined()
    expect(listed).toContain(main?.types.replace(/^\.\//, ''))
    expect(listed).toContain(main?.default.replace(/^\.\//, ''))
    expect(packedManifest.engines.node).toBe('>=22')
    expect(listed).toContain('README.md')
    expect(listed.filter(path => path.endsWith('.tsbuildinfo') || path.startsWith('test/'))).toEqual([])
  })
})

describe('the packed packages in an empty project', () => {
  it('are what the project resolves', async () => {
    const resolved = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('@p2p-bootstrap/bootstrapper'))"], project)
    expect(fileURLToPath(resolved.stdout.trim())).toBe(join(project, 'node_modules', '@p2p-bootstrap', 'bootstrapper', 'dist', 'index.js'))
  })

  it('type-check the embed example with their declarations', async () => {
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['node-agent.ts']
    }))
    const checked = await run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(project, 'tsconfig.json')], project)
    expect(checked.status, checked.stdout + checked.stderr).toBe(0)
  })

  it('run the embed example: one node applies its plan and stops on SIGTERM', async () => {
    const state = join(projectParent, 'state')
    const child = spawn(process.execPath, [join(project, 'node-agent.ts'), '--dry-run', '--state-dir', state, '--root', join(projectParent, 'root'),
      '--listen', '/ip4/127.0.0.2/tcp/0', '--node-ip', '127.0.0.2', '--no-discovery'], {
      cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, P2PB_TOKEN: formatToken(generateToken({ expect: 1 })) }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    const exited = new Promise<number | null>((resolve) => { child.on('close', (code) => { resolve(code) }) })
    try {
      await waitFor(() => stdout.includes('applied: control-plane'), { timeoutMs: 60_000, what: `the example to apply its plan (stderr: ${stderr})` })
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(stdout).toMatch(/^stopped: phase applied, 1 member\(s\) known$/m)
      expect(await readdir(join(projectParent, 'root', 'etc', 'rancher', 'k3s'))).toEqual(['config.yaml'])
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }, 120_000)
})
