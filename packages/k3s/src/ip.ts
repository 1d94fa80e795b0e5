/**
 * IPv4 and IPv6 addresses and CIDRs as integers, so that "is this address in that subnet" and
 * "are these two addresses the same" do not depend on how the text was written (`fd00::1` and
 * `fd00:0::1` are one address). Written here rather than taken from `node:net`: this package is
 * pure and imports no `node:` module.
 */

export type IpFamily = 4 | 6

export interface IpAddress {
  readonly family: IpFamily
  readonly value: bigint
}

export interface IpCidr {
  readonly family: IpFamily
  /** The network address: the host bits of the text are cleared. */
  readonly network: bigint
  readonly prefix: number
  /** The address as written before the '/', which may carry host bits (an interface address). */
  readonly address: bigint
}

const IPV4_PATTERN = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

export function bitsOf (family: IpFamily): number {
  return family === 4 ? 32 : 128
}

/** Parses an IPv4 or IPv6 address (no zone, no brackets); `undefined` when it is neither. */
export function parseIp (text: string): IpAddress | undefined {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { family: 4, value: v4 }
  const v6 = parseIpv6(text)
  return v6 === undefined ? undefined : { family: 6, value: v6 }
}

/** Parses `address/prefix`; the address may carry host bits (`192.168.1.10/24`). */
export function parseCidr (text: string): IpCidr | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIp(text.slice(0, slash))
  const prefixText = text.slice(slash + 1)
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined
  const prefix = Number(prefixText)
  if (prefix > bitsOf(ip.family)) return undefined
  return { family: ip.family, network: ip.value & maskOf(ip.family, prefix), prefix, address: ip.value }
}

export function cidrContains (cidr: IpCidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && (ip.value & maskOf(cidr.family, cidr.prefix)) === cidr.network
}

/**
 * True for the addresses of a subnet that cannot be a host: the network address, and for IPv4
 * the broadcast address. Subnets too small to have both (/31, /32, /127, /128) have none.
 */
export function isReservedInSubnet (cidr: IpCidr, ip: IpAddress): boolean {
  const bits = bitsOf(cidr.family)
  if (cidr.prefix >= bits - 1) return false
  const hostMask = (1n << BigInt(bits - cidr.prefix)) - 1n
  const host = ip.value & hostMask
  return host === 0n || (cidr.family === 4 && host === hostMask)
}

export function sameIp (left: IpAddress, right: IpAddress): boolean {
  return left.family === right.family && left.value === right.value
}

/** The host part of a URL: IPv6 addresses go in brackets (RFC 3986). */
export function urlHost (text: string): string {
  return parseIp(text)?.family === 6 ? `[${text}]` : text
}

function maskOf (family: IpFamily, prefix: number): bigint {
  const bits = bitsOf(family)
  const all = (1n << BigInt(bits)) - 1n
  return prefix === 0 ? 0n : all ^ ((1n << BigInt(bits - prefix)) - 1n)
}

function parseIpv4 (text: string): bigint | undefined {
  const match = IPV4_PATTERN.exec(text)
  if (match === null) return undefined
  let value = 0n
  for (const part of match.slice(1)) {
    const octet = Number(part)
    if (octet > 255) return undefined
    value = (value << 8n) | BigInt(octet)
  }
  return value
}

function parseIpv6 (text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45) return undefined
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = groupsOf(halves[0] ?? '')
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : []
  if (head === undefined || tail === undefined) return undefined
  const written = head.length + tail.length
  if (halves.length === 2 ? written > 7 : written !== 8) return undefined
  const groups = [...head, ...new Array<number>(8 - written).fill(0), ...tail]
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n)
}

/** The 16-bit groups of one side of '::'; a trailing dotted IPv4 counts as two groups. */
function groupsOf (side: string): number[] | undefined {
  if (side === '') return []
  const parts = side.split(':')
  const groups: number[] = []
  for (const [index, part] of parts.entries()) {
    const last = index === parts.length - 1
    if (last && part.includes('.')) {
      const v4 = parseIpv4(part)
      if (v4 === undefined) return undefined
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn))
    } else if (HEX_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16))
    } else {
      return undefined
    }
  }
  return groups
}

/** Address kinds that can never be a node's address on a real network. */
export type NonHostKind = 'loopback' | 'link-local' | 'multicast' | 'unspecified'

const IPV4_MAPPED_PREFIX = 0xffffn << 32n

/**
 * The kind of `ip` when it cannot be a host address k3s runs on, else undefined. The kubelet
 * refuses a loopback node-ip ("nodeIP can't be loopback address"); link-local addresses are not
 * routed off their link, multicast is no unicast host, and the unspecified address is nobody. An
 * IPv4-mapped IPv6 address is judged by its IPv4 part, as Go's net.IP (which k3s uses) does.
 */
export function nonHostKind (ip: IpAddress): NonHostKind | undefined {
  if (ip.family === 6 && (ip.value >> 32n) === (IPV4_MAPPED_PREFIX >> 32n)) {
    return nonHostKind({ family: 4, value: ip.value & 0xffffffffn })
  }
  if (ip.family === 4) {
    const first = Number(ip.value >> 24n)
    if (ip.value === 0n) return 'unspecified'
    if (first === 127) return 'loopback'
    if ((ip.value >> 16n) === 0xa9fen) return 'link-local' // 169.254.0.0/16
    if (first >= 224 && first <= 239) return 'multicast' // 224.0.0.0/4
    return undefined
  }
  if (ip.value === 0n) return 'unspecified'
  if (ip.value === 1n) return 'loopback'
  const top = Number(ip.value >> 112n)
  if ((top & 0xffc0) === 0xfe80) return 'link-local' // fe80::/10
  if ((top & 0xff00) === 0xff00) return 'multicast' // ff00::/8
  return undefined
}
