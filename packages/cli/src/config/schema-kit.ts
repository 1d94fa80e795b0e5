import { z } from 'zod'
import { ADDRESS_LIST_ENTRIES_MAX, LABELS_MAX } from './limits.js'
import { describeFor, describeValue, labelKeyRule, labelValueRule, problem } from './rules.js'
import type { Rule } from './rules.js'

/**
 * zod building blocks for the config file. Each leaf reports one sentence, "must be <wants>,
 * got <value>", whether the value had the wrong type or a wrong value, so a file and a flag get
 * the same words; the reader adds the file, line and key path in front.
 */

/** A leaf that reads a value of the right type with `read`, then checks it against `rule`. */
function leaf<T> (rule: Rule<T>, read: (value: unknown) => T | undefined): z.ZodType<T, unknown> {
  return z.unknown().transform((value, context) => {
    const typed = read(value)
    if (typed !== undefined && rule.accepts(typed)) return typed
    context.addIssue({ code: 'custom', message: problem(rule, describeFor(rule, value)) })
    return z.NEVER
  })
}

export function text (rule: Rule<string>): z.ZodType<string, unknown> {
  return leaf(rule, (value) => typeof value === 'string' ? value : undefined)
}

/** Text from a fixed set, narrowed to that set's type. */
export function choice<C extends string> (rule: Rule<string> & { readonly is: (value: string) => value is C }): z.ZodType<C, unknown> {
  return leaf<C>(rule, (value) => typeof value === 'string' && rule.is(value) ? value : undefined)
}

export function wholeNumber (rule: Rule<number>): z.ZodType<number, unknown> {
  return leaf(rule, (value) => typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined)
}

const flagRule: Rule<boolean> = { wants: 'true or false', accepts: () => true }

export function flag (): z.ZodType<boolean, unknown> {
  return leaf(flagRule, (value) => typeof value === 'boolean' ? value : undefined)
}

// Kairos reads its config with Go's yaml.v3, which decodes YAML 1.1 words into a bool field.
const goYamlBooleans: Readonly<Record<string, boolean>> = {
  yes: true, on: true, true: true, y: true, no: false, off: false, false: false, n: false
}

/** A Kairos boolean: true/false, or the YAML 1.1 words Kairos also takes (yes, no, on, off). */
export function kairosFlag (): z.ZodType<boolean, unknown> {
  return leaf(flagRule, (value) => {
    if (typeof value === 'boolean') return value
    return typeof value === 'string' ? goYamlBooleans[value.toLowerCase()] : undefined
  })
}

/** A list of text entries, each checked against `rule`. */
export function list (rule: Rule<string>): z.ZodType<string[], unknown> {
  return z.array(text(rule)).max(ADDRESS_LIST_ENTRIES_MAX, `must have at most ${ADDRESS_LIST_ENTRIES_MAX} entries`)
}

/** A mapping kept as written, for settings read later by someone else. */
export function opaqueMapping (): z.ZodType<Record<string, unknown>, unknown> {
  return z.record(z.string(), z.unknown())
}

/** Kubernetes labels: a mapping of label keys to text values, each checked. */
export function labels (): z.ZodType<Record<string, string>, unknown> {
  return z.record(z.string(), z.unknown()).transform((mapping, context) => {
    const entries = Object.entries(mapping)
    if (entries.length > LABELS_MAX) {
      context.addIssue({ code: 'custom', message: `must have at most ${LABELS_MAX} labels, got ${entries.length}` })
      return z.NEVER
    }
    const checked: Record<string, string> = {}
    for (const [key, value] of entries) {
      if (!labelKeyRule.accepts(key)) {
        context.addIssue({ code: 'custom', path: [key], message: `is a bad label key: it ${problem(labelKeyRule, describeValue(key))}` })
      } else if (typeof value !== 'string' || !labelValueRule.accepts(value)) {
        const hint = typeof value === 'number' || typeof value === 'boolean' ? ` (quote it: "${String(value)}")` : ''
        context.addIssue({ code: 'custom', path: [key], message: problem(labelValueRule, describeValue(value)) + hint })
      } else {
        checked[key] = value
      }
    }
    return checked
  })
}
