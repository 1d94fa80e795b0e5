import { flagNamed, isFlagOf } from './k3s-flags.js'
import type { FlagCommand } from './k3s-flags.js'
import { RenderError } from './errors.js'
import { LIST_ENTRIES_MAX } from './limits.js'
import type { UserBlock, UserValue } from './user-keys.js'

/**
 * The keys of one config.yaml while it is assembled: ours first, then the user blocks in order
 * (cluster-wide, node-local, Kairos args). List keys gather entries from every source, ours
 * first, without repeats; a single-valued key set by two sources must agree.
 */

export interface ConfigEntry {
  readonly value: UserValue
  /** Words naming where the value came from, for conflict messages. */
  readonly source: string
}

export type ConfigEntries = Map<string, ConfigEntry>

export interface MergeContext {
  readonly command: FlagCommand
  /** "node 12D3…", for messages. */
  readonly where: string
  /** Keys of the block that something else already consumed (the cluster settings). */
  readonly consumed: ReadonlySet<string>
  /** Receives a sentence for each key skipped because the command has no such flag. */
  readonly notes: string[]
}

export function mergeBlock (entries: ConfigEntries, block: UserBlock, source: string, context: MergeContext): void {
  for (const [key, value] of block) {
    if (context.consumed.has(key)) continue
    if (!isFlagOf(key, context.command)) {
      context.notes.push(`${source} sets ${key}, which \`k3s ${context.command}\` does not take: skipped on this node`)
      continue
    }
    const deprecatedFor = flagNamed(key)?.deprecatedFor
    if (deprecatedFor !== undefined) {
      context.notes.push(`${source} sets ${key}, a deprecated alias that k3s still takes: prefer ${deprecatedFor}`)
    }
    const existing = entries.get(key)
    if (flagNamed(key)?.type === 'list') {
      const merged = [...new Set([...asList(existing?.value), ...asList(value)])]
      if (merged.length > LIST_ENTRIES_MAX) {
        throw new RenderError('K3S_BAD_VALUE', `${context.where}: ${key} gathers ${merged.length} entries from every source, over the limit of ${LIST_ENTRIES_MAX}`)
      }
      entries.set(key, { value: merged, source: existing?.source ?? source })
    } else if (existing === undefined) {
      entries.set(key, { value, source })
    } else if (existing.value !== value) {
      // The values are not quoted: a key such as etcd-s3-secret-key holds a secret.
      throw new RenderError('K3S_CONFLICTING_KEY', `${context.where}: ${key} has one value in ${existing.source} and another in ${source}: a single-valued key is set in one place, or to the same value`)
    }
  }
}

function asList (value: UserValue | undefined): readonly string[] {
  if (value === undefined) return []
  if (Array.isArray(value)) return value
  return [String(value)]
}

/** The entries as a plain object with keys in code-unit order, ready for YAML. */
export function entriesObject (entries: ConfigEntries): Record<string, UserValue> {
  const keys = [...entries.keys()].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0))
  const object: Record<string, UserValue> = {}
  for (const key of keys) {
    const entry = entries.get(key)
    if (entry !== undefined) object[key] = entry.value
  }
  return object
}
