import { ADMIN_KEYS_MAX, ADMIN_PUBLIC_KEY_PREFIX, KubeconfigError, parseAdminPublicKey } from '@p2p-bootstrap/bootstrapper'
import { z } from 'zod'
import { COMMAND_OR_OFF_WANTS, COMMAND_WANTS, readCommand } from './command-line.js'
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

/** Whether a raw value is a Kairos "true" (true, or yes/on/true/y in any case), for keys read only to warn. */
export function isKairosTrue (value: unknown): boolean {
  if (typeof value === 'boolean') return value
  return typeof value === 'string' && goYamlBooleans[value.toLowerCase()] === true
}

/**
 * Kairos' reading of an empty text: not set. Its reference configuration writes `role: ""` and its
 * examples `network_token: ""`, and Kairos' parser treats both as absent.
 */
export function emptyIsUnset<T> (schema: z.ZodType<T, unknown>): z.ZodPreprocess<z.ZodOptional<z.ZodType<T, unknown>>, unknown> {
  return z.preprocess((value) => value === '' ? undefined : value, schema.optional())
}

/** A Kairos boolean: true/false, or the YAML 1.1 words Kairos also takes (yes, no, on, off). */
export function kairosFlag (): z.ZodType<boolean, unknown> {
  return leaf(flagRule, (value) => {
    if (typeof value === 'boolean') return value
    return typeof value === 'string' ? goYamlBooleans[value.toLowerCase()] : undefined
  })
}

/** A list of text entries, each checked against `rule`. */
export function list (rule: Rule<string>, entriesMax: number = ADDRESS_LIST_ENTRIES_MAX): z.ZodType<string[], unknown> {
  return z.array(text(rule)).max(entriesMax, `must have at most ${entriesMax} entries`)
}

/** A mapping kept as written, for settings checked by someone else (the bootstrapper). */
export function opaqueMapping (): z.ZodType<Record<string, unknown>, unknown> {
  return z.record(z.string(), z.unknown())
}

/** A command (see command-line.ts), as argv. */
export function command (): z.ZodType<string[], unknown> {
  return z.unknown().transform((value, context) => {
    const reading = readCommand(value, COMMAND_WANTS)
    if ('argv' in reading) return reading.argv
    context.addIssue({ code: 'custom', message: reading.problem, ...(reading.index === undefined ? {} : { path: [reading.index] }) })
    return z.NEVER
  })
}

/** A command, or false for "none". */
export function commandOrOff (): z.ZodType<string[] | false, unknown> {
  return z.unknown().transform((value, context) => {
    if (value === false) return false
    const reading = readCommand(value, COMMAND_OR_OFF_WANTS)
    if ('argv' in reading) return reading.argv
    context.addIssue({ code: 'custom', message: reading.problem, ...(reading.index === undefined ? {} : { path: [reading.index] }) })
    return z.NEVER
  })
}

const ADMIN_KEYS_WANTS = `a list of admin public keys (- ${ADMIN_PUBLIC_KEY_PREFIX}…, printed by p2p-bootstrap kubeconfig keygen)`

/**
 * Admin public keys, each normalised by the bootstrapper's own parser. Text is never echoed here:
 * a private key pasted by mistake must not reach a log, and the parser words that case itself.
 */
export function adminKeyList (): z.ZodType<string[], unknown> {
  return z.unknown().transform((value, context) => {
    if (!Array.isArray(value)) {
      context.addIssue({ code: 'custom', message: notAList(value) })
      return z.NEVER
    }
    if (value.length > ADMIN_KEYS_MAX) {
      context.addIssue({ code: 'custom', message: `must have at most ${ADMIN_KEYS_MAX} keys, got ${value.length}` })
      return z.NEVER
    }
    const keys: string[] = []
    for (const [index, entry] of value.entries()) {
      const reading = readAdminKey(entry)
      if ('key' in reading) keys.push(reading.key)
      else context.addIssue({ code: 'custom', path: [index], message: reading.problem })
    }
    return keys
  })
}

function readAdminKey (entry: unknown): { key: string } | { problem: string } {
  if (typeof entry !== 'string') return { problem: `must be an admin public key (${ADMIN_PUBLIC_KEY_PREFIX}…), got ${describeValue(entry)}` }
  try {
    return { key: parseAdminPublicKey(entry) }
  } catch (err) {
    if (err instanceof KubeconfigError) return { problem: `is not an admin public key: ${err.message}` }
    throw err
  }
}

function notAList (value: unknown): string {
  if (typeof value !== 'string') return `must be ${ADMIN_KEYS_WANTS}, got ${describeValue(value)}`
  const reading = readAdminKey(value)
  if ('key' in reading) return `must be ${ADMIN_KEYS_WANTS}, got one key as text: write it as a list item (- ${reading.key})`
  return `must be ${ADMIN_KEYS_WANTS}, got text that ${reading.problem}`
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
