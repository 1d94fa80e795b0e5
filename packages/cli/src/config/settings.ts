import type { ProfileName } from '@p2p-bootstrap/bootstrapper'
import type { Role } from '@p2p-bootstrap/core'
import type { KeyPath } from './yaml-source.js'

/** One value read from a config file, with the key it was written under (for messages). */
export interface Setting<T> {
  readonly value: T
  readonly path: KeyPath
}

/** What one spelling of a config file says, before the two spellings are merged. */
export interface Settings {
  token?: Setting<string>
  stateDir?: Setting<string>
  root?: Setting<string>
  profile?: Setting<ProfileName>
  /** `failover-delay`, in seconds. */
  failoverDelaySeconds?: Setting<number>
  listen?: Setting<string[]>
  peers?: Setting<string[]>
  mdns?: Setting<boolean>
  dht?: Setting<boolean>
  expect?: Setting<number>
  controlPlanes?: Setting<number>
  vip?: Setting<string>
  name?: Setting<string>
  nodeIp?: Setting<string>
  interface?: Setting<string>
  role?: Setting<Role>
  hostname?: Setting<string>
  labels?: Setting<Record<string, string>>
  subnet?: Setting<string>
  /** The native `k3s:` mapping, as written (the bootstrapper checks its keys). */
  k3sExtra?: Setting<Record<string, unknown>>
  /** Kairos' `k3s.args`. */
  kairosServerArgs?: Setting<string[]>
  /** Kairos' `k3s-agent.args`. */
  kairosAgentArgs?: Setting<string[]>
  kubeVipImage?: Setting<string>
  kubeVipInterface?: Setting<string>
  startCommand?: Setting<string[]>
  restartCommand?: Setting<string[]>
  stopCommand?: Setting<string[]>
  /** `apply.clean-replaced-server`: a replaced server cleans its stale state itself (opt-in). */
  cleanReplacedServer?: Setting<boolean>
  readyCommand?: Setting<string[] | false>
  onReadyCommand?: Setting<string[]>
  commandTimeoutSeconds?: Setting<number>
  adminKeys?: Setting<string[]>
  /** `metrics.listen`: where /metrics, /healthz and the status page listen. */
  metricsListen?: Setting<string>
}

/** Every setting name, in the order conflicts are reported. */
export const SETTING_NAMES: readonly (keyof Settings)[] = [
  'token', 'stateDir', 'root', 'profile', 'failoverDelaySeconds', 'listen', 'peers', 'mdns', 'dht', 'expect',
  'controlPlanes', 'vip', 'name', 'nodeIp', 'interface', 'role', 'hostname', 'labels', 'subnet',
  'k3sExtra', 'kairosServerArgs', 'kairosAgentArgs', 'kubeVipImage', 'kubeVipInterface',
  'startCommand', 'restartCommand', 'stopCommand', 'cleanReplacedServer', 'readyCommand', 'onReadyCommand', 'commandTimeoutSeconds',
  'adminKeys', 'metricsListen'
]

/** A setting at `path`, or nothing when the file did not give the value. */
export function setting<T> (value: T | undefined, path: KeyPath): Setting<T> | undefined {
  return value === undefined ? undefined : { value, path }
}

/** Formats a key path as written in the file: `cluster.vip`, `peers[1]`, `node.labels["a/b"]`. */
export function formatPath (path: KeyPath): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) text += text === '' ? segment : `.${segment}`
    else text += `[${JSON.stringify(segment)}]`
  }
  return text
}
