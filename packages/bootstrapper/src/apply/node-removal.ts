import { SERVER_READY_KEY_NAME } from '@p2p-bootstrap/core'
import type { NodeId, Plan } from '@p2p-bootstrap/core'

/**
 * Who deletes a gone node from Kubernetes, and when it is done. k3s drops a server's etcd member
 * when its Node object is deleted; until then the member counts toward etcd's quorum though
 * nothing answers for it. The facts live in the ledger under `node/<id>/…`:
 *
 * - `k3s-server`: written by a control plane once its k3s API was Ready (the value is the epoch).
 *   It never goes away, so it tells apart a server that runs from one that was only promoted.
 * - `k3s-stopped`: written by a node that left (retired) once its k3s service is stopped.
 * - `removed-<node id>`: written by the server that deleted that node from Kubernetes.
 */
export const SERVER_READY_ENTRY_NAME = SERVER_READY_KEY_NAME
export const STOPPED_ENTRY_NAME = 'k3s-stopped'
export const REMOVED_ENTRY_PREFIX = 'removed-'

export function removedEntryName (nodeId: NodeId): string {
  return `${REMOVED_ENTRY_PREFIX}${nodeId}`
}

/** What the removal decisions read from the ledger. */
export interface RemovalView {
  readonly lookup: (key: string) => Uint8Array | undefined
  /** True while the member is alive (or suspect) in this node's view; the caller itself is alive. */
  readonly alive: (nodeId: NodeId) => boolean
}

/**
 * Nodes of `plan` that must leave Kubernetes and have not yet: servers replaced while dead, and
 * retired nodes once they said their k3s is stopped (deleting a Node whose kubelet still runs only
 * makes it register again). A dead worker that was not replaced stays: it may come back.
 */
export function pendingRemovals (plan: Plan, view: RemovalView): NodeId[] {
  const stopped = (plan.retired ?? []).filter(id => view.lookup(entryKey(id, STOPPED_ENTRY_NAME)) !== undefined)
  const gone = [...new Set([...(plan.replaced ?? []), ...stopped])]
  // Whoever deleted a node was a control plane then; it is still in one of the plan's lists.
  const writers = [...new Set([...plan.controlPlanes, ...plan.workers, ...(plan.replaced ?? []), ...(plan.retired ?? [])])]
  return gone.filter(id => !writers.some(writer => view.lookup(entryKey(writer, removedEntryName(id))) !== undefined)).sort()
}

/**
 * The pending removals a new server waits for: the gone servers among them (replaced ones, and
 * retired ones that ran a server). Their etcd members still count; a worker's Node does not.
 */
export function serverRemovalsPending (plan: Plan, view: RemovalView): NodeId[] {
  const replaced = new Set(plan.replaced ?? [])
  return pendingRemovals(plan, view).filter(id => replaced.has(id) || view.lookup(entryKey(id, SERVER_READY_ENTRY_NAME)) !== undefined)
}

/**
 * The one server that deletes gone nodes: the lowest live control plane of the plan whose k3s has
 * been Ready as a server. Every node with the same view picks the same one; a server that was only
 * just promoted (not Ready yet) never blocks the choice, and a deleter that dies is replaced by
 * the next one as soon as it is seen dead. Deleting twice is harmless (`--ignore-not-found`).
 */
export function chooseRemover (plan: Plan, view: RemovalView): NodeId | undefined {
  return plan.controlPlanes
    .filter(id => view.lookup(entryKey(id, SERVER_READY_ENTRY_NAME)) !== undefined && view.alive(id))
    .sort()[0]
}

/**
 * Servers that `plan` retired and that still run k3s: they were Ready as servers, have not said
 * they stopped, and are alive. A successor with nobody Ready before it joins through one of them.
 */
export function retiringServers (plan: Plan, view: RemovalView): NodeId[] {
  return (plan.retired ?? []).filter(id =>
    view.lookup(entryKey(id, SERVER_READY_ENTRY_NAME)) !== undefined &&
    view.lookup(entryKey(id, STOPPED_ENTRY_NAME)) === undefined &&
    view.alive(id)).sort()
}

function entryKey (nodeId: NodeId, name: string): string {
  return `node/${nodeId}/${name}`
}
