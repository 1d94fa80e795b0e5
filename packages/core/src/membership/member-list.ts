import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import { MEMBERS_MAX } from './limits.js'
import type { MemberState, MemberUpdate } from './messages.js'

/**
 * The member table and SWIM's precedence rule. Versions are ordered by (incarnation, state rank)
 * with alive < suspect < dead < left at one incarnation, and a record only moves up: applying
 * updates is a join on that order, so every node that saw the same updates holds the same table,
 * whatever the order they arrived in.
 */

const STATE_RANK: Readonly<Record<MemberState, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 }

export interface MemberVersion {
  readonly state: MemberState
  readonly incarnation: number
}

/** True if `update` is strictly newer than `current` (or `current` is unknown). */
export function supersedes (update: MemberVersion, current: MemberVersion | undefined): boolean {
  if (current === undefined) return true
  if (update.incarnation !== current.incarnation) return update.incarnation > current.incarnation
  return STATE_RANK[update.state] > STATE_RANK[current.state]
}

/** A state that still counts as a member in `live()`. */
export function isLiveState (state: MemberState): boolean {
  return state === 'alive' || state === 'suspect'
}

export interface MemberRecord {
  readonly nodeId: NodeId
  state: MemberState
  incarnation: number
  /** Tied to an incarnation: a node changes its meta by raising its incarnation. */
  meta: Uint8Array | undefined
  /** Last direct message from this member; null if we never heard from it ourselves. */
  lastSeenMs: number | null
  /** When `state` last changed: starts the suspicion timer and the dead-retention clock. */
  stateChangedMs: number
  /**
   * False while we only know the id from `addPeer` (discovery, ledger): our suspicion of such a
   * member stays local, so a stale address does not make the whole cluster chase a ghost.
   */
  heard: boolean
}

/** What changed when an update was applied: `previous` is null for a member new to the table. */
export interface Transition {
  readonly nodeId: NodeId
  readonly previous: MemberState | null
  readonly current: MemberState
}

export class MemberList {
  private readonly records = new Map<NodeId, MemberRecord>()
  private liveCount = 0
  /**
   * Bumped on every change to any record (state, incarnation, meta, lastSeenMs, heard, the set of
   * ids): a reader that cached something derived from the table knows when to derive it again.
   */
  private changes = 0
  /** Bumped when the set of live ids changes (a join, a death, a return): `live()` re-sorts only then. */
  private liveChanges = 0
  /** Bumped when any member's meta changes: readers that judge members by their meta re-judge then. */
  private metaChanges = 0

  get size (): number {
    return this.records.size
  }

  /** Live members, self excluded. */
  get liveMembers (): number {
    return this.liveCount
  }

  /** Changes to the table so far; equal counts mean an unchanged table. */
  get version (): number {
    return this.changes
  }

  /** Changes to the set of live ids so far. */
  get liveVersion (): number {
    return this.liveChanges
  }

  /** Changes to any member's meta so far. */
  get metaVersion (): number {
    return this.metaChanges
  }

  get (nodeId: NodeId): MemberRecord | undefined {
    return this.records.get(nodeId)
  }

  all (): IterableIterator<MemberRecord> {
    return this.records.values()
  }

  /** Ids in the given states, in table order. */
  idsIn (states: ReadonlySet<MemberState>): NodeId[] {
    const out: NodeId[] = []
    for (const record of this.records.values()) if (states.has(record.state)) out.push(record.nodeId)
    return out
  }

  /**
   * Applies `update` if it supersedes what we hold; returns the state change, or null when it
   * is old news (or the table is full). An equal version may still fill in missing meta.
   */
  apply (update: MemberUpdate, nowMs: number, heard: boolean): Transition | null {
    const current = this.records.get(update.nodeId)
    if (current === undefined) {
      if (this.records.size >= MEMBERS_MAX) return null
      this.records.set(update.nodeId, {
        nodeId: update.nodeId,
        state: update.state,
        incarnation: update.incarnation,
        meta: update.meta,
        lastSeenMs: null,
        stateChangedMs: nowMs,
        heard
      })
      this.changes++
      if (update.meta !== undefined) this.metaChanges++
      this.track(null, update.state)
      return { nodeId: update.nodeId, previous: null, current: update.state }
    }
    if (heard && !current.heard) {
      current.heard = true
      this.changes++
    }
    if (!supersedes(update, current)) {
      if (update.incarnation === current.incarnation && current.meta === undefined && update.meta !== undefined) {
        current.meta = update.meta
        this.changes++
        this.metaChanges++
      }
      return null
    }
    this.changes++
    const previous = current.state
    const metaBefore = current.meta
    if (update.incarnation > current.incarnation) current.meta = update.meta
    else current.meta ??= update.meta
    if (current.meta !== metaBefore) this.metaChanges++
    current.incarnation = update.incarnation
    current.state = update.state
    if (previous !== update.state) current.stateChangedMs = nowMs
    this.track(previous, update.state)
    return { nodeId: update.nodeId, previous, current: update.state }
  }

  /** Records a direct message from a known member. */
  markSeen (nodeId: NodeId, nowMs: number): void {
    const record = this.records.get(nodeId)
    assert(record !== undefined, 'a member is in the table before it is marked seen')
    record.lastSeenMs = nowMs
    record.heard = true
    this.changes++
  }

  /** Forgets dead and left members older than the retention; returns how many were forgotten. */
  forgetBefore (cutoffMs: number): number {
    let forgotten = 0
    for (const record of this.records.values()) {
      if (isLiveState(record.state) || record.stateChangedMs > cutoffMs) continue
      this.records.delete(record.nodeId)
      forgotten++
    }
    if (forgotten > 0) this.changes++
    return forgotten
  }

  private track (previous: MemberState | null, current: MemberState): void {
    const wasLive = previous !== null && isLiveState(previous)
    if (wasLive) this.liveCount--
    if (isLiveState(current)) this.liveCount++
    if (wasLive !== isLiveState(current)) this.liveChanges++
    assert(this.liveCount >= 0 && this.liveCount <= this.records.size, 'live count stays within the table')
  }
}
