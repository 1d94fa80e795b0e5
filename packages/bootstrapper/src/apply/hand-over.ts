import type { Plan } from '@p2p-bootstrap/core'
import { nodeNameFor } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { hasReached } from '../published-status.js'
import { baseEnv, commandTimeoutMs, short } from './apply-context.js'
import type { ApplyContext } from './apply-context.js'
import { KUBECTL } from './gone-nodes.js'
import type { GoneNodes } from './gone-nodes.js'
import { removalView } from './join-decision.js'
import { removedEntryName } from './node-removal.js'
import { describeFailure, runCommand } from './run-command.js'

/**
 * A server the plan retired (it left) hands its role over before it stops: it stays an etcd
 * member, and a server to join through, until every live control plane of the plan that retired
 * it is Ready (its successor may have nobody else to join: a single server that leaves). Then it
 * drains itself while its API answers (a failure is reported, not fatal) and deletes its own Node,
 * so k3s drops its etcd member while every other member is up: stopped first, a member that still
 * counts could cost a two-member etcd its quorum. A failed deletion is reported; a Ready server
 * deletes it once it said it stopped. False while it waits.
 */
export async function handOverServer (ctx: ApplyContext, goneNodes: GoneNodes, plan: Plan): Promise<boolean> {
  const { ledger, nodeId } = ctx.init
  const view = removalView(ctx.init)
  const waiting = plan.controlPlanes.filter(id => view.alive(id) && !hasReached(ledger.statusOf(id), 'ready', plan.epoch))
  if (waiting.length > 0) {
    ctx.phase('committed', `the control planes of epoch ${plan.epoch} (${waiting.map(short).join(', ')}) to be Ready: this server left, and stays until they run`, plan)
    return false
  }
  await drainSelf(ctx, plan)
  if (ledger.lookup(`node/${nodeId}/${removedEntryName(nodeId)}`) === undefined) {
    await goneNodes.deleteNode(nodeId, 'this server stops anyway, as it left the cluster; a Ready server deletes it once it stopped')
  }
  return true
}

async function drainSelf (ctx: ApplyContext, plan: Plan): Promise<void> {
  const { init } = ctx
  const name = nodeNameFor(init.nodeId, init.ledger.factsOf(init.nodeId)?.hostname)
  const argv = [...KUBECTL, 'drain', name, '--ignore-daemonsets', '--delete-emptydir-data']
  const timeoutMs = commandTimeoutMs(init)
  ctx.phase('committed', `\`${argv.join(' ')}\` to move this server's pods away before it stops (plan epoch ${plan.epoch} retired it)`, plan)
  const result = await runCommand(argv, { timeoutMs, signal: ctx.signal, env: baseEnv(init) })
  if (result.code === 0) return
  init.reports.error(new BootstrapperError('BOOTSTRAP_APPLY_FAILED',
    `${describeFailure(argv, result, timeoutMs)}: this server's pods were not all moved away; it stops anyway, as it left the cluster`))
}
