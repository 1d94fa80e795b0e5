import type { Plan, Role } from '@p2p-bootstrap/core'
import type { KubeVipSettings, NodeSecrets, RenderedFile } from '@p2p-bootstrap/k3s'
import type { JoinStep } from './join-sequence.js'

/**
 * The k3s side of a node's configuration. Every field is optional: with none, a node renders k3s'
 * defaults with the VIP and tokens from the plan.
 */
export interface K3sOptions {
  /**
   * Extra keys for k3s' config.yaml. Critical keys (CIDRs, cluster DNS and domain, flannel
   * backend, `disable`, …) are cluster-wide: every node must give the same, and a node whose
   * values differ from the init node's refuses to write anything. The other keys are this node's.
   */
  readonly extra?: Readonly<Record<string, unknown>>
  /**
   * Kairos' `k3s.args` (used on servers) and `k3s-agent.args` (used on workers), translated to
   * config keys. Critical keys in `server` are cluster-wide like those of `extra`.
   */
  readonly kairosArgs?: { readonly server?: readonly string[], readonly agent?: readonly string[] }
  /** kube-vip's image and interface: cluster-wide, like the critical keys. */
  readonly kubeVip?: KubeVipSettings
  /**
   * The CIDR of the node's network (`192.168.1.0/24`). Default: read from the interface that holds
   * the node-ip. Servers need it when the plan has a VIP, to check the VIP is on that network.
   */
  readonly subnet?: string
}

/** A command as argv. `{service}` in an argument is replaced by `k3s` or `k3s-agent`. */
export type CommandLine = readonly string[]

/** How this node's output is applied. */
export interface ApplyOptions {
  /**
   * For installers that place the files themselves: called with the rendered files and the opened
   * tokens instead of the agent writing them and starting k3s. A rejection is reported and retried.
   */
  readonly onOutput?: (output: NodeOutput, options: { signal: AbortSignal }) => Promise<void> | void
  /**
   * Starts k3s: the first time, and in each boot once this agent consents (k3s is never enabled
   * by the agent; see bootGate). Default `systemctl start {service}`.
   */
  readonly startCommand?: CommandLine
  /** Restarts k3s after its files changed once it was started. Default `systemctl restart {service}`. */
  readonly restartCommand?: CommandLine
  /**
   * Stops k3s and keeps it from starting at boot: the agent service of a worker promoted to control
   * plane, the server of a node replaced while it was down, the service of a node that left
   * (`leave`). Default `systemctl disable --now {service}`.
   */
  readonly stopCommand?: CommandLine
  /**
   * Default true: before it starts k3s, the agent writes a systemd drop-in for `k3s.service` and
   * `k3s-agent.service` (`/etc/systemd/system/<unit>.d/50-p2p-bootstrap-gate.conf`) whose
   * `ExecCondition=` needs the agent's consent under `/run/p2p-bootstrap/k3s-consent/`, written
   * just before each start and removed before each stop. `/run` is emptied at boot, so k3s never
   * starts at boot without the agent, even when its unit was enabled by hand or by k3s' install
   * script. `false` where k3s is not run by systemd (the start and stop commands are your own).
   */
  readonly bootGate?: boolean
  /**
   * etcdctl, as argv, used with k3s' own etcd client certificates to confirm that a replaced or
   * retired server's etcd member is gone (and to remove a member left without a Node) before a new
   * server joins. Default `etcdctl` (k3s ships none: install Debian's `etcd-client`, or the etcd
   * release's). `false`: deleting the Node is taken as enough (k3s then drops the member itself,
   * unless the server died before it registered its Node).
   */
  readonly etcdctl?: CommandLine | false
  /**
   * Opt-in (config `apply.clean-replaced-server`). A control plane that was replaced while it was
   * down comes back as a worker, but its k3s server state (the etcd data in
   * `/var/lib/rancher/k3s/server/db`, the server's certificates and tokens) is stale: started again,
   * that server would try to rejoin etcd as a member that no longer exists. By default the agent
   * then writes and starts nothing, and reports the commands that clean up by hand. With `true` it
   * runs the stop command for `k3s`, removes `<root>/<data-dir>/server` and the admin kubeconfig
   * `<root>/etc/rancher/k3s/k3s.yaml` (a worker holds no admin credentials), then joins as a worker.
   * Only paths under `root` are touched, once; nothing is removed in a dry run.
   */
  readonly cleanReplacedServer?: boolean
  /**
   * Succeeds (exit 0) once the local k3s is Ready. Default on servers
   * `k3s kubectl get --raw /readyz` (which must print `ok`), on workers
   * `systemctl is-active --quiet k3s-agent`; with `onOutput`, no probe unless one is given here.
   * `false`: no probe; the node never reports Ready.
   */
  readonly readyCommand?: CommandLine | false
  /** Run once per plan epoch when every node of the plan reports Ready. */
  readonly onReadyCommand?: CommandLine
  /**
   * Library option for trials on one machine whose k3s is a stand-in: accept a loopback (or
   * link-local, multicast, unspecified) node-ip outside a dry run. A real kubelet refuses such an
   * address, so without this only `--dry-run` renders one.
   */
  readonly acceptLocalNodeIp?: boolean
  /** Longest time one command may run before it is killed. Default 120 s (a first k3s start pulls images). */
  readonly commandTimeoutMs?: number
}

/** What `onOutput` receives: everything needed to bring k3s up on this node. */
export interface NodeOutput {
  readonly plan: Plan
  readonly nodeId: string
  readonly role: Role
  /** True on the one node that runs `cluster-init`. */
  readonly init: boolean
  /** The systemd unit to run: `k3s` on servers, `k3s-agent` on workers. */
  readonly service: 'k3s' | 'k3s-agent'
  readonly nodeName: string
  /** Paths are absolute on the node (not under `root`). */
  readonly files: readonly RenderedFile[]
  /** The opened tokens: a worker gets the agent token only. */
  readonly secrets: NodeSecrets
  /** How this node joins: `init`, or the server it joins through. */
  readonly join: Exclude<JoinStep, { kind: 'wait' }>
  readonly notes: readonly string[]
}
