// Builds the release artifacts: single executables for linux-x64 and linux-arm64, and their
// SHA-256 sums. Edge fleets are largely arm64 (Raspberry Pi, Jetson, Ampere), so both come from
// one build machine: each embeds the Node of the project's pinned version, the running one for
// its own architecture (with a V8 code cache) and, for the other, the Node binary of the npm
// package `node-linux-<arch>` of that very version (a SEA blob belongs to one Node version), with
// no code cache (only the matching V8 could use one). Each is stripped when a strip tool that
// knows the architecture is on PATH (llvm-strip knows both; GNU strip only its own). Run after
// `tsc -b` (the `build:release` script does both):
//
//   node scripts/build-release.mjs [--out <dir>]   (default: dist-release/)
//
// writes into <dir> p2p-bootstrap-linux-x64, p2p-bootstrap-linux-arm64, install.sh,
// p2p-bootstrap.service (examples/systemd), config.yaml.example (examples/cloud-config/ha-3cp.yaml)
// and SHA256SUMS over all of them (`sha256sum -c SHA256SUMS` checks them; install.sh checks the
// executable it installs). Needs the npm registry for the other architecture's Node (`npm pack`,
// no install).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT_DEFAULT = join(ROOT, 'dist-release')
const BUILD_BINARY = join(ROOT, 'scripts', 'build-binary.mjs')
/** The files that go beside the executables: install.sh and what it installs. */
const EXTRAS = [
  { from: join(ROOT, 'scripts', 'install.sh'), name: 'install.sh', mode: 0o755 },
  { from: join(ROOT, 'examples', 'systemd', 'p2p-bootstrap.service'), name: 'p2p-bootstrap.service', mode: 0o644 },
  { from: join(ROOT, 'examples', 'cloud-config', 'ha-3cp.yaml'), name: 'config.yaml.example', mode: 0o644 }
]
/** The architectures released, as Node names them (process.arch, node-linux-<arch>). */
const RELEASE_ARCHES = ['x64', 'arm64']

class ReleaseError extends Error {
  constructor (message, options) {
    super(message, options)
    this.name = 'ReleaseError'
  }
}

async function main () {
  const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true })
  const out = resolve(values.out ?? OUT_DEFAULT)
  const version = await pinnedNodeVersion()
  if (process.versions.node !== version) {
    throw new ReleaseError(`this is Node ${process.versions.node}, but the project pins ${version} (the \`node\` devDependency): run \`npm run build:release\`, which uses it`)
  }
  if (!RELEASE_ARCHES.includes(process.arch) || process.platform !== 'linux') {
    throw new ReleaseError(`build releases on linux-x64 or linux-arm64 (this is ${process.platform}-${process.arch})`)
  }
  await mkdir(out, { recursive: true })
  const work = await mkdtemp(join(tmpdir(), 'p2pb-build-release-'))
  try {
    const names = []
    for (const arch of RELEASE_ARCHES) {
      const name = `p2p-bootstrap-linux-${arch}`
      const args = [BUILD_BINARY, '--out', join(out, name)]
      if (arch !== process.arch) args.push('--node', await packagedNode(arch, version, work), '--arch', arch)
      const strip = stripToolFor(arch)
      if (strip !== undefined) args.push('--strip', strip)
      else process.stdout.write(`${name}: not stripped (no llvm-strip on PATH, and GNU strip only knows ${process.arch})\n`)
      execFileSync(process.execPath, args, { stdio: 'inherit' })
      names.push(name)
    }
    for (const extra of EXTRAS) {
      await copyFile(extra.from, join(out, extra.name))
      await chmod(join(out, extra.name), extra.mode)
      names.push(extra.name)
    }
    const sums = []
    for (const name of names) sums.push(`${await sha256Of(join(out, name))}  ${name}`)
    await writeFile(join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`)
    process.stdout.write(`${relative(process.cwd(), out) || out}: ${names.join(', ')}, SHA256SUMS\n`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function pinnedNodeVersion () {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  const version = manifest.devDependencies?.node
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new ReleaseError('package.json has no exact `node` devDependency: pin one (npm i -E -D node@<version>)')
  }
  return version
}

/** The Node binary of npm's `node-linux-<arch>@<version>`, fetched with `npm pack` (no install, no platform check). */
async function packagedNode (arch, version, work) {
  const folder = join(work, `node-linux-${arch}`)
  await mkdir(folder)
  const spec = `node-linux-${arch}@${version}`
  const npm = process.env.npm_execpath
  try {
    const packed = npm === undefined
      ? execFileSync('npm', ['pack', spec, '--silent'], { cwd: folder, encoding: 'utf8' })
      : execFileSync(process.execPath, [npm, 'pack', spec, '--silent'], { cwd: folder, encoding: 'utf8' })
    execFileSync('tar', ['-xzf', packed.trim().split('\n').at(-1), '-C', folder], { cwd: folder })
  } catch (err) {
    throw new ReleaseError(`could not fetch ${spec} from the npm registry: ${String(err.stderr ?? err.message).trim()}`, { cause: err })
  }
  const node = join(folder, 'package', 'bin', 'node')
  if (!existsSync(node)) throw new ReleaseError(`${spec} has no bin/node: the package layout changed; update scripts/build-release.mjs`)
  return node
}

/** llvm-strip for any architecture; GNU strip for this machine's own; else none. */
function stripToolFor (arch) {
  if (onPath('llvm-strip')) return 'llvm-strip'
  if (arch === process.arch && onPath('strip')) return 'strip'
  return undefined
}

function onPath (command) {
  return (process.env.PATH ?? '').split(delimiter).some(dir => dir !== '' && existsSync(join(dir, command)))
}

async function sha256Of (path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

main().catch((err) => {
  process.stderr.write(`build-release: ${err instanceof ReleaseError ? err.message : err?.stack ?? String(err)}\n`)
  process.exitCode = 1
})
