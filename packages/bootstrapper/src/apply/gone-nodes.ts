import { roleOf } from '@p2p-bootstrap/core'
import type { NodeId, Plan } from '@p2p-bootstrap/core'
import { nodeNameFor } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { assumesEarlierSteps, baseEnv, commandTimeoutMs, dataDirOf, short } from './apply-context.js'
import type { ApplyContext } from './apply-context.js'
import type { CommandLine } from './apply-options.js'
import { etcdctlArgv, membersOfNode, parseMemberList } from './etcd-members.js'
import type { EtcdMember } from './etcd-members.js'
import { removalView } from './join-decision.js'
import { optional } from './node-output.js'
import { SERVER_READY_ENTRY_NAME, chooseRemover, pendingRemovals, removedEntryName } from './node-removal.js'
import type { RetryTimer } from './retry-timer.js'
import { describeFailure, runCommand } from './run-command.js'
import type { CommandResult } from './run-command.js'

/**
 * Gone nodes leave Kubernetes and etcd: on the one server chosen for it (node-removal.ts), each
 * replaced or retired node's Node is deleted, and for a former server its etcd member is confirmed
 * gone (etcd-members.ts); only then is the removal published, which a new server's join waits for.
 */

/** kubectl as k3s ships it on a server (it reads the admin kubeconfig k3s writes). */
export const KUBECTL: CommandLine = ['k3s', 'kubectl']

export class GoneNodes {
  private readonly ctx: ApplyContext
  private readonly retry: RetryTimer
  /**
   * Removals this agent completed since it started. Its publication goes through the driver and
   * reaches the ledger a moment later, so a reconcile in between would run the removal again.
   * Kept in memory only, on purpose: after a restart the ledger tells what is done, and a removal
   * whose publication was lost in a crash is run again (it is idempotent) rather than skipped.
   */
  private readonly removedThisRun = new Set<NodeId>()

  constructor (ctx: ApplyContext, retry: RetryTimer) {
    this.ctx = ctx
    this.retry = retry
  }

  /**
   * On the one server chosen for it (the lowest live server that has been Ready), once its own
   * k3s is Ready for this epoch (`readyEpoch`): removes each gone node, and publishes that it did.
   * Only committed plans get here, so nothing is deleted before the epoch that replaced it is committed.
   */
  async removeGone (plan: Plan, readyEpoch: number): Promise<void> {
    const { init } = this.ctx
    if (assumesEarlierSteps(init) || roleOf(plan, init.nodeId) !== 'control-plane' || readyEpoch < plan.epoch) return
    const view = removalView(init)
    const pending = pendingRemovals(plan, view)
    if (pending.length === 0 || chooseRemover(plan, view) !== init.nodeId) return
    for (const gone of pending) {
      const retry = `retrying in ${Math.round(this.retry.waitMs / 1000)} s`
      const ranServer = plan.replaced?.includes(gone) === true || init.ledger.lookup(`node/${gone}/${SERVER_READY_ENTRY_NAME}`) !== undefined
      if (!(await this.deleteNode(gone, `${short(gone)} still counts as an etcd member and no new server joins before it is gone; ${retry}`, ranServer))) {
        this.retry.schedule()
        return
      }
    }
    this.retry.reset()
  }

  /**
   * Deletes `gone` from Kubernetes and, for a former server (`checkMember`), makes sure its etcd
   * member is gone too; only then publishes that it did. A failure is reported with `consequence`.
   */
  async deleteNode (gone: NodeId, consequence: string, checkMember = false): Promise<boolean> {
    const { init } = this.ctx
    if (this.removedThisRun.has(gone)) return true
    const facts = init.ledger.factsOf(gone)
    if (facts === undefined) {
      this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot delete ${short(gone)} from Kubernetes yet: its facts (host name, hence its k3s node name) have not reached this node; ${consequence}`))
      return false
    }
    const name = nodeNameFor(gone, facts.hostname)
    // --ignore-not-found: a deletion that succeeded before a crash, or by another server, is done.
    const argv = [...KUBECTL, 'delete', 'node', name, '--ignore-not-found']
    const timeoutMs = commandTimeoutMs(init)
    const result = await runCommand(argv, { timeoutMs, signal: this.ctx.signal, env: baseEnv(init) })
    if (result.code !== 0) {
      this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, timeoutMs)}: ${consequence}`))
      return false
    }
    if (checkMember && !(await this.removeEtcdMember(gone, name, facts.nodeIp, consequence))) return false
    init.ledger.publish(removedEntryName(gone), new TextEncoder().encode(name))
    this.removedThisRun.add(gone)
    init.reports.notice(`deleted node ${name} (${short(gone)}, gone from the control plane) from Kubernetes${checkMember && init.apply.etcdctl !== false ? ', and etcd\'s member list no longer holds it' : ': k3s drops its etcd member'}`)
    return true
  }

  /**
   * True once etcd's member list holds no member of the gone server: one still there (no Node
   * named it, or k3s has not dropped it yet) is removed by its id, then the list is read again.
   */
  private async removeEtcdMember (gone: NodeId, nodeName: string, nodeIp: string | undefined, consequence: string): Promise<boolean> {
    const { init } = this.ctx
    const etcdctl = init.apply.etcdctl ?? ['etcdctl']
    if (etcdctl === false) return true
    const node = { nodeName, ...optional('nodeIp', nodeIp) }
    const listed = await this.etcdMembers(etcdctl, consequence)
    if (listed === undefined) return false
    for (const member of membersOfNode(listed, node)) {
      const argv = etcdctlArgv(etcdctl, init.root, dataDirOf(init), ['member', 'remove', member.id])
      const result = await this.runEtcdctl(argv)
      // A member k3s dropped meanwhile is "not found": the list read next is what counts.
      if (result.code !== 0 && !/member not found/i.test(result.stderr)) {
        this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, commandTimeoutMs(init))} (etcd member ${member.id} ${member.name} of ${nodeName}): ${consequence}`))
        return false
      }
      init.reports.notice(`removed etcd member ${member.id} (${member.name === '' ? 'never started' : member.name}) of ${nodeName} (${short(gone)}) by its id`)
    }
    const after = await this.etcdMembers(etcdctl, consequence)
    if (after === undefined) return false
    const left = membersOfNode(after, node)
    if (left.length === 0) return true
    this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `etcd still lists member ${left.map(member => `${member.id} (${member.name})`).join(', ')} of ${nodeName}: ${consequence}`))
    return false
  }

  private async etcdMembers (etcdctl: CommandLine, consequence: string): Promise<EtcdMember[] | undefined> {
    const { init } = this.ctx
    const argv = etcdctlArgv(etcdctl, init.root, dataDirOf(init), ['member', 'list', '-w', 'json'])
    const result = await this.runEtcdctl(argv)
    if (result.code !== 0) {
      const missing = result.spawnError?.startsWith('ENOENT') === true ? ': is etcdctl installed? k3s ships none (Debian: apt-get install etcd-client), or set apply.etcdctl' : ''
      this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, commandTimeoutMs(init))}${missing}: ${consequence}`))
      return undefined
    }
    try {
      return parseMemberList(result.stdout)
    } catch (err) {
      this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${(err as Error).message}: ${consequence}`, { cause: err }))
      return undefined
    }
  }

  private async runEtcdctl (argv: readonly string[]): Promise<CommandResult> {
    const { init } = this.ctx
    return await runCommand(argv, { timeoutMs: commandTimeoutMs(init), signal: this.ctx.signal, env: baseEnv(init) })
  }
}
