// `config check`: the offline half of `run`. An image build checks the config file it bakes in
// with the very code `run` uses (read the file, merge it into options, resolve the options), so
// the messages are the same and a file that passes here is not refused at first boot. Nothing is
// started, no network is touched, and the token is not required: it may arrive at run time.
import { resolveOptions } from '@p2p-bootstrap/bootstrapper'
import type { ResolvedOptions } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { noDiscoveryProblem } from '../run/discovery.js'
import { loadConfigFile } from './load.js'
import { checkTokenAndShape } from './token-source.js'
import { resolveRunSettings, TOKEN_ENV } from './resolve.js'
import type { FileConfig } from './types.js'

/** What a file that passed the check sets up, for the report. */
export interface ConfigCheckReport {
  readonly file: string
  readonly tokenInFile: boolean
  readonly expect: number | null
  readonly controlPlanes: number
  readonly vip: string | null
  readonly name: string | null
  readonly role: string | null
  readonly mdns: boolean
  readonly dht: boolean
  readonly peers: readonly string[]
  /** Accepted, but the user should know something (a key Kairos ignores, a feature not provided). */
  readonly warnings: readonly string[]
}

/**
 * Checks the config file at `path` as `run` would; throws the error `run` would throw (a
 * `ConfigError`, `TokenError` or `BootstrapperError`, each with its code), else reports.
 */
export async function checkConfigFile (path: string, options: { signal?: AbortSignal } = {}): Promise<ConfigCheckReport> {
  const file = await loadConfigFile(path, options)
  const tokenInFile = file.token !== undefined
  const warnings = [...(file.warnings ?? [])]
  if (!tokenInFile) {
    warnings.push(`no network token in ${path}: run takes it from --token or ${TOKEN_ENV}, or add token: to the file`)
  }
  // Without a token in the file, a blank one stands in so the rest is checked; it sets no shape,
  // so it can conflict with nothing the file says.
  const checked: FileConfig = tokenInFile ? file : { ...file, token: formatToken(generateToken()) }
  const runSettings = resolveRunSettings({}, checked, {})
  if (tokenInFile) checkTokenAndShape(runSettings, {})
  const settings = runSettings.options
  // The check runs on a build machine, not the target: whether this host has node.interface says
  // nothing about the machine the file is for, so only its form is checked (by the parser).
  const { interface: _hostInterface, ...node } = settings.node ?? {}
  const resolved = resolveOptions({ ...settings, node })
  const noDiscovery = noDiscoveryProblem(resolved)
  if (noDiscovery !== undefined) warnings.push(noDiscovery)
  return reportOf(path, file, resolved, tokenInFile, warnings)
}

function reportOf (path: string, file: FileConfig, resolved: ResolvedOptions, tokenInFile: boolean, warnings: readonly string[]): ConfigCheckReport {
  return {
    file: path,
    tokenInFile,
    expect: resolved.shape.expect ?? null,
    controlPlanes: resolved.shape.controlPlanes,
    vip: resolved.shape.vip ?? null,
    name: resolved.shape.name ?? null,
    role: resolved.node.role ?? null,
    mdns: resolved.mdns,
    dht: resolved.dht,
    peers: resolved.peers,
    warnings
  }
}

/** The report for people: one line saying it is valid and what it sets, then each warning. */
export function formatConfigCheck (report: ConfigCheckReport): string {
  const shape = [
    `expect ${report.expect ?? 'not set'}`,
    `${report.controlPlanes} control plane${report.controlPlanes === 1 ? '' : 's'}`,
    `VIP ${report.vip ?? 'none'}`,
    ...(report.name === null ? [] : [`name ${report.name}`]),
    ...(report.role === null ? [] : [`role ${report.role}`])
  ]
  const discovery = [
    ...(report.mdns ? ['mDNS'] : []),
    ...(report.dht ? ['DHT'] : []),
    ...(report.peers.length === 0 ? [] : [`${report.peers.length} static peer${report.peers.length === 1 ? '' : 's'}`])
  ]
  const lines = [
    `config ${report.file} is valid: ${shape.join(', ')}; ` +
      `discovery: ${discovery.length === 0 ? 'none' : discovery.join(', ')}`,
    ...report.warnings.map((warning) => `warning: ${warning}`)
  ]
  return `${lines.join('\n')}\n`
}
