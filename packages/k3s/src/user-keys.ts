import { flagNamed, K3S_FLAGS_VERSION } from './k3s-flags.js'
import type { K3sFlag } from './k3s-flags.js'
import { RenderError } from './errors.js'
import { isCriticalKey, OWN_LABEL_KEYS, reservedReason } from './keys.js'
import { LIST_ENTRIES_MAX, USER_KEYS_MAX, VALUE_CHARS_MAX } from './limits.js'

/**
 * User additions to config.yaml: the `k3s:` block of the p2p-bootstrap config (cluster-wide or
 * node-local) and Kairos `k3s.args`. Each block is checked on its own before anything is merged:
 * every key is a flag of the pinned k3s version, no key is one p2p-bootstrap sets from the plan,
 * a node-local block sets no critical key, and every value has its flag's type.
 */

/** A checked user value: list flags always hold an array. */
export type UserValue = boolean | number | string | readonly string[]

/** A checked user block, keys in code-unit order so that merging is deterministic. */
export type UserBlock = ReadonlyMap<string, UserValue>

/** Where a block comes from, for messages, and whether it may set critical keys. */
export interface BlockOrigin {
  /** Words naming the block: "the cluster-wide k3s block". */
  readonly source: string
  /** Cluster-wide blocks must be identical on every node and may set critical keys. */
  readonly clusterWide: boolean
  /** Words naming the node in messages ("node 12D3…"), or the empty string. */
  readonly where: string
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

/** Checks one block; throws the `RenderError` of the first problem, naming the key and the fix. */
export function checkUserBlock (block: Readonly<Record<string, unknown>> | undefined, origin: BlockOrigin): UserBlock {
  if (block === undefined) return new Map()
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    throw new RenderError('K3S_BAD_VALUE', `${prefix(origin)}${origin.source} must be a mapping of k3s keys to values`)
  }
  const keys = Object.keys(block).sort(compareText)
  if (keys.length > USER_KEYS_MAX) {
    throw new RenderError('K3S_BAD_VALUE', `${prefix(origin)}${origin.source} has ${keys.length} keys, over the limit of ${USER_KEYS_MAX}`)
  }
  const checked = new Map<string, UserValue>()
  for (const key of keys) {
    const flag = checkKey(key, origin)
    checked.set(key, checkValue(flag, block[key], origin))
  }
  return checked
}

function checkKey (key: string, origin: BlockOrigin): K3sFlag {
  const flag = flagNamed(key)
  if (flag === undefined) {
    throw new RenderError('K3S_UNKNOWN_KEY', `${prefix(origin)}${origin.source} sets ${JSON.stringify(key.slice(0, 64))}, which is not a flag of k3s ${K3S_FLAGS_VERSION}: check the spelling against \`k3s server --help\` (keys are long flag names without the leading --)`)
  }
  const reason = reservedReason(key)
  if (reason !== undefined) {
    throw new RenderError('K3S_RESERVED_KEY', `${prefix(origin)}${origin.source} sets ${key}, which p2p-bootstrap writes itself: ${reason}; remove it from the block`)
  }
  if (!origin.clusterWide && isCriticalKey(key)) {
    throw new RenderError('K3S_CRITICAL_OVERRIDE', `${prefix(origin)}${origin.source} sets ${key}, which must be identical on every server (k3s refuses a join on a critical value mismatch): move it to the cluster-wide k3s block, with the same value in every node's config`)
  }
  return flag
}

function checkValue (flag: K3sFlag, value: unknown, origin: BlockOrigin): UserValue {
  const what = `${prefix(origin)}${origin.source} key ${flag.name}`
  switch (flag.type) {
    case 'bool':
      if (typeof value !== 'boolean') throw badValue(`${what} takes true or false, got ${describe(value)}`)
      return value
    case 'int':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw badValue(`${what} takes a whole number, got ${describe(value)}`)
      return value
    case 'string':
    case 'duration':
      if (typeof value !== 'string') throw badValue(`${what} takes text${flag.type === 'duration' ? ' such as "5m0s"' : ''}, got ${describe(value)}: quote it in YAML`)
      return checkText(value, what)
    case 'list': {
      const items = typeof value === 'string' ? [value] : value
      if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) {
        throw badValue(`${what} takes text or a list of text, got ${describe(value)}`)
      }
      if (items.length > LIST_ENTRIES_MAX) throw badValue(`${what} has ${items.length} entries, over the limit of ${LIST_ENTRIES_MAX}`)
      const checked = items.map((item) => checkText(item, what))
      if (flag.name === 'node-label') checkLabels(checked, what)
      return checked
    }
  }
}

function checkText (text: string, what: string): string {
  if (text.length === 0) throw badValue(`${what} holds an empty value: remove it or give a value`)
  if (text.length > VALUE_CHARS_MAX) throw badValue(`${what} holds ${text.length} characters, over the limit of ${VALUE_CHARS_MAX}`)
  if (CONTROL_CHARACTERS.test(text)) throw badValue(`${what} holds a control character (a newline or tab?): give the value on one line`)
  return text
}

function checkLabels (labels: readonly string[], what: string): void {
  for (const label of labels) {
    const key = label.split('=')[0] ?? ''
    if (OWN_LABEL_KEYS.includes(key)) {
      throw new RenderError('K3S_RESERVED_KEY', `${what} sets the label ${key}, which p2p-bootstrap writes from the committed plan: remove that label`)
    }
  }
}

function badValue (message: string): RenderError {
  return new RenderError('K3S_BAD_VALUE', message)
}

function prefix (origin: BlockOrigin): string {
  return origin.where === '' ? '' : `${origin.where}: `
}

/** The kind of a value, never the value itself: a misplaced secret must not reach a log. */
function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return 'text'
  if (typeof value === 'number') return 'a number'
  if (typeof value === 'boolean') return 'true/false'
  if (typeof value === 'object') return 'a mapping'
  return typeof value
}

export function compareText (left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}

/**
 * Checks a block of extra keys as `renderNode` will, so a caller can refuse a bad config when it
 * starts rather than when a plan arrives: `clusterWide` blocks may set critical keys.
 */
export function checkK3sBlock (block: Readonly<Record<string, unknown>> | undefined, clusterWide: boolean, source: string): void {
  checkUserBlock(block, { source, clusterWide, where: '' })
}
