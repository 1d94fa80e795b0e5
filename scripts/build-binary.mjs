// Builds the single executable `p2p-bootstrap`: the CLI bundled into one CommonJS file by
// esbuild, turned into a Node single-executable-application blob, and injected into a copy of
// the Node binary that runs this script (so `npm run build:binary` embeds the project's pinned
// Node 24). The result needs no node_modules and no Node at run time. docs/binary.md says what
// it holds and its limits. Run after `tsc -b` (the `build:binary` script does both):
//
//   node scripts/build-binary.mjs [--out <file>] [--node <file> --arch <arch>] [--strip <tool>]
//
// (default out: dist-bin/p2p-bootstrap). `--node` embeds another Node binary of the same version
// (another CPU architecture, for scripts/build-release.mjs); its blob then carries no code cache,
// which only the running Node's own V8 could use. `--strip` removes the symbols and debug
// information of the copied Node with that tool (strip or llvm-strip) before the blob goes in.
import { execFileSync } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { build, formatMessagesSync } from 'esbuild'
import postject from 'postject'
import { RUNTIME_V8_OPTIONS } from './runtime-profile.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI_DIR = join(ROOT, 'packages', 'cli')
const OUT_DEFAULT = join(ROOT, 'dist-bin', 'p2p-bootstrap')
/** The oldest Node the CLI runs on (packages/cli/package.json engines). */
const NODE_MAJOR_MIN = 22
/** Where Node looks for the blob, and the fuse it flips to say one is there (Node's SEA docs). */
const SEA_RESOURCE = 'NODE_SEA_BLOB'
const SEA_SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
/** The bundle is CommonJS, which has no import.meta: the CLI's uses of import.meta.url read this. */
const ENTRY_URL_NAME = '__p2pbBundleUrl'
/** The one place the compiled CLI reads a file next to itself; replaced with the version inlined. */
const VERSION_READ = /readFileSync\(new URL\((['"])\.\.\/package\.json\1, import\.meta\.url\), (['"])utf8\2\)/g

class BuildError extends Error {
  constructor (message, options) {
    super(message, options)
    this.name = 'BuildError'
  }
}

async function main () {
  const values = parseFlags()
  const out = resolve(values.out ?? OUT_DEFAULT)
  if (process.platform !== 'linux') {
    throw new BuildError(`building the single executable is supported on Linux only (this is ${process.platform}): build it on a Linux machine`)
  }
  // The binary embeds the Node running this script; the CLI (libp2p v3) needs Node 22 or later.
  const nodeMajor = Number(process.versions.node.split('.')[0])
  if (nodeMajor < NODE_MAJOR_MIN) {
    throw new BuildError(`this is Node ${process.versions.node}, and the binary would embed it; the CLI needs Node ${NODE_MAJOR_MIN} or later: ` +
      'run `npm run build:binary`, which uses the project\'s pinned Node')
  }
  const target = targetOf(values)
  const startedMs = Date.now()
  const work = await mkdtemp(join(tmpdir(), 'p2pb-build-binary-'))
  try {
    const bundlePath = join(work, 'p2p-bootstrap.cjs')
    const phases = []
    const timed = async (name, step) => {
      const phaseStartedMs = Date.now()
      const result = await step()
      phases.push(`${name} ${seconds(Date.now() - phaseStartedMs)}`)
      return result
    }
    await timed('bundle', async () => { await bundleCli(bundlePath) })
    const blobPath = await timed('blob', async () => await seaBlob(work, bundlePath, target.codeCache))
    await timed('inject', async () => { await injectInto(out, blobPath, target.node, values.strip) })
    const bundleBytes = (await stat(bundlePath)).size
    const binaryBytes = (await stat(out)).size
    process.stdout.write(`${relative(process.cwd(), out) || out}: ${mebibytes(binaryBytes)} MiB ` +
      `(Node ${process.versions.node} linux-${target.arch}${values.strip === undefined ? '' : ', stripped'} + a ${mebibytes(bundleBytes)} MiB bundle), ` +
      `built in ${seconds(Date.now() - startedMs)} (${phases.join(', ')})\n`)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

function parseFlags () {
  try {
    return parseArgs({ options: { out: { type: 'string' }, node: { type: 'string' }, arch: { type: 'string' }, strip: { type: 'string' } }, strict: true }).values
  } catch (err) {
    throw new BuildError(`${err.message}; usage: node scripts/build-binary.mjs [--out <file>] [--node <file> --arch <arch>] [--strip <tool>]`, { cause: err })
  }
}

/**
 * The Node to embed: this one (with a code cache), or `--node` for `--arch`. The blob format
 * belongs to one Node version, so the other binary must be this very version: the caller
 * (build-release.mjs) takes it from the npm package of that version.
 */
function targetOf (values) {
  if (values.node === undefined) {
    if (values.arch !== undefined && values.arch !== process.arch) throw new BuildError(`--arch ${values.arch} needs --node <a Node ${process.versions.node} binary for linux-${values.arch}>`)
    return { node: process.execPath, arch: process.arch, codeCache: true }
  }
  if (values.arch === undefined) throw new BuildError('--node needs --arch <its CPU architecture> (x64 or arm64)')
  return { node: resolve(values.node), arch: values.arch, codeCache: false }
}

/** Bundles the compiled CLI (packages/cli/dist) and everything it imports into one CommonJS file. */
async function bundleCli (bundlePath) {
  await stat(join(CLI_DIR, 'dist', 'main.js')).catch((err) => {
    throw new BuildError('packages/cli/dist/main.js is missing: run `npx tsc -b` first (`npm run build:binary` does)', { cause: err })
  })
  const result = await build({
    stdin: {
      // Same as bin/p2p-bootstrap.js, without its top-level await (CommonJS has none).
      contents: "import { exitWhenDone, main, processIo } from './dist/main.js'\n" +
        'main(process.argv.slice(2), processIo()).then(exitWhenDone)\n',
      resolveDir: CLI_DIR,
      sourcefile: 'sea-entry.js'
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node}`,
    outfile: bundlePath,
    define: { 'import.meta.url': ENTRY_URL_NAME },
    banner: { js: `const ${ENTRY_URL_NAME} = require('node:url').pathToFileURL(__filename).href;` },
    plugins: [inlineVersion()],
    metafile: true,
    logLevel: 'silent'
  }).catch((err) => {
    throw new BuildError(`esbuild could not bundle the CLI: ${err.message}`, { cause: err })
  })
  // A warning here (an import.meta left empty, a require esbuild cannot follow) is a bundle that
  // fails at run time, far from here: stop the build instead.
  if (result.warnings.length > 0) {
    const text = formatMessagesSync(result.warnings, { kind: 'warning' }).join('\n')
    throw new BuildError(`esbuild warned while bundling the CLI; each would break the single executable at run time, fix them:\n${text}`)
  }
  const addons = Object.keys(result.metafile.inputs).filter(input => input.endsWith('.node'))
  if (addons.length > 0) throw new BuildError(`native addons cannot go into the single executable, remove them: ${addons.join(', ')}`)
}

/** Replaces the CLI's run-time read of its package.json with the version, read now. */
function inlineVersion () {
  return {
    name: 'p2pb-inline-version',
    setup (builder) {
      builder.onLoad({ filter: /[\\/]packages[\\/]cli[\\/]dist[\\/]version\.js$/ }, async (args) => {
        const manifest = JSON.parse(await readFile(join(CLI_DIR, 'package.json'), 'utf8'))
        const source = await readFile(args.path, 'utf8')
        const matches = source.match(VERSION_READ) ?? []
        if (matches.length !== 1) {
          throw new BuildError(`${args.path} no longer reads ../package.json the way this script expects (found ${matches.length} reads): update VERSION_READ in scripts/build-binary.mjs`)
        }
        const inlined = JSON.stringify(JSON.stringify({ version: manifest.version }))
        return { contents: source.replace(VERSION_READ, inlined), loader: 'js' }
      })
    }
  }
}

/** Has this Node turn the bundle into a SEA preparation blob. */
async function seaBlob (work, bundlePath, codeCache) {
  const blobPath = join(work, 'sea-prep.blob')
  const configPath = join(work, 'sea-config.json')
  await writeFile(configPath, JSON.stringify({
    main: bundlePath,
    output: blobPath,
    disableExperimentalSEAWarning: true,
    // A V8 code cache made by this same Node: start-up compiles less. Only for this Node's own
    // platform: another architecture's V8 would reject it.
    useCodeCache: codeCache,
    useSnapshot: false,
    // The agent's runtime profile (runtime-profile.mjs), applied at every start of the binary
    // as if given on Node's command line (Node 24's SEA config field `execArgv`). NODE_OPTIONS
    // may still add to it (`execArgvExtension` left at its default, "env").
    execArgv: [...RUNTIME_V8_OPTIONS]
  }))
  try {
    // Its only output on success is a line saying where the blob went: kept quiet.
    execFileSync(process.execPath, ['--experimental-sea-config', configPath], { cwd: work, stdio: 'pipe', encoding: 'utf8' })
  } catch (err) {
    throw new BuildError(`node --experimental-sea-config failed on the bundle: ${String(err.stderr ?? err.message).trim()}`, { cause: err })
  }
  return blobPath
}

/** Copies the Node binary `node` next to `out`, strips it if asked, injects the blob, and renames it into place. */
async function injectInto (out, blobPath, node, stripTool) {
  await mkdir(dirname(out), { recursive: true })
  // Written beside the target and renamed, so a failed build never leaves a half-made binary at `out`.
  const partial = `${out}.partial-${process.pid}`
  try {
    await copyFile(node, partial)
    await chmod(partial, 0o755)
    if (stripTool !== undefined) {
      // Before the blob goes in: the symbols and debug information are for debuggers, and nothing
      // at run time reads them (the sentinel fuse is in read-only data, which strip keeps).
      try {
        execFileSync(stripTool, ['--strip-all', partial], { stdio: 'pipe', encoding: 'utf8' })
      } catch (err) {
        throw new BuildError(`${stripTool} --strip-all failed on the copied Node: ${String(err.stderr ?? err.message).trim()}`, { cause: err })
      }
    }
    await postject.inject(partial, SEA_RESOURCE, await readFile(blobPath), { sentinelFuse: SEA_SENTINEL_FUSE })
    await rename(partial, out)
  } finally {
    await rm(partial, { force: true })
  }
}

function seconds (ms) {
  return `${(ms / 1000).toFixed(1)} s`
}

function mebibytes (bytes) {
  return (bytes / 1024 / 1024).toFixed(1)
}

main().catch((err) => {
  process.stderr.write(`build-binary: ${err instanceof BuildError ? err.message : err?.stack ?? String(err)}\n`)
  process.exitCode = 1
})
