import { isIP } from 'node:net'

/** Where the metrics and status page listener binds: an IP literal and a TCP port. */
export interface ObserveListen {
  /** An IPv4 or IPv6 address, without brackets. */
  readonly host: string
  /** 1 to 65535, or 0 for a port the system picks (tests). */
  readonly port: number
}

/** What a valid `observe.listen` is, as the end of "must be …". */
export const OBSERVE_LISTEN_WANTS = 'an address and a port such as 127.0.0.1:9464 or [::1]:9464 (an IP address, IPv6 in brackets; 0.0.0.0 or [::] listens on every address)'

const LISTEN_CHARS_MAX = 64

/**
 * Reads `host:port` (`127.0.0.1:9464`, `[::1]:9464`), or returns null when it is not one. Only
 * IP literals: a host name could resolve to another address than the operator meant to expose.
 */
export function parseObserveListen (text: string): ObserveListen | null {
  if (text.length > LISTEN_CHARS_MAX) return null
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text)
  if (match === null) return null
  const v6 = match[1]
  const host = v6 ?? match[2] ?? ''
  const family = isIP(host)
  if (v6 !== undefined ? family !== 6 : family !== 4) return null
  const port = Number(match[3])
  if (port > 65_535) return null
  return { host, port }
}

/** `host:port` with IPv6 in brackets, the form `parseObserveListen` reads. */
export function formatObserveListen (listen: ObserveListen): string {
  return isIP(listen.host) === 6 ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`
}
