import { isDeepStrictEqual } from 'node:util'
import { z } from 'zod'
import { ConfigError } from './errors.js'
import { kairosDocumentSchema, kairosSettings } from './kairos.js'
import { kairosWarnings } from './kairos-warnings.js'
import type { Fail } from './kairos.js'
import { CONFIG_FILE_BYTES_MAX } from './limits.js'
import { nativeDocumentSchema, nativeSettings } from './native.js'
import { definedOnly } from './records.js'
import { describeValue } from './rules.js'
import { formatPath, setting, SETTING_NAMES } from './settings.js'
import type { Settings } from './settings.js'
import { closestKey, folded } from './suggest.js'
import type { FileConfig } from './types.js'
import { readYaml } from './yaml-source.js'
import type { KeyPath, YamlSource } from './yaml-source.js'

/**
 * Reads the text of a config file, native or Kairos spelling (see native.ts and kairos.ts), into
 * one `FileConfig`. Pure: no file system. Every error names `source`, the line, the key path and
 * the fix. An empty document is a config that sets nothing.
 */
export function parseConfigText (text: string, source: string): FileConfig {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > CONFIG_FILE_BYTES_MAX) throw oversizedError(source)
  const yaml = readYaml(text, source)
  const fail: Fail = (path, message) => new ConfigError('CLI_CONFIG', `config ${source} line ${yaml.lineOf(path)}: ${formatPath(path)} ${message}`)
  const { data } = yaml
  if (data === null || data === undefined) return { source }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError('CLI_CONFIG', `config ${source} line ${yaml.lineOf([])}: must be a mapping of settings (key: value) at the top level, got ${describeValue(data)}`)
  }
  if (Object.hasOwn(data, 'p2p')) return readKairos(data, source, yaml, fail)
  const parsed = nativeDocumentSchema.safeParse(data)
  if (!parsed.success) {
    const hint = /^\s*#cloud-config/.test(text) ? ' (this looks like a Kairos cloud-config: p2p-bootstrap reads one only when it has a p2p: block)' : ''
    throw firstProblem(parsed.error.issues, nativeDocumentSchema, yaml, fail, hint)
  }
  return fileConfigOf({ ...nativeSettings(parsed.data), k3sExtra: setting(parsed.data.k3s, ['k3s']) }, source)
}

export function oversizedError (source: string): ConfigError {
  return new ConfigError('CLI_CONFIG', `config ${source} is larger than ${CONFIG_FILE_BYTES_MAX} bytes (${CONFIG_FILE_BYTES_MAX / (1024 * 1024)} MiB): is it the right file? A config file is a few kilobytes`)
}

function readKairos (data: object, source: string, yaml: YamlSource, fail: Fail): FileConfig {
  const parsed = kairosDocumentSchema.safeParse(data)
  if (!parsed.success) throw firstProblem(parsed.error.issues, kairosDocumentSchema, yaml, fail, '')
  const native = nativeSettings(parsed.data)
  const kairos = kairosSettings(parsed.data, fail)
  const found: Array<{ line: number, text: string }> = []
  kairosWarnings(parsed.data, (path, message) => {
    const line = yaml.lineOf(path)
    found.push({ line, text: `config ${source} line ${line}: ${formatPath(path)} ${message}` })
  })
  // In file order, like the errors (stable: keys on one line keep the order they were found in).
  const warnings = found.sort((a, b) => a.line - b.line).map(warning => warning.text)
  if (kairos.vipOff !== undefined && native.vip !== undefined) {
    throw fail(native.vip.path, `is set but ${formatPath(kairos.vipOff)} (line ${yaml.lineOf(kairos.vipOff)}) is false, which turns the VIP off: remove one of them`)
  }
  const file = fileConfigOf(mergeSpellings(native, kairos.settings, yaml, fail), source)
  return warnings.length === 0 ? file : { ...file, warnings }
}

/** A file may use both spellings only where they agree; a conflict names both keys. */
function mergeSpellings (native: Settings, kairos: Settings, yaml: YamlSource, fail: Fail): Settings {
  const merged: Settings = {}
  const mergeOne = <K extends keyof Settings>(name: K): void => {
    const ours = native[name]
    const theirs = kairos[name]
    if (ours !== undefined && theirs !== undefined && !isDeepStrictEqual(ours.value, theirs.value)) {
      // Never print a token: say only that the two differ.
      const values = name === 'token' ? '' : ` (${describeValue(ours.value)} and ${describeValue(theirs.value)})`
      throw fail(ours.path, `conflicts with ${formatPath(theirs.path)} (line ${yaml.lineOf(theirs.path)}): they give different values${values}; keep one of them`)
    }
    merged[name] = ours ?? theirs
  }
  for (const name of SETTING_NAMES) mergeOne(name)
  return merged
}

type Issue = z.ZodError['issues'][number]

/** The problem written first in the file, as a positioned error. */
function firstProblem (issues: readonly Issue[], schema: z.ZodType, yaml: YamlSource, fail: Fail, hint: string): ConfigError {
  let first: { line: number, path: KeyPath, message: string } | undefined
  for (const issue of issues) {
    for (const { path, message } of describeIssue(issue, schema, yaml)) {
      const line = yaml.lineOf(path)
      if (first === undefined || line < first.line) first = { line, path, message }
    }
  }
  if (first === undefined) return fail([], `is not a valid config${hint}`)
  return fail(first.path, first.message + hint)
}

function describeIssue (issue: Issue, schema: z.ZodType, yaml: YamlSource): { path: KeyPath, message: string }[] {
  const path: KeyPath = issue.path.filter((segment) => typeof segment !== 'symbol')
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, path, schema) }))
  }
  if (issue.code === 'invalid_type') {
    return [{ path, message: `must be ${expectedWords(issue.expected)}, got ${describeValue(valueAt(yaml.data, path))}` }]
  }
  return [{ path, message: issue.message }]
}

function unknownKeyMessage (key: string, parent: KeyPath, schema: z.ZodType): string {
  const known = knownKeysAt(schema, parent)
  const suggestion = suggestedPath(key, parent, known, schema)
  if (suggestion !== undefined) return `is not a known key: did you mean ${formatPath(suggestion)}?`
  return `is not a known key: the keys here are ${known.join(', ')}`
}

/**
 * A close key beside the unknown one, else a key of another section that it names (`vip:` at the
 * top for `cluster.vip`, `node-ip:` for `node.ip`, as the flags spell them).
 */
function suggestedPath (key: string, parent: KeyPath, known: readonly string[], schema: z.ZodType): KeyPath | undefined {
  const wanted = folded(key)
  const same = known.find((candidate) => folded(candidate) === wanted)
  if (same !== undefined) return [...parent, same]
  const elsewhere = allKeyPaths(schema, []).find((path) => {
    const last = String(path[path.length - 1])
    const section = path.length >= 2 ? String(path[path.length - 2]) : ''
    return folded(last) === wanted || folded(section + last) === wanted
  })
  if (elsewhere !== undefined) return elsewhere
  const near = closestKey(key, known)
  return near === undefined ? undefined : [...parent, near]
}

/** Every key path an object schema knows, sections before their keys. */
function allKeyPaths (schema: z.ZodType, prefix: KeyPath): KeyPath[] {
  return knownKeysAt(schema, prefix).flatMap((key) => [[...prefix, key], ...allKeyPaths(schema, [...prefix, key])])
}

function expectedWords (expected: string): string {
  if (expected === 'object' || expected === 'record') return 'a mapping (key: value)'
  if (expected === 'array') return 'a list'
  return expected
}

/** The keys an object schema knows at `path` (through optional and nullable wrappers). */
function knownKeysAt (schema: z.ZodType, path: KeyPath): string[] {
  let current: unknown = schema
  for (let index = 0; ; index++) {
    while (current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current.unwrap()
    if (!(current instanceof z.ZodObject)) return []
    const shape: Readonly<Record<string, unknown>> = current.shape
    const segment = path[index]
    if (segment === undefined) return Object.keys(shape)
    current = shape[String(segment)]
  }
}

function valueAt (data: unknown, path: KeyPath): unknown {
  let current = data
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string | number, unknown>)[segment]
  }
  return current
}

function fileConfigOf (settings: Settings, source: string): FileConfig {
  const shape = definedOnly({
    expect: settings.expect?.value,
    controlPlanes: settings.controlPlanes?.value,
    vip: settings.vip?.value,
    name: settings.name?.value
  })
  const node = definedOnly({
    nodeIp: settings.nodeIp?.value,
    interface: settings.interface?.value,
    role: settings.role?.value,
    hostname: settings.hostname?.value,
    labels: settings.labels?.value
  })
  const k3s = definedOnly({
    extra: settings.k3sExtra?.value,
    kairosArgs: definedOnly({ server: settings.kairosServerArgs?.value, agent: settings.kairosAgentArgs?.value }),
    kubeVip: definedOnly({ image: settings.kubeVipImage?.value, interface: settings.kubeVipInterface?.value }),
    subnet: settings.subnet?.value
  })
  const seconds = settings.commandTimeoutSeconds?.value
  const failoverSeconds = settings.failoverDelaySeconds?.value
  const apply = definedOnly({
    startCommand: settings.startCommand?.value,
    restartCommand: settings.restartCommand?.value,
    stopCommand: settings.stopCommand?.value,
    cleanReplacedServer: settings.cleanReplacedServer?.value,
    readyCommand: settings.readyCommand?.value,
    onReadyCommand: settings.onReadyCommand?.value,
    commandTimeoutMs: seconds === undefined ? undefined : seconds * 1000
  })
  return definedOnly({
    source,
    token: settings.token?.value,
    stateDir: settings.stateDir?.value,
    root: settings.root?.value,
    profile: settings.profile?.value,
    failoverDelayMs: failoverSeconds === undefined ? undefined : failoverSeconds * 1000,
    listen: settings.listen?.value,
    peers: settings.peers?.value,
    mdns: settings.mdns?.value,
    dht: settings.dht?.value,
    shape,
    node,
    k3s,
    apply,
    adminKeys: settings.adminKeys?.value,
    observe: settings.metricsListen === undefined ? undefined : { listen: settings.metricsListen.value }
  }) ?? { source }
}
