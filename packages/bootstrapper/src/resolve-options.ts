import { hostname as osHostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'
import { z } from 'zod'
import {
  CONTROL_PLANES_ALLOWED, EXPECT_MAX, NAME_CHARS_MAX, P2pBootstrapError, deriveKeys, parseToken, profileByName,
  validateProfile
} from '@p2p-bootstrap/core'
import type { ClusterShape, DerivedKeys, NetworkToken, Role, TimingProfile } from '@p2p-bootstrap/core'
import { overlayTuningProblem } from '@p2p-bootstrap/overlay'
import type { OverlayProfile } from '@p2p-bootstrap/overlay'
import type { ApplyOptions, NodeOutput } from './apply/apply-options.js'
import { k3sBlocksOf } from './apply/k3s-blocks.js'
import type { K3sBlocks } from './apply/k3s-blocks.js'
import { BootstrapperError } from './errors.js'
import { parseAdminPublicKey } from './kubeconfig/admin-key.js'
import { ADMIN_KEYS_MAX } from './kubeconfig/limits.js'
import { KubeconfigError } from './kubeconfig/errors.js'
import { OBSERVE_LISTEN_WANTS, parseObserveListen } from './observe/listen-address.js'
import type { ObserveListen } from './observe/listen-address.js'
import type { BootstrapperOptions, ProfileName } from './options.js'

export const DEFAULT_STATE_DIR = '/var/lib/p2p-bootstrap'
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4001']
const LIST_MAX = 64
const LABEL_CHARS_MAX = 253

/** Every option after validation, defaults filled in, the shape reconciled with the token. */
export interface ResolvedOptions {
  readonly token: NetworkToken
  readonly keys: DerivedKeys
  readonly shape: ClusterShape
  readonly stateDir: string
  readonly root: string
  readonly listen: readonly string[]
  readonly peers: readonly string[]
  readonly mdns: boolean
  readonly dht: boolean
  readonly profileName: ProfileName
  /** The named profile's timings, with `failoverDelayMs` and `tuning.core` over them. */
  readonly coreProfile: TimingProfile
  /** `tuning.overlay`, checked field by field; the overlay applies it over its profile and limits. */
  readonly overlayTuning: Readonly<Partial<OverlayProfile>>
  readonly node: {
    readonly nodeIp?: string
    readonly interface?: string
    readonly labels: Readonly<Record<string, string>>
    readonly role?: Role
    readonly hostname: string
  }
  readonly k3s: K3sBlocks
  /** The node's subnet from the options, if given (else read from the host when needed). */
  readonly subnet?: string
  readonly apply: ApplyOptions
  readonly adminKeys: readonly string[]
  readonly dryRun: boolean
  readonly statusSocket: boolean
  /** Where the metrics and status page listener binds; absent when it is off. */
  readonly observe?: ObserveListen
}

const ipAddress = z.string().refine(value => isIP(value) !== 0, 'must be an IPv4 or IPv6 address')

/** A command as argv: no shell, so arguments from a config file need no quoting. */
const commandLine = z.array(z.string().min(1, 'must not hold an empty argument').max(4096)).min(1, 'must name a program').max(64)

const optionsSchema = z.strictObject({
  token: z.union([z.string().min(1, 'must not be empty'), z.object({ version: z.literal(1) }).loose()]),
  stateDir: z.string().min(1).optional(),
  root: z.string().min(1).optional(),
  listen: z.array(z.string()).min(1, 'must hold at least one multiaddr').max(LIST_MAX).optional(),
  peers: z.array(z.string()).max(LIST_MAX).optional(),
  mdns: z.boolean().optional(),
  dht: z.boolean().optional(),
  shape: z.strictObject({
    expect: z.number().int().min(1).max(EXPECT_MAX).optional(),
    controlPlanes: z.number().int().refine(value => CONTROL_PLANES_ALLOWED.includes(value), `must be one of ${CONTROL_PLANES_ALLOWED.join(', ')}`).optional(),
    vip: ipAddress.optional(),
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a lower-case DNS label').max(NAME_CHARS_MAX).optional()
  }).optional(),
  node: z.strictObject({
    nodeIp: ipAddress.optional(),
    interface: z.string().min(1).max(15).optional(),
    labels: z.record(z.string().min(1).max(LABEL_CHARS_MAX), z.string().max(LABEL_CHARS_MAX)).optional(),
    role: z.enum(['control-plane', 'worker']).optional(),
    hostname: z.string().min(1).max(253).optional()
  }).optional(),
  profile: z.enum(['lan', 'wan', 'test']).optional(),
  failoverDelayMs: z.number().int().min(1_000, 'must be at least 1000 (1 s): a shorter delay replaces servers on a lost packet').max(7 * 24 * 3600_000, 'must be at most a week').optional(),
  k3s: z.strictObject({
    extra: z.record(z.string(), z.unknown()).optional(),
    kairosArgs: z.strictObject({
      server: z.array(z.string()).max(LIST_MAX).optional(),
      agent: z.array(z.string()).max(LIST_MAX).optional()
    }).optional(),
    kubeVip: z.strictObject({ image: z.string().min(1).max(512).optional(), interface: z.string().min(1).max(15).optional() }).optional(),
    subnet: z.string().min(1).max(100).optional()
  }).optional(),
  apply: z.strictObject({
    onOutput: z.custom<(output: NodeOutput, options: { signal: AbortSignal }) => Promise<void> | void>(value => typeof value === 'function', 'must be a function').optional(),
    startCommand: commandLine.optional(),
    restartCommand: commandLine.optional(),
    stopCommand: commandLine.optional(),
    cleanReplacedServer: z.boolean().optional(),
    acceptLocalNodeIp: z.boolean().optional(),
    bootGate: z.boolean().optional(),
    etcdctl: z.union([commandLine, z.literal(false)]).optional(),
    readyCommand: z.union([commandLine, z.literal(false)]).optional(),
    onReadyCommand: commandLine.optional(),
    commandTimeoutMs: z.number().int().min(1_000).max(3_600_000).optional()
  }).optional(),
  adminKeys: z.array(z.string().min(1).max(4096)).max(ADMIN_KEYS_MAX).optional(),
  dryRun: z.boolean().optional(),
  statusSocket: z.boolean().optional(),
  observe: z.strictObject({
    listen: z.string().refine(value => parseObserveListen(value) !== null, `must be ${OBSERVE_LISTEN_WANTS}`)
  }).optional(),
  // Checked by tuningOf, whose messages name the field and the fix.
  tuning: z.unknown().optional(),
  clock: z.strictObject({
    monotonicMs: z.custom<() => number>(value => typeof value === 'function', 'must be a function'),
    wallMs: z.custom<() => number>(value => typeof value === 'function', 'must be a function')
  }).optional()
})

/** The first issue zod found, as "option shape.controlPlanes: must be one of 1, 3, 5, 7". */
function firstIssue (error: z.ZodError): BootstrapperError {
  const issue = error.issues[0]
  const path = issue?.path.map(String).join('.') ?? ''
  const where = path === '' ? 'options' : `option ${path}`
  return new BootstrapperError('BOOTSTRAP_BAD_OPTION', `${where}: ${issue?.message ?? 'is invalid'}`)
}

/** One shape field from the token or the options; both given and different is refused. */
function reconcile<T> (field: string, fromToken: T | undefined, fromOptions: T | undefined): T | undefined {
  if (fromToken !== undefined && fromOptions !== undefined && fromToken !== fromOptions) {
    throw new BootstrapperError('BOOTSTRAP_SHAPE_CONFLICT',
      `the token says ${field} = ${String(fromToken)} but the options say ${String(fromOptions)}: ` +
      'every node must hold the same shape, so remove the option (the token already carries it) or issue a new token')
  }
  return fromToken ?? fromOptions
}

/** An IPv4 the host has on `interfaceName` (or on any interface), not loopback. */
function hostAddress (interfaceName: string | undefined): string | undefined {
  const interfaces = networkInterfaces()
  const names = interfaceName === undefined ? Object.keys(interfaces).sort() : [interfaceName]
  for (const name of names) {
    for (const address of interfaces[name] ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address
    }
  }
  return undefined
}

/** The IP of a listen multiaddr bound to one address (`/ip4/127.0.0.3/tcp/…`), not a wildcard. */
function specificListenIp (listen: readonly string[]): string | undefined {
  for (const address of listen) {
    const match = /^\/ip[46]\/([^/]+)\//.exec(address)
    const ip = match?.[1]
    if (ip !== undefined && ip !== '0.0.0.0' && ip !== '::') return ip
  }
  return undefined
}

/** Validates options once, before anything starts; errors name the option and the fix. */
export function resolveOptions (options: BootstrapperOptions): ResolvedOptions {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) throw firstIssue(parsed.error)
  const token = typeof options.token === 'string' ? parseToken(options.token) : options.token
  const keys = deriveKeys(token)
  const given = options.shape ?? {}
  const expect = reconcile('expect', token.expect, given.expect)
  const vip = reconcile('vip', token.vip, given.vip)
  const name = reconcile('name', token.name, given.name)
  const controlPlanes = reconcile('controlPlanes', token.controlPlanes, given.controlPlanes) ?? 1
  const shape: ClusterShape = {
    controlPlanes,
    ...(expect === undefined ? {} : { expect }),
    ...(vip === undefined ? {} : { vip }),
    ...(name === undefined ? {} : { name })
  }
  const listen = options.listen ?? DEFAULT_LISTEN
  const node = options.node ?? {}
  if (node.interface !== undefined && node.nodeIp === undefined && networkInterfaces()[node.interface] === undefined) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option node.interface: this host has no interface ${JSON.stringify(node.interface)}; use one of ${Object.keys(networkInterfaces()).join(', ')}`)
  }
  const nodeIp = node.nodeIp ?? specificListenIp(listen) ?? hostAddress(node.interface)
  if (vip !== undefined && nodeIp === vip) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option node.nodeIp: ${nodeIp} is the cluster's VIP; a node needs an address of its own (set --node-ip)`)
  }
  const profileName = options.profile ?? 'lan'
  const apply: ApplyOptions = options.apply ?? {}
  const tuning = tuningOf(options.tuning)
  return {
    token,
    keys,
    shape,
    stateDir: options.stateDir ?? DEFAULT_STATE_DIR,
    root: options.root ?? '/',
    listen,
    peers: options.peers ?? [],
    mdns: options.mdns ?? true,
    dht: options.dht ?? true,
    profileName,
    coreProfile: tunedCoreProfile({
      ...profileByName(profileName),
      ...(options.failoverDelayMs === undefined ? {} : { failoverDelayMs: options.failoverDelayMs })
    }, tuning.core),
    overlayTuning: tuning.overlay,
    node: {
      ...(nodeIp === undefined ? {} : { nodeIp }),
      ...(node.interface === undefined ? {} : { interface: node.interface }),
      labels: node.labels ?? {},
      ...(node.role === undefined ? {} : { role: node.role }),
      hostname: node.hostname ?? osHostname()
    },
    k3s: k3sBlocksOf(options.k3s, vip),
    ...(options.k3s?.subnet === undefined ? {} : { subnet: options.k3s.subnet }),
    apply,
    adminKeys: adminKeysOf(options.adminKeys ?? []),
    dryRun: options.dryRun ?? false,
    statusSocket: options.statusSocket ?? true,
    ...observeOf(options.observe)
  }
}

/** The listener's address, already checked by the schema; nothing when it is off. */
function observeOf (observe: BootstrapperOptions['observe']): { observe?: ObserveListen } {
  const listen = observe === undefined ? null : parseObserveListen(observe.listen)
  return listen === null ? {} : { observe: listen }
}

/** Each admin key checked (a private key pasted by mistake is refused without echoing it). */
function adminKeysOf (texts: readonly string[]): string[] {
  return [...new Set(texts.map((text, index) => {
    try {
      return parseAdminPublicKey(text)
    } catch (err) {
      if (err instanceof KubeconfigError) throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option adminKeys[${index}]: ${err.message}`, { cause: err })
      throw err
    }
  }))]
}

/** A plain object (not null, not an array), or an error naming `option`. */
function plainObject (option: string, value: unknown, example: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option ${option}: must be an object such as ${example}, got ${got}`)
  }
  return value as Readonly<Record<string, unknown>>
}

/** The fields of the core's timing profile that tuning may set (all but the name). */
const CORE_TUNING_FIELDS: readonly string[] = Object.keys(profileByName('lan')).filter(key => key !== 'name')

/** `tuning` checked field by field: unknown fields and non-whole numbers are refused by name. */
function tuningOf (tuning: unknown): { core: Readonly<Record<string, number>>, overlay: Readonly<Partial<OverlayProfile>> } {
  if (tuning === undefined) return { core: {}, overlay: {} }
  const given = plainObject('tuning', tuning, '{ core: { ledgerRebroadcastIntervalMs: 10000 } }')
  for (const key of Object.keys(given)) {
    if (key !== 'core' && key !== 'overlay') {
      throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option tuning.${key}: unknown; tuning takes core (the core's timing profile) and overlay (the overlay's profile)`)
    }
  }
  const core: Record<string, number> = {}
  if (given.core !== undefined) {
    for (const [key, value] of Object.entries(plainObject('tuning.core', given.core, '{ probeIntervalMs: 500 }'))) {
      if (!CORE_TUNING_FIELDS.includes(key)) {
        const fix = key === 'name' ? 'choose the profile with the profile option' : `use one of ${CORE_TUNING_FIELDS.join(', ')}`
        throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option tuning.core.${key}: not a tunable field of the core's timing profile; ${fix}`)
      }
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option tuning.core.${key}: must be a whole number of 0 or more (milliseconds, or a count), got ${JSON.stringify(value) ?? typeof value}`)
      }
      core[key] = value
    }
  }
  if (given.overlay === undefined) return { core, overlay: {} }
  const overlay = plainObject('tuning.overlay', given.overlay, '{ mdnsIntervalMaxMs: 1000 }')
  const problem = overlayTuningProblem(overlay)
  if (problem !== null) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option tuning.overlay${problem.field === '' ? '' : `.${problem.field}`}: ${problem.problem}`)
  }
  return { core, overlay: overlay as Partial<OverlayProfile> }
}

/**
 * The tuned core profile, named `custom` when anything was tuned; the core's validateProfile must
 * accept it (a probe that outlasts its period, a suspicion shorter than a probe are refused).
 */
function tunedCoreProfile (base: TimingProfile, core: Readonly<Record<string, number>>): TimingProfile {
  if (Object.keys(core).length === 0) return base
  const tuned: TimingProfile = { ...base, ...core, name: 'custom' }
  try {
    return validateProfile(tuned)
  } catch (err) {
    if (!(err instanceof P2pBootstrapError)) throw err
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION',
      `option tuning.core: over the ${base.name} profile, ${err.message.replace(/^timing profile custom: /, '')}; change the tuned values so that the rule holds`, { cause: err })
  }
}
