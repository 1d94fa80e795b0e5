/**
 * `record` without its undefined fields, or undefined when nothing is left: options handed on
 * say only what was set, so a default further down is never shadowed by an explicit undefined.
 */
export function definedOnly<T extends object> (record: T): T | undefined {
  const entries = Object.entries(record).filter(([, value]) => value !== undefined)
  return entries.length === 0 ? undefined : Object.fromEntries(entries) as T
}
