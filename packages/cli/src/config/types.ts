import type { ApplyOptions, BootstrapperOptions } from '@p2p-bootstrap/bootstrapper'

/**
 * What commander hands the `run` action. Numbers arrive as text and are validated here, so each
 * error names its flag. An absent field means "not given": define no commander defaults, or the
 * flag would always override the config file (for `--mdns`/`--no-mdns`, define `--mdns` first).
 */
export interface RunFlags {
  config?: string
  /** Token text, or '-' to read it from standard input. */
  token?: string
  stateDir?: string
  root?: string
  /** Repeated `--listen`; replaces the file's list when given. */
  listen?: string[]
  /** Repeated `--peer`; replaces the file's list when given. */
  peer?: string[]
  expect?: string
  controlPlanes?: string
  vip?: string
  interface?: string
  nodeIp?: string
  /** The node network's CIDR; overrides the file's `node.subnet`. */
  subnet?: string
  /** Repeated `--label key=value`; each overrides the file's label of the same key. */
  label?: string[]
  role?: string
  profile?: string
  /** `--failover-delay`, whole seconds as text; overrides the file's `failover-delay`. */
  failoverDelay?: string
  mdns?: boolean
  dht?: boolean
  dryRun?: boolean
  once?: boolean
  json?: boolean
}

/**
 * A config file after reading, in one spelling whichever it was written in (native or Kairos):
 * the bootstrapper options it sets, and where it came from. `k3s.extra` is the native `k3s:`
 * mapping as written and `k3s.kairosArgs` Kairos' `k3s.args` and `k3s-agent.args`; the
 * bootstrapper checks both against the pinned k3s flags.
 */
export interface FileConfig extends Omit<Partial<BootstrapperOptions>, 'token' | 'dryRun' | 'statusSocket' | 'apply'> {
  /** The path (or name) it was read from, for messages. */
  source: string
  /**
   * Accepted, but worth a line to the operator: a key Kairos itself ignores, or a feature this
   * file asks for that p2p-bootstrap does not provide. `run` logs each at start; `config check`
   * prints them. Absent when there is none.
   */
  warnings?: readonly string[]
  /** Token text; parsed by the bootstrapper, not here. */
  token?: string
  /** The commands and their timeout; an installer callback cannot come from a file. */
  apply?: Omit<ApplyOptions, 'onOutput'>
}

/** Where the token text came from, so a bad token's error can say which one to fix. */
export type TokenSource = 'flag' | 'stdin' | 'file' | 'env'

/** Everything `run` needs, flags merged over the file. */
export interface RunSettings {
  /**
   * What to give `createBootstrapper`. When `tokenFromStdin` is true, `options.token` is the
   * empty string: the command reads standard input and puts the text there.
   */
  options: BootstrapperOptions
  once: boolean
  json: boolean
  tokenFromStdin: boolean
  tokenSource: TokenSource
  configSource?: string
}
