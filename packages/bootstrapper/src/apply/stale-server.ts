import { rm, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { initialiserOf } from '@p2p-bootstrap/core'
import type { Plan } from '@p2p-bootstrap/core'
import { BootstrapperError } from '../errors.js'
import { baseEnv, dataDirOf, startsK3s } from './apply-context.js'
import type { ApplyContext } from './apply-context.js'
import type { ApplyRecord } from './apply-record.js'
import { publishedCaHash } from './join-decision.js'
import { SERVER_READY_ENTRY_NAME } from './node-removal.js'
import type { ServiceSteps } from './service-steps.js'
import { revokeConsent } from './start-gate.js'

/**
 * A server whose k3s state is stale, and must not run as it is: one a later epoch replaced (it
 * comes back as a worker), and one whose etcd data belongs to a cluster a later epoch abandoned
 * (the init node was Ready alone and died). Its k3s is held (stopped, its consent withdrawn); the
 * data goes only with the opt-in `apply.cleanReplacedServer`, else the problem says how.
 */

/** The applier's record of this node, as these steps read and change it. */
export interface StaleServerRecords {
  get: () => ApplyRecord | null
  save: (record: ApplyRecord) => Promise<void>
  /** The stale state is gone: whatever waited on it may be retried at once. */
  cleaned: () => void
}

/** The admin kubeconfig k3s writes on a server: a worker must not keep admin credentials. */
const ADMIN_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml'

/**
 * What a server leaves on disk that a worker must not keep, as paths on the node: the whole
 * `server` folder of k3s' data dir (etcd in `server/db`, the cluster's certificates in
 * `server/tls`, tokens, credentials, manifests such as kube-vip's) and the admin kubeconfig.
 * An agent uses none of it; `agent/` (images, kubelet) stays.
 */
export function staleServerPaths (dataDir: string): string[] {
  if (!isAbsolute(dataDir) || dataDir.split('/').includes('..')) {
    throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `k3s data-dir ${JSON.stringify(dataDir)} must be an absolute path without '..' segments`)
  }
  return [`${dataDir.replace(/\/+$/, '')}/server`, ADMIN_KUBECONFIG]
}

/** True when etcd data of an earlier server run is under `root`. */
export async function holdsServerData (root: string, dataDir: string): Promise<boolean> {
  const [server] = staleServerPaths(dataDir)
  return await stat(join(root, `${server ?? ''}/db`)).then(() => true, () => false)
}

/** Removes the stale server state under `root`, and nothing outside it. Returns the paths removed. */
export async function removeServerState (root: string, dataDir: string): Promise<string[]> {
  const paths = staleServerPaths(dataDir).map(path => join(root, path))
  for (const path of paths) {
    try {
      await rm(path, { recursive: true, force: true })
    } catch (err) {
      throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot remove the stale k3s server state ${path}: ${(err as Error).message}; remove it by hand, then restart the agent`, { cause: err })
    }
  }
  return paths
}

/** The error of a replaced server that came back without the opt-in: the problem, and both fixes. */
export function staleServerError (dataDir: string): BootstrapperError {
  const [server = '', kubeconfig = ''] = staleServerPaths(dataDir)
  return new BootstrapperError('BOOTSTRAP_APPLY_FAILED',
    'this node was a control plane and a later epoch replaced it while it was down: it is a worker now, and its ' +
    `k3s server state (etcd in ${server}/db) is stale, so k3s must not start as a server again: k3s is held (stopped, and skipped by systemd at boot and on restarts). Nothing is written or started. ` +
    `Either clean up by hand: \`systemctl disable --now k3s; k3s-killall.sh; rm -rf ${server} ${kubeconfig}\`, then restart p2p-bootstrap; ` +
    'or let the agent do it: set apply.clean-replaced-server: true in its config (option apply.cleanReplacedServer) and restart it. ' +
    'Either way the node then joins as a worker.')
}

/**
 * The error of a server whose k3s joined a cluster that a later epoch abandoned: the init node was
 * Ready alone and died, so the epoch that replaced it named a new initialiser (`reinit`), and this
 * server's etcd data, a member of the dead node's cluster, keeps k3s from joining the new one (with
 * etcd data on disk k3s ignores `cluster-init` and `server:`).
 */
export function abandonedClusterError (dataDir: string, deadInit: string): BootstrapperError {
  const [server = '', kubeconfig = ''] = staleServerPaths(dataDir)
  return new BootstrapperError('BOOTSTRAP_APPLY_FAILED',
    `this server started joining the cluster of the init node ${deadInit}, which died before any other server was Ready; a later epoch named a new ` +
    `node to initialise the cluster, and this server's etcd data (${server}/db) belongs to the abandoned one, so k3s would never join the new cluster: k3s is held. ` +
    `Either clean up by hand: \`systemctl disable --now k3s; k3s-killall.sh; rm -rf ${server} ${kubeconfig}\`, then restart p2p-bootstrap; ` +
    'or let the agent do it: set apply.clean-replaced-server: true in its config (option apply.cleanReplacedServer) and restart it. ' +
    'Either way the server then joins the new cluster.')
}

export class StaleServers {
  constructor (private readonly ctx: ApplyContext, private readonly service: ServiceSteps, private readonly records: StaleServerRecords) {}

  /**
   * True when this node, replaced as a control plane, may go on as a worker: it holds no server
   * state (never ran one, or it was cleaned), or the opt-in let it remove that state now.
   * Otherwise it reports the problem and the fix, and nothing is written or started.
   *
   * A k3s server this agent started is stopped first, with or without the opt-in: the node may
   * have been cut off rather than down (a partition), its k3s still running. Its etcd member was
   * removed before its successor joined, so that k3s can serve nothing but trouble: etcd answers
   * it ErrMemberRemoved, k3s tombstones its data and, restarted by systemd, would join again as a
   * member nobody removes; a replaced init node could even initialise a second cluster. Stopping
   * is what "a replaced server stays stopped" needs; removing its data stays opt-in.
   */
  async leaveReplaced (plan: Plan): Promise<boolean> {
    if (this.ctx.init.dryRun) return true
    const { root, apply } = this.ctx.init
    // Whatever happens next, this node's server never starts again (S1: a replaced init node would
    // run cluster-init): systemd skips k3s.service from now on, also after a reboot and when its
    // Restart= starts it again on its own (ExecCondition runs at every start).
    if (startsK3s(this.ctx.init)) await revokeConsent(root, 'k3s')
    let record = this.records.get()
    const ranServer = record?.ranService === 'k3s'
    if (ranServer && record !== null && record.started && startsK3s(this.ctx.init)) {
      if (!(await this.service.stop('k3s', 'a later epoch replaced this node as a control plane', baseEnv(this.ctx.init)))) return false
      record = { ...record, started: false, ranService: null }
      await this.records.save(record)
      this.ctx.init.reports.notice(`k3s stopped: epoch ${plan.epoch} replaced this node as a control plane, and its etcd member was removed; the start gate keeps k3s down (also at boot and on systemd's own restarts)`)
    }
    if (!ranServer && !(await holdsServerData(root, dataDirOf(this.ctx.init)))) return true
    if (apply.cleanReplacedServer !== true) {
      this.ctx.problem(staleServerError(dataDirOf(this.ctx.init)))
      return false
    }
    // Stopped above when this agent had started it; without a record (state lost), stop it here.
    if (startsK3s(this.ctx.init) && record === null && !(await this.service.stop('k3s', 'this node was replaced as a control plane and comes back as a worker', baseEnv(this.ctx.init)))) return false
    const removed = await removeServerState(root, dataDirOf(this.ctx.init))
    if (record !== null) await this.records.save({ ...record, started: false, ranService: null, cleanedEpoch: plan.epoch })
    this.records.cleaned()
    this.ctx.init.reports.notice(`this node was replaced as a control plane while it was down: k3s is stopped and its stale server state removed (${removed.join(', ')}); it joins as a worker (option apply.cleanReplacedServer)`)
    return true
  }

  /**
   * True when this server's k3s started joining a cluster the plan abandoned (a `reinit` epoch:
   * the init node was Ready alone and died): it ran k3s with a pinned CA hash, was never Ready,
   * and the plan now has it initialise, or pins another origin's CA hash.
   */
  joinedAbandoned (plan: Plan): boolean {
    const record = this.records.get()
    if (plan.reinit === undefined || this.ctx.init.dryRun || record?.ranService !== 'k3s' || record.caHash === undefined) return false
    if (this.ctx.init.ledger.lookup(`node/${this.ctx.init.nodeId}/${SERVER_READY_ENTRY_NAME}`) !== undefined) return false
    const origin = publishedCaHash(this.ctx.init, plan)
    return initialiserOf(plan) === this.ctx.init.nodeId || (origin !== undefined && origin !== record.caHash)
  }

  /**
   * A server whose etcd data belongs to an abandoned cluster: k3s is held and the problem
   * reported; with the opt-in (apply.cleanReplacedServer) k3s is stopped and the data removed, and
   * the server then starts afresh in the new cluster. True once it may go on.
   */
  async leaveAbandoned (plan: Plan): Promise<boolean> {
    const { root, apply } = this.ctx.init
    const record = this.records.get()
    if (startsK3s(this.ctx.init)) await revokeConsent(root, 'k3s')
    if (apply.cleanReplacedServer !== true) {
      this.ctx.problem(abandonedClusterError(dataDirOf(this.ctx.init), plan.init))
      return false
    }
    if (startsK3s(this.ctx.init) && !(await this.service.stop('k3s', 'its etcd data belongs to an abandoned cluster', baseEnv(this.ctx.init)))) return false
    const removed = await removeServerState(root, dataDirOf(this.ctx.init))
    if (record !== null) await this.records.save({ ...record, started: false, ranService: null, cleanedEpoch: plan.epoch })
    this.ctx.init.reports.notice(`this server's k3s data belonged to the cluster of the dead init node ${plan.init}, abandoned in epoch ${plan.epoch}: k3s is stopped and that data removed (${removed.join(', ')}); it joins the new cluster (option apply.cleanReplacedServer)`)
    return true
  }
}
