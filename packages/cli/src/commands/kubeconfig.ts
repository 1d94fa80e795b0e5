import { stat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { CliError } from '../errors.js'
import type { CliIo } from '../io.js'
import type { CommandContext, CommandModule } from './command.js'
import { STATE_DIR_HELP } from './state-dir-flag.js'

/** The bootstrapper's kubeconfig helpers, loaded when a subcommand runs, not for every invocation. */
async function kubeconfigKit (): Promise<typeof import('@p2p-bootstrap/bootstrapper')> {
  return await import('@p2p-bootstrap/bootstrapper')
}

/**
 * `kubeconfig keygen`, `get` and `open`: the admin kubeconfig, which a Ready control plane shares
 * only sealed to the admin keys listed in the cluster's config (see docs/kubeconfig.md).
 */
export const kubeconfigCommand: CommandModule = {
  name: 'kubeconfig',
  register (program, context) {
    const kubeconfig = program.command('kubeconfig')
      .description('get the cluster-admin kubeconfig, sealed to an admin key (off unless admin-keys are configured)')
    registerKeygen(kubeconfig, context)
    registerGet(kubeconfig, context)
    registerOpen(kubeconfig, context)
  }
}

interface KeygenFlags {
  out: string
  force?: boolean
}

interface GetFlags {
  key?: string
  sealed?: boolean
  stateDir?: string
  out?: string
  force?: boolean
}

interface OpenFlags {
  key: string
  in: string
  out?: string
  force?: boolean
}

/** `--in` value meaning standard input. */
const STDIN_PATH = '-'

/** How long `get` waits for the agent before giving up. */
const AGENT_TIMEOUT_MS = 10_000

/** Longest sealed text accepted from a file: base64 of the largest value, with room for line breaks. */
function sealedTextBytesMax (sealedBytesMax: number): number {
  return 2 * Math.ceil(sealedBytesMax / 3) * 4
}

function registerKeygen (kubeconfig: Command, { io }: CommandContext): void {
  kubeconfig.command('keygen')
    .description('make an admin key pair: the private key goes to --out (0600), the public key line to stdout')
    .requiredOption('--out <file>', 'where to write the private key (keep it off the cluster)')
    .option('--force', 'replace --out if it exists (the old key is lost)')
    .action(async (flags: KeygenFlags) => {
      const { generateAdminKey, writeSecretFile } = await kubeconfigKit()
      const key = await generateAdminKey()
      await writeSecretFile(flags.out, key.privateKeyText, { overwrite: flags.force === true, signal: io.shutdownSignal() })
      io.writeOut(`${key.publicKey}\n`)
      io.writeErr(
        `wrote the admin private key to ${flags.out} (mode 0600): keep it secret and off the cluster; whoever holds it can read the cluster-admin kubeconfig.\n` +
        'List the public key above in every node\'s config:\n' +
        `  admin-keys:\n    - ${key.publicKey}\n` +
        `Then, on a member node: p2p-bootstrap kubeconfig get --key ${flags.out}\n`
      )
    })
}

function registerGet (kubeconfig: Command, { io }: CommandContext): void {
  kubeconfig.command('get')
    .description('fetch the sealed kubeconfig from the agent on this node and open it with --key (or print it sealed with --sealed)')
    .option('--key <file>', 'the admin private key file written by keygen')
    .option('--sealed', 'print the sealed value as base64 without opening it, to carry to the machine holding the key')
    .option('--state-dir <dir>', `the state dir of the agent to ask ${STATE_DIR_HELP}`)
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--force', 'replace --out if it exists')
    .action(async (flags: GetFlags) => { await getKubeconfig(flags, io) })
}

function registerOpen (kubeconfig: Command, { io }: CommandContext): void {
  kubeconfig.command('open')
    .description('open a sealed kubeconfig printed by `kubeconfig get --sealed`')
    .requiredOption('--key <file>', 'the admin private key file written by keygen')
    .option('--in <file>', `the sealed text, or '${STDIN_PATH}' for standard input`, STDIN_PATH)
    .option('--out <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--force', 'replace --out if it exists')
    .action(async (flags: OpenFlags) => {
      const { openKubeconfig, parseSealedKubeconfigText, readAdminKeyFile } = await kubeconfigKit()
      // The key first: a bad key file is reported before anything is read from stdin.
      const key = await readAdminKeyFile(flags.key, { signal: io.shutdownSignal() })
      const sealed = parseSealedKubeconfigText(await readSealedText(flags.in, io))
      await emit(openKubeconfig(sealed, key), flags, io)
    })
}

async function getKubeconfig (flags: GetFlags, io: CliIo): Promise<void> {
  const { DEFAULT_STATE_DIR, STATUS_SOCKET_NAME, fetchSealedKubeconfig, formatSealedKubeconfig, openKubeconfig, readAdminKeyFile } = await kubeconfigKit()
  if (flags.sealed === true && flags.key !== undefined) {
    throw new CliError('CLI_USAGE', 'kubeconfig get: --sealed prints the value unopened, so it takes no --key; pass one or the other')
  }
  if (flags.sealed !== true && flags.key === undefined) {
    throw new CliError('CLI_USAGE', 'kubeconfig get: pass --key FILE (the admin private key) to open the kubeconfig, or --sealed to print it sealed')
  }
  const key = flags.key === undefined ? undefined : await readAdminKeyFile(flags.key, { signal: io.shutdownSignal() })
  const signal = AbortSignal.any([io.shutdownSignal(), AbortSignal.timeout(AGENT_TIMEOUT_MS)])
  const published = await fetchSealedKubeconfig(join(flags.stateDir ?? DEFAULT_STATE_DIR, STATUS_SOCKET_NAME), { signal })
  const text = key === undefined ? `${formatSealedKubeconfig(published.sealed)}\n` : openKubeconfig(published.sealed, key)
  await emit(text, flags, io)
}

/** Prints `text`, or writes it 0600 to `--out` and says so on stderr. */
async function emit (text: string, flags: { out?: string, force?: boolean }, io: CliIo): Promise<void> {
  if (flags.out === undefined) {
    io.writeOut(text)
    return
  }
  const { writeSecretFile } = await kubeconfigKit()
  await writeSecretFile(flags.out, text, { overwrite: flags.force === true, signal: io.shutdownSignal() })
  io.writeErr(`wrote ${flags.out} (mode 0600)\n`)
}

async function readSealedText (path: string, io: CliIo): Promise<string> {
  if (path === STDIN_PATH) return await io.readIn()
  const { KubeconfigError, SEALED_KUBECONFIG_BYTES_MAX } = await kubeconfigKit()
  try {
    const { size } = await stat(path)
    if (size > sealedTextBytesMax(SEALED_KUBECONFIG_BYTES_MAX)) {
      throw new KubeconfigError('KUBECONFIG_MALFORMED', `${path} is ${size} bytes, more than any sealed kubeconfig: pass the file holding the line printed by \`kubeconfig get --sealed\``)
    }
    return await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof KubeconfigError) throw err
    throw new KubeconfigError('KUBECONFIG_FILE', `cannot read the sealed kubeconfig from ${path}: ${(err as Error).message}`, { cause: err })
  }
}
