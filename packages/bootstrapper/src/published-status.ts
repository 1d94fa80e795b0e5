import { z } from 'zod'
import { CodecError, decodeStrict, encodeCanonical } from '@p2p-bootstrap/core'
import type { CoreNode, NodeLedgerAccess } from '@p2p-bootstrap/core'

/** Ledger name under `node/<id>/` where each agent publishes where it is. */
export const STATUS_ENTRY_NAME = 'status'

const STATUS_BYTES_MAX = 1024

/**
 * The phases an agent goes through, in order. The first three are the core's; `applied` means this
 * node's output for the plan is written (and, with k3s, started); `ready` that it serves.
 */
export const AGENT_PHASES = ['discovering', 'voting', 'committed', 'applied', 'ready'] as const
export type AgentPhase = typeof AGENT_PHASES[number]

/** What a node tells the others about itself, in its own ledger entry. */
export interface PublishedStatus {
  readonly phase: AgentPhase
  /** The epoch of the plan the phase refers to (0 before any plan). */
  readonly epoch: number
}

const statusSchema = z.strictObject({
  phase: z.enum(AGENT_PHASES),
  epoch: z.number().int().nonnegative()
})

export function encodePublishedStatus (status: PublishedStatus): Uint8Array {
  return encodeCanonical({ phase: status.phase, epoch: status.epoch })
}

export function decodePublishedStatus (bytes: Uint8Array): PublishedStatus {
  return decodeStrict(bytes, statusSchema, { maxBytes: STATUS_BYTES_MAX, what: 'published status' })
}

/** The status a member published, or null if none or unreadable (another version, a bad peer). */
export function publishedStatusOf (node: CoreNode & NodeLedgerAccess, nodeId: string): PublishedStatus | null {
  const bytes = node.lookup(`node/${nodeId}/${STATUS_ENTRY_NAME}`)
  if (bytes === undefined) return null
  try {
    return decodePublishedStatus(bytes)
  } catch (err) {
    if (err instanceof CodecError) return null
    throw err
  }
}

/** True if `status` is at `phase` or beyond for `epoch`. */
export function hasReached (status: PublishedStatus | null, phase: AgentPhase, epoch: number): boolean {
  if (status === null) return false
  if (status.epoch !== epoch) return status.epoch > epoch
  return AGENT_PHASES.indexOf(status.phase) >= AGENT_PHASES.indexOf(phase)
}
