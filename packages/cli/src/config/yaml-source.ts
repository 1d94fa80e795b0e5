import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { Document } from 'yaml'
import { ConfigError } from './errors.js'

/** A key path inside a config document: mapping keys and list indexes. */
export type KeyPath = readonly (string | number)[]

/** A parsed YAML document that still knows where each key was written. */
export interface YamlSource {
  /** What the path points at as plain data (mappings are plain objects). */
  readonly data: unknown
  /** The 1-based line of the key (or list item) at `path`, or of its nearest written ancestor. */
  readonly lineOf: (path: KeyPath) => number
}

/** Most aliases expanded while converting to plain data: stops "billion laughs" documents. */
const ALIAS_EXPANSIONS_MAX = 100

/**
 * Parses one YAML document, keeping node positions. YAML 1.2 core schema, so `5` is a number,
 * `true` a boolean and `192.168.1.50` text; duplicate keys and several documents are errors.
 */
export function readYaml (text: string, source: string): YamlSource {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true })
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line
  const syntaxError = document.errors[0]
  if (syntaxError !== undefined) {
    const firstLine = syntaxError.message.split('\n')[0] ?? syntaxError.message
    throw new ConfigError('CLI_CONFIG', `config ${source} line ${lineAt(syntaxError.pos[0])}: not valid YAML (${firstLine}): fix the syntax there`)
  }
  let data: unknown
  try {
    data = document.toJS({ maxAliasCount: ALIAS_EXPANSIONS_MAX })
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new ConfigError('CLI_CONFIG', `config ${source}: cannot be read as data (${reason}): expand its aliases by hand`, { cause: err })
  }
  return { data, lineOf: (path) => lineAt(offsetOf(document, path)) }
}

/** Where the entry at `path` starts: the key of a mapping entry, or the list item. */
function offsetOf (document: Document.Parsed, path: KeyPath): number {
  let node: unknown = document.contents
  let offset = startOf(node) ?? 0
  for (const segment of path) {
    node = resolveAlias(document, node)
    let next: unknown
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment))
      if (pair === undefined) break
      offset = startOf(pair.key) ?? offset
      next = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment]
      offset = startOf(next) ?? offset
    } else {
      break
    }
    node = next
  }
  return offset
}

function resolveAlias (document: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(document) : node
}

function startOf (node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined
}
