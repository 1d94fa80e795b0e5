import type { BootstrapperOptions } from '@p2p-bootstrap/bootstrapper'
import { CliError } from '../errors.js'
import { ConfigError } from './errors.js'
import { ADDRESS_LIST_ENTRIES_MAX, LABELS_MAX } from './limits.js'
import { definedOnly } from './records.js'
import {
  controlPlanesRule, describeFor, expectRule, failoverDelayRule, interfaceRule, ipAddressRule, labelKeyRule,
  labelValueRule, listenRule, pathRule, peerRule, problem, profileRule, roleRule, subnetRule,
  tokenTextRule
} from './rules.js'
import type { Rule } from './rules.js'
import type { FileConfig, RunFlags, RunSettings, TokenSource } from './types.js'

/** Token text that means "read the token from standard input" (keeps it out of `ps`). */
export const STDIN_TOKEN = '-'

/** The environment variable read for the token when neither a flag nor the file gives one. */
export const TOKEN_ENV = 'P2PB_TOKEN'

/**
 * Merges the `run` flags over the config file into the bootstrapper's options. Pure. A flag
 * replaces the file's value, lists included (`--listen`, `--peer`); `--label` overrides the
 * file's label of the same key and keeps the others. The token comes from `--token`, else the
 * file, else `P2PB_TOKEN`; it is carried as text (the bootstrapper parses it). The k3s, apply,
 * admin-key and metrics settings come from the file only, but for `--subnet`.
 * A bad flag value throws `CliError` `CLI_USAGE` naming the flag; no token anywhere, or settings
 * that contradict each other, throw `ConfigError` `CLI_CONFIG`.
 */
export function resolveRunSettings (flags: RunFlags, file: FileConfig | undefined, env: Record<string, string | undefined>): RunSettings {
  const token = resolveToken(flags.token, file, env)
  const vip = flagText('--vip', flags.vip, ipAddressRule) ?? file?.shape?.vip
  const nodeIp = flagText('--node-ip', flags.nodeIp, ipAddressRule) ?? file?.node?.nodeIp
  if (vip !== undefined && nodeIp !== undefined && vip.toLowerCase() === nodeIp.toLowerCase()) {
    throw new ConfigError('CLI_CONFIG', `the node IP ${nodeIp} is also the VIP: the VIP moves between control planes, so give this node its own address (--node-ip or node.ip) or pick another VIP (--vip or cluster.vip)`)
  }
  const shape = definedOnly({
    expect: flagNumber('--expect', flags.expect, expectRule) ?? file?.shape?.expect,
    controlPlanes: flagNumber('--control-planes', flags.controlPlanes, controlPlanesRule) ?? file?.shape?.controlPlanes,
    vip,
    name: file?.shape?.name
  })
  const node = definedOnly({
    nodeIp,
    interface: flagText('--interface', flags.interface, interfaceRule) ?? file?.node?.interface,
    labels: mergeLabels(file?.node?.labels, flags.label),
    role: flagChoice('--role', flags.role, roleRule) ?? file?.node?.role,
    hostname: file?.node?.hostname
  })
  const k3s = definedOnly({
    ...file?.k3s,
    subnet: flagText('--subnet', flags.subnet, subnetRule) ?? file?.k3s?.subnet
  })
  const rest = definedOnly({
    stateDir: flagText('--state-dir', flags.stateDir, pathRule) ?? file?.stateDir,
    root: flagText('--root', flags.root, pathRule) ?? file?.root,
    listen: flagList('--listen', flags.listen, listenRule) ?? file?.listen,
    peers: flagList('--peer', flags.peer, peerRule) ?? file?.peers,
    mdns: flags.mdns ?? file?.mdns,
    dht: flags.dht ?? file?.dht,
    shape,
    node,
    profile: flagChoice('--profile', flags.profile, profileRule) ?? file?.profile,
    failoverDelayMs: secondsToMs(flagNumber('--failover-delay', flags.failoverDelay, failoverDelayRule)) ?? file?.failoverDelayMs,
    k3s,
    apply: file?.apply,
    adminKeys: file?.adminKeys,
    observe: file?.observe,
    dryRun: flags.dryRun === true ? true : undefined
  })
  const options: BootstrapperOptions = { token: token.text, ...rest }
  return {
    options,
    once: flags.once === true,
    json: flags.json === true,
    tokenFromStdin: token.source === 'stdin',
    tokenSource: token.source,
    ...(file === undefined ? {} : { configSource: file.source })
  }
}

function resolveToken (flag: string | undefined, file: FileConfig | undefined, env: Record<string, string | undefined>): { text: string, source: TokenSource } {
  if (flag === STDIN_TOKEN) return { text: '', source: 'stdin' }
  const fromFlag = flagText('--token', flag, tokenTextRule)
  if (fromFlag !== undefined) return { text: fromFlag, source: 'flag' }
  if (file?.token !== undefined) return { text: file.token, source: 'file' }
  const fromEnv = env[TOKEN_ENV]
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { text: fromEnv, source: 'env' }
  const inFile = file === undefined ? 'token: in a config file (--config)' : `token: (or p2p.network_token) in ${file.source}`
  throw new ConfigError('CLI_CONFIG', `no network token: pass --token <token> (or --token ${STDIN_TOKEN} to read it from standard input), set ${inFile}, or set ${TOKEN_ENV}; 'p2p-bootstrap token generate' makes one`)
}

function usageError<T> (flag: string, rule: Rule<T>, text: string): CliError {
  const shown = /^[0-9]+$/.test(text) ? text : describeFor(rule, text)
  return new CliError('CLI_USAGE', `${flag} ${problem(rule, shown)}`)
}

function flagText (flag: string, text: string | undefined, rule: Rule<string>): string | undefined {
  if (text === undefined) return undefined
  if (!rule.accepts(text)) throw usageError(flag, rule, text)
  return text
}

function flagChoice<C extends string> (flag: string, text: string | undefined, rule: Rule<string> & { readonly is: (value: string) => value is C }): C | undefined {
  if (text === undefined) return undefined
  if (!rule.is(text)) throw usageError(flag, rule, text)
  return text
}

function flagNumber (flag: string, text: string | undefined, rule: Rule<number>): number | undefined {
  if (text === undefined) return undefined
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined
  if (value === undefined || !rule.accepts(value)) throw usageError(flag, rule, text)
  return value
}

function secondsToMs (seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000
}

/** A repeated flag; commander gives no list when the flag is absent, and never an empty one. */
function flagList (flag: string, texts: readonly string[] | undefined, rule: Rule<string>): string[] | undefined {
  if (texts === undefined || texts.length === 0) return undefined
  if (texts.length > ADDRESS_LIST_ENTRIES_MAX) {
    throw new CliError('CLI_USAGE', `${flag} is given ${texts.length} times: at most ${ADDRESS_LIST_ENTRIES_MAX} are allowed`)
  }
  return texts.map((text) => flagText(flag, text, rule) ?? text)
}

/** `--label key=value` flags over the file's labels, each checked like a Kubernetes label. */
function mergeLabels (fileLabels: Readonly<Record<string, string>> | undefined, flags: readonly string[] | undefined): Record<string, string> | undefined {
  if (flags === undefined || flags.length === 0) return fileLabels === undefined ? undefined : { ...fileLabels }
  const fromFlags = new Map<string, string>()
  for (const text of flags) {
    const equals = text.indexOf('=')
    if (equals === -1) throw new CliError('CLI_USAGE', `--label must be key=value, got ${JSON.stringify(text)}`)
    const key = text.slice(0, equals)
    const value = text.slice(equals + 1)
    if (!labelKeyRule.accepts(key)) throw new CliError('CLI_USAGE', `--label ${JSON.stringify(text)}: the key ${problem(labelKeyRule, JSON.stringify(key))}`)
    if (!labelValueRule.accepts(value)) throw new CliError('CLI_USAGE', `--label ${JSON.stringify(text)}: the value ${problem(labelValueRule, JSON.stringify(value))}`)
    const earlier = fromFlags.get(key)
    if (earlier !== undefined && earlier !== value) {
      throw new CliError('CLI_USAGE', `--label ${key} is given twice (${JSON.stringify(earlier)} and ${JSON.stringify(value)}): give it once`)
    }
    fromFlags.set(key, value)
  }
  const merged = { ...fileLabels, ...Object.fromEntries(fromFlags) }
  const count = Object.keys(merged).length
  if (count > LABELS_MAX) throw new CliError('CLI_USAGE', `--label: this node would have ${count} labels, over the limit of ${LABELS_MAX}: drop some`)
  return merged
}
