// The forms an operator may write a static peer in. A peer id exists only after a node's first
// boot, so "one config file baked into the image" must name peers by address alone: the token's
// private network (pnet) already refuses anyone without the token, and the peer id is learned in
// the handshake. A multiaddr with /p2p/<id> still pins the id, for those who have it.
import { isIP } from 'node:net'

/** The port of a static peer written without one: the agent's default listen port (tcp/4001). */
export const STATIC_PEER_PORT_DEFAULT = 4001

/** The forms accepted, for messages. */
export const STATIC_PEER_FORMS = 'an address such as 192.168.1.10, 192.168.1.10:4001, [fd00::10]:4001, node-1.lan:4001, ' +
  'or a multiaddr such as /ip4/192.168.1.10/tcp/4001 (optionally ending in /p2p/<peer id>)'

/** A DNS name: dot-separated labels of letters, digits and hyphens (RFC 1123). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/**
 * The multiaddr text for a static peer written as `text`: a multiaddr (starts with '/') is kept
 * as written (checked later by the multiaddr parser); an IP, `IP:port`, `[IPv6]:port`, a host
 * name or `host:port` becomes `/ip4|ip6|dns/…/tcp/<port>`, port 4001 when absent. Undefined for
 * anything else (a bad port, a name with a space). Pure.
 */
export function staticPeerMultiaddr (text: string): string | undefined {
  if (text.startsWith('/')) return text
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(text)
  if (bracketed !== null) {
    const ip = bracketed[1] ?? ''
    return isIP(ip) === 6 ? withPort(`/ip6/${ip}`, bracketed[2]) : undefined
  }
  const family = isIP(text)
  if (family === 4) return `/ip4/${text}/tcp/${STATIC_PEER_PORT_DEFAULT}`
  if (family === 6) return `/ip6/${text}/tcp/${STATIC_PEER_PORT_DEFAULT}`
  const hostPort = /^([^:]+)(?::([0-9]{1,5}))?$/.exec(text)
  if (hostPort === null) return undefined
  const host = hostPort[1] ?? ''
  if (isIP(host) === 4) return withPort(`/ip4/${host}`, hostPort[2])
  if (/^[0-9.]+$/.test(host) || !HOST_NAME.test(host)) return undefined // a mistyped IPv4 is not a name
  return withPort(`/dns/${host}`, hostPort[2])
}

function withPort (prefix: string, port: string | undefined): string | undefined {
  if (port === undefined) return `${prefix}/tcp/${STATIC_PEER_PORT_DEFAULT}`
  const value = Number(port)
  return value >= 1 && value <= 65_535 ? `${prefix}/tcp/${value}` : undefined
}
