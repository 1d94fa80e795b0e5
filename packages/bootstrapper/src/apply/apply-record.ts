import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import type { StateDir } from '../state/state-dir.js'

/** The state-dir file that remembers what this node applied, so a restart repeats nothing. */
export const APPLY_RECORD_FILE = 'k3s-applied.json'
const RECORD_BYTES_MAX = 16 * 1024

/**
 * What this node did for the latest plan epoch it applied. The join decision is kept so that a
 * restart renders the same bytes (the Ready servers or the VIP may look different by then), and
 * `started` so that k3s is never started twice for the same files. A later epoch that changes
 * nothing for this node carries the record forward; a change of role records which service runs,
 * so a promotion stops the agent and starts the server once; a retirement and the clean-up of a
 * replaced server's stale state are recorded so that they happen once.
 */
export interface ApplyRecord {
  readonly epoch: number
  readonly nodeId: string
  readonly role: 'control-plane' | 'worker'
  readonly join: { readonly kind: 'init' } | { readonly kind: 'join', readonly server: string, readonly viaVip: boolean }
  /** The CA hash the join token pinned, if any. */
  readonly caHash?: string
  /** SHA-256 over every file's path, mode and bytes. */
  readonly filesHash: string
  /** The start step ran and succeeded for these files (or there is none: dry run, installer hook). */
  readonly started: boolean
  /**
   * The k3s service this node started and has not stopped since (null: none, or nothing is ever
   * started here: a dry run, an installer hook). Starting it again (other files) is a restart;
   * starting the other one (a change of role) stops this one first.
   */
  readonly ranService: K3sService | null
  /** The on-ready command ran for this epoch. */
  readonly onReadyRan: boolean
  /** The plan epoch that retired this node (it left): its service was stopped then, once. */
  readonly retiredEpoch?: number
  /** The plan epoch at which this node, replaced while it was down, removed its stale server state. */
  readonly cleanedEpoch?: number
}

export type K3sService = 'k3s' | 'k3s-agent'

/** The service a role runs. */
export function serviceOf (role: 'control-plane' | 'worker'): K3sService {
  return role === 'control-plane' ? 'k3s' : 'k3s-agent'
}

const recordSchema = z.strictObject({
  epoch: z.number().int().positive(),
  nodeId: z.string().min(1).max(128),
  role: z.enum(['control-plane', 'worker']),
  join: z.union([
    z.strictObject({ kind: z.literal('init') }),
    z.strictObject({ kind: z.literal('join'), server: z.string().min(1).max(64), viaVip: z.boolean() })
  ]),
  caHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  filesHash: z.string().regex(/^[0-9a-f]{64}$/),
  started: z.boolean(),
  // Written by earlier versions: k3s ran with other files (read as ranService of the record's role).
  ranBefore: z.boolean().optional(),
  ranService: z.enum(['k3s', 'k3s-agent']).nullable().optional(),
  onReadyRan: z.boolean(),
  retiredEpoch: z.number().int().positive().optional(),
  cleanedEpoch: z.number().int().positive().optional()
})

/**
 * The record, or null when there is none. A damaged record is reported through `notice` and read
 * as none: the node then decides again, and at worst runs an idempotent start step once more.
 */
export async function loadApplyRecord (state: StateDir, notice: (message: string) => void): Promise<ApplyRecord | null> {
  let text: string
  try {
    text = await readFile(state.file(APPLY_RECORD_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    notice(`${APPLY_RECORD_FILE}: cannot be read (${(err as Error).message}); k3s output is decided again`)
    return null
  }
  let parsed: unknown
  try {
    if (text.length > RECORD_BYTES_MAX) throw new Error(`over ${RECORD_BYTES_MAX} bytes`)
    parsed = JSON.parse(text)
  } catch (err) {
    notice(`${APPLY_RECORD_FILE}: damaged (${(err as Error).message}); k3s output is decided again`)
    return null
  }
  const result = recordSchema.safeParse(parsed)
  if (!result.success) {
    notice(`${APPLY_RECORD_FILE}: damaged (${result.error.issues[0]?.message ?? 'invalid'}); k3s output is decided again`)
    return null
  }
  const { caHash, ranBefore, ranService, retiredEpoch, cleanedEpoch, ...rest } = result.data
  // Records of earlier versions have no ranService: they said "started" or "ran before" of the service of their role.
  const ran = ranService !== undefined ? ranService : (ranBefore === true || rest.started ? serviceOf(rest.role) : null)
  return {
    ...rest,
    ...(caHash === undefined ? {} : { caHash }),
    ranService: ran,
    ...(retiredEpoch === undefined ? {} : { retiredEpoch }),
    ...(cleanedEpoch === undefined ? {} : { cleanedEpoch })
  }
}

export async function saveApplyRecord (state: StateDir, record: ApplyRecord): Promise<void> {
  await state.writeFile(APPLY_RECORD_FILE, `${JSON.stringify(record, null, 2)}\n`, 0o600)
}
