import { isIP } from 'node:net'
import { CONTROL_PLANES_ALLOWED, EXPECT_MAX, NAME_CHARS_MAX } from '@p2p-bootstrap/core'
import { isPinnedImage } from '@p2p-bootstrap/k3s'
import { STATIC_PEER_FORMS, staticPeerMultiaddr } from '@p2p-bootstrap/overlay'
import {
  COMMAND_ARGUMENT_CHARS_MAX, COMMAND_TIMEOUT_SECONDS_MAX, FAILOVER_DELAY_SECONDS_MAX, FAILOVER_DELAY_SECONDS_MIN,
  INTERFACE_CHARS_MAX, MULTIADDR_CHARS_MAX, PATH_CHARS_MAX, TOKEN_TEXT_CHARS_MAX
} from './limits.js'

/**
 * The rules every setting obeys, shared by the config file and the flags so that both accept the
 * same values and word their errors the same way: "<where> must be <wants>, got <value>".
 */
export interface Rule<T> {
  /** What a valid value is, as the end of "must be …". */
  readonly wants: string
  readonly accepts: (value: T) => boolean
  /** Why the rule exists, when that helps the operator pick a value. */
  readonly why?: string
  /** The value is a secret: errors show its length, never its text. */
  readonly secret?: boolean
}

/** The end of an error sentence: what was wanted, what was found, and why. */
export function problem<T> (rule: Rule<T>, shown: string): string {
  return `must be ${rule.wants}, got ${shown}` + (rule.why === undefined ? '' : ` (${rule.why})`)
}

const SHOWN_CHARS_MAX = 40

/** A short, unambiguous rendering of a value for an error message (never a whole token). */
export function describeValue (value: unknown): string {
  if (value === null || value === undefined) return 'nothing'
  if (typeof value === 'string') {
    return value.length > SHOWN_CHARS_MAX ? `${JSON.stringify(value.slice(0, SHOWN_CHARS_MAX))}…` : JSON.stringify(value)
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return typeof value
}

/** Like `describeValue`, but shows only the length of a secret text. */
export function describeFor<T> (rule: Rule<T>, value: unknown): string {
  return rule.secret === true && typeof value === 'string' ? `text of ${value.length} characters` : describeValue(value)
}

/** Joins choices as "a, b or c". */
export function listOr (choices: readonly (string | number)[]): string {
  const words = choices.map(String)
  const last = words.pop()
  return words.length === 0 ? (last ?? '') : `${words.join(', ')} or ${last ?? ''}`
}

export const expectRule: Rule<number> = {
  wants: `a whole number from 1 to ${EXPECT_MAX}`,
  accepts: (value) => Number.isSafeInteger(value) && value >= 1 && value <= EXPECT_MAX
}

export const controlPlanesRule: Rule<number> = {
  wants: listOr(CONTROL_PLANES_ALLOWED),
  accepts: (value) => CONTROL_PLANES_ALLOWED.includes(value)
}

/** Kairos' `p2p.auto.ha.master_nodes`: masters beside the init node; oddness is checked later. */
export const masterNodesRule: Rule<number> = {
  wants: `a whole number from 0 to ${EXPECT_MAX}`,
  accepts: (value) => Number.isSafeInteger(value) && value >= 0 && value <= EXPECT_MAX
}

export const ipAddressRule: Rule<string> = {
  wants: 'an IPv4 or IPv6 address',
  accepts: (value) => isIP(value) !== 0
}

const prefixPattern = /^(0|[1-9][0-9]{0,2})$/

/** The family of one CIDR (`192.168.1.0/24`, `fd00::/64`; host bits may be set), or 0. */
function cidrFamily (text: string): number {
  const slash = text.indexOf('/')
  const address = text.slice(0, slash)
  const prefix = text.slice(slash + 1)
  // A zone index (`fe80::1%eth0`) names an interface, not a network.
  const family = slash < 0 || address.includes('%') ? 0 : isIP(address)
  if (family === 0 || !prefixPattern.test(prefix)) return 0
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : 0
}

/** The node network's CIDR; dual-stack as one CIDR per family, comma-separated (k3s' own form). */
export const subnetRule: Rule<string> = {
  wants: 'a CIDR such as 192.168.1.0/24 or fd00::/64 (an address, then a prefix length of at most 32 for IPv4 or 128 for IPv6), or one IPv4 and one IPv6 CIDR separated by a comma',
  accepts: (value) => {
    const families = value.split(',').map(cidrFamily)
    return families.length <= 2 && !families.includes(0) && new Set(families).size === families.length
  }
}

export const commandTimeoutRule: Rule<number> = {
  wants: `a whole number of seconds from 1 to ${COMMAND_TIMEOUT_SECONDS_MAX}`,
  accepts: (value) => Number.isSafeInteger(value) && value >= 1 && value <= COMMAND_TIMEOUT_SECONDS_MAX
}

/** `failover-delay`: seconds a control plane stays dead before a live worker replaces it. */
export const failoverDelayRule: Rule<number> = {
  wants: `a whole number of seconds from ${FAILOVER_DELAY_SECONDS_MIN} to ${FAILOVER_DELAY_SECONDS_MAX} (a week)`,
  why: 'how long a control plane stays dead before a live worker replaces it: longer than a reboot, since a replaced server must clean its data to come back; lan default 300',
  accepts: (value) => Number.isSafeInteger(value) && value >= FAILOVER_DELAY_SECONDS_MIN && value <= FAILOVER_DELAY_SECONDS_MAX
}

export const imageRule: Rule<string> = {
  wants: 'a pinned image reference: a version tag other than latest, or a sha256 digest, such as ghcr.io/kube-vip/kube-vip:v0.9.2',
  why: 'every server runs the same kube-vip, so its image must not change under them',
  accepts: isPinnedImage
}

/** One entry of Kairos' `k3s.args` or `k3s-agent.args`; the bootstrapper checks the flag itself. */
export const kairosArgRule: Rule<string> = {
  wants: `a k3s flag as text, such as --disable=traefik (1 to ${COMMAND_ARGUMENT_CHARS_MAX} characters)`,
  accepts: (value) => value.length >= 1 && value.length <= COMMAND_ARGUMENT_CHARS_MAX
}

const dnsLabelPattern = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

export const clusterNameRule: Rule<string> = {
  wants: `one lower-case DNS label (1 to ${NAME_CHARS_MAX} letters, digits or '-', not starting or ending with '-')`,
  accepts: (value) => value.length <= NAME_CHARS_MAX && dnsLabelPattern.test(value)
}

/** Kairos' `p2p.network_id`, which p2p-bootstrap uses as the cluster name. */
export const networkIdRule: Rule<string> = {
  ...clusterNameRule,
  why: 'p2p-bootstrap uses p2p.network_id as the cluster name'
}

/** Kairos' `p2p.minimum_nodes`; 0 is Kairos' "not set". */
export const minimumNodesRule: Rule<number> = {
  wants: `a whole number from 0 to ${EXPECT_MAX}`,
  accepts: (value) => Number.isSafeInteger(value) && value >= 0 && value <= EXPECT_MAX
}

const DNS_NAME_CHARS_MAX = 253
const dnsNamePattern = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

export const hostnameRule: Rule<string> = {
  wants: `a lower-case DNS name (letters, digits, '-' and '.', at most ${DNS_NAME_CHARS_MAX} characters)`,
  accepts: (value) => value.length <= DNS_NAME_CHARS_MAX && value.split('.').every((label) => label.length <= 63) && dnsNamePattern.test(value)
}

export const interfaceRule: Rule<string> = {
  wants: `a network interface name (1 to ${INTERFACE_CHARS_MAX} characters, no '/', ':' or spaces)`,
  accepts: (value) => value.length >= 1 && value.length <= INTERFACE_CHARS_MAX && value !== '.' && value !== '..' && !/[/:\s]/.test(value)
}

export const pathRule: Rule<string> = {
  wants: `a file system path (1 to ${PATH_CHARS_MAX} characters)`,
  accepts: (value) => value.length >= 1 && value.length <= PATH_CHARS_MAX && !value.includes('\0')
}

export const tokenTextRule: Rule<string> = {
  wants: 'the token text printed by \'p2p-bootstrap token generate\', or a Kairos token',
  accepts: (value) => value.trim().length >= 1 && value.length <= TOKEN_TEXT_CHARS_MAX,
  secret: true
}

const multiaddrPattern = /^\/\S+$/

export const listenRule: Rule<string> = {
  wants: 'a multiaddr such as /ip4/0.0.0.0/tcp/4001',
  accepts: (value) => value.length <= MULTIADDR_CHARS_MAX && multiaddrPattern.test(value)
}

/** A static peer by address (the peer id is learned in the handshake) or by multiaddr. */
export const peerRule: Rule<string> = {
  wants: STATIC_PEER_FORMS,
  accepts: (value) => {
    if (value.length > MULTIADDR_CHARS_MAX) return false
    const address = staticPeerMultiaddr(value)
    return address !== undefined && multiaddrPattern.test(address)
  }
}

const listenAddressPattern = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/

/** `metrics.listen`: an IP literal (IPv6 in brackets) and a port; a host name could resolve elsewhere. */
export const metricsListenRule: Rule<string> = {
  wants: 'an address and a port such as 127.0.0.1:9464 or [::1]:9464 (an IP address, IPv6 in brackets, and a port from 1 to 65535)',
  why: 'anyone who reaches it sees the cluster\'s node ids, addresses and roles, so keep it on loopback or a management network',
  accepts: (value) => {
    const match = listenAddressPattern.exec(value)
    if (match === null) return false
    const port = Number(match[3])
    const family = match[1] !== undefined ? isIP(match[1]) === 6 : isIP(match[2] ?? '') === 4
    return family && port >= 1 && port <= 65_535
  }
}

export const ROLES = ['control-plane', 'worker'] as const
export const PROFILES = ['lan', 'wan', 'test'] as const

/** A rule that accepts exactly one of `choices`, and narrows to their type. */
export function choiceRule<const C extends string> (choices: readonly C[]): Rule<string> & { readonly is: (value: string) => value is C } {
  const is = (value: string): value is C => (choices as readonly string[]).includes(value)
  return { wants: listOr(choices), accepts: is, is }
}

export const roleRule = choiceRule(ROLES)
export const kairosRoleRule = choiceRule(['master', 'worker', 'auto'])
export const profileRule = choiceRule(PROFILES)

// Kubernetes label syntax (apimachinery's IsQualifiedName and IsValidLabelValue).
const LABEL_NAME_CHARS_MAX = 63
const LABEL_PREFIX_CHARS_MAX = 253
const labelNamePattern = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/

function isLabelName (text: string): boolean {
  return text.length >= 1 && text.length <= LABEL_NAME_CHARS_MAX && labelNamePattern.test(text)
}

export const labelKeyRule: Rule<string> = {
  wants: `a Kubernetes label key (an optional DNS prefix and '/', then 1 to ${LABEL_NAME_CHARS_MAX} letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
  accepts: (key) => {
    const slash = key.indexOf('/')
    if (slash === -1) return isLabelName(key)
    const prefix = key.slice(0, slash)
    return prefix.length <= LABEL_PREFIX_CHARS_MAX && dnsNamePattern.test(prefix) && isLabelName(key.slice(slash + 1))
  }
}

export const labelValueRule: Rule<string> = {
  wants: `a Kubernetes label value (empty, or 1 to ${LABEL_NAME_CHARS_MAX} letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
  accepts: (value) => value === '' || isLabelName(value)
}
