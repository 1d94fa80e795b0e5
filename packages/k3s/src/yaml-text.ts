import { Document } from 'yaml'

/**
 * Deterministic YAML text. Every option that shapes the bytes is passed explicitly, so output does
 * not move with a library default. YAML 1.1 rules decide the quoting because k3s and Kubernetes
 * read these files with go-yaml, which follows 1.1: text such as "0600", "on" or "6443" is quoted
 * and stays text. Shared objects are written out each time, never as anchors and aliases.
 */
const TO_STRING_OPTIONS = {
  indent: 2,
  indentSeq: true,
  lineWidth: 0, // never fold: tokens and image references stay on one line
  minContentWidth: 0,
  defaultStringType: 'PLAIN',
  defaultKeyType: null,
  directives: false
} as const

/** One YAML document; `comment` lines (without '#') go above it. */
export function yamlDocument (value: unknown, comment?: readonly string[]): string {
  const document = new Document(value, { version: '1.1', aliasDuplicateObjects: false })
  if (comment !== undefined && comment.length > 0) {
    document.commentBefore = comment.map((line) => ` ${line}`).join('\n')
  }
  return document.toString(TO_STRING_OPTIONS)
}

/** Several documents in one stream, separated by `---`. */
export function yamlStream (values: readonly unknown[], comment?: readonly string[]): string {
  return values.map((value, index) => yamlDocument(value, index === 0 ? comment : undefined)).join('---\n')
}
