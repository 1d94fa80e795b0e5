import { rm, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { BootstrapperError } from '../errors.js'

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

