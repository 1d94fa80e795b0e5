import { deriveKeys } from '@p2p-bootstrap/core'
import type { NetworkToken } from '@p2p-bootstrap/core'

/** The non-secret facts of a token, as `token inspect` shows them; the secret is never here. */
export interface TokenView {
  readonly version: number
  readonly clusterId: string
  readonly name: string | null
  readonly expect: number | null
  readonly controlPlanes: number | null
  readonly vip: string | null
  /** ISO 8601 time the token was generated, when it says. */
  readonly created: string | null
  readonly origin: 'native' | 'kairos'
}

export function tokenView (token: NetworkToken): TokenView {
  return {
    version: token.version,
    clusterId: deriveKeys(token).clusterId,
    name: token.name ?? null,
    expect: token.expect ?? null,
    controlPlanes: token.controlPlanes ?? null,
    vip: token.vip ?? null,
    created: token.createdMs === undefined ? null : new Date(token.createdMs).toISOString(),
    origin: token.origin
  }
}

const LABEL_COLUMN_CHARS = 16
const ABSENT = '-'

/** Aligned `label  value` lines for people; absent fields show as '-'. */
export function formatTokenView (view: TokenView): string {
  const rows: Array<[string, string | number | null]> = [
    ['version', view.version],
    ['cluster id', view.clusterId],
    ['name', view.name],
    ['expect', view.expect],
    ['control planes', view.controlPlanes],
    ['vip', view.vip],
    ['created', view.created],
    ['origin', view.origin]
  ]
  return rows.map(([label, value]) => `${label.padEnd(LABEL_COLUMN_CHARS)}${value === null ? ABSENT : String(value)}\n`).join('')
}
