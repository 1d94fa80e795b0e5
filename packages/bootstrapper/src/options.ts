import type { NetworkToken, Role, TimingProfile } from '@p2p-bootstrap/core'
import type { OverlayProfile } from '@p2p-bootstrap/overlay'
import type { ApplyOptions, K3sOptions } from './apply/apply-options.js'
import type { DriverClock } from './driver.js'

/** Timing profile names shared by the core and the overlay. */
export type ProfileName = 'lan' | 'wan' | 'test'

/**
 * What `createBootstrapper` takes. Only `token` is required; everything else has a default that
 * fits a machine at first boot. The cluster shape may also come from the token: a value given
 * here and in the token must agree, or the bootstrapper refuses to start (never silently picks).
 */
export interface BootstrapperOptions {
  /** The network token (text, a Kairos token, or already parsed). */
  token: string | NetworkToken
  /** Where identity, votes and the ledger live (mode 0700). Default `/var/lib/p2p-bootstrap`. */
  stateDir?: string
  /** Root under which this node's output is written. Default `/`. */
  root?: string
  /** libp2p listen multiaddrs. Default `/ip4/0.0.0.0/tcp/4001`. */
  listen?: string[]
  /** Static peers: `192.168.1.10` (port 4001), `host:port`, or a TCP multiaddr, with or without `/p2p/<peer id>`. */
  peers?: string[]
  /** mDNS discovery on the LAN. Default true. */
  mdns?: boolean
  /** The private kad-dht rendezvous. Default true. */
  dht?: boolean
  /** Cluster shape; each field may instead come from the token. */
  shape?: ShapeOptions
  /** What this node says about itself. */
  node?: NodeOptions
  /** Timing profile of the core and the overlay. Default `lan`. */
  profile?: ProfileName
  /**
   * How long a control-plane node stays dead before a committed epoch replaces it with a live
   * worker. Default: the profile's (5 minutes on `lan` and `wan`, long enough to ride out a
   * reboot). Shorter restores HA sooner; a replaced server must clean its etcd data to come back.
   */
  failoverDelayMs?: number
  /** k3s settings: extra config keys (cluster-wide or this node's), Kairos args, kube-vip, subnet. */
  k3s?: K3sOptions
  /** How the output is applied: start and probe commands, an installer callback, an on-ready hook. */
  apply?: ApplyOptions
  /**
   * Admin public keys (`p2pb-admin1:…`, from `p2p-bootstrap kubeconfig keygen`). With any, each
   * Ready server publishes the admin kubeconfig sealed to these keys. Default none: off.
   */
  adminKeys?: string[]
  /**
   * Render and write the files only; start nothing. Each earlier step is assumed to have
   * succeeded (joiners join the init node, with the short token form), so a whole fleet can be
   * rendered without k3s.
   */
  dryRun?: boolean
  /** Serve `p2p-bootstrap status` on a unix socket in the state dir. Default true. */
  statusSocket?: boolean
  /**
   * An HTTP listener for operators: Prometheus `/metrics`, `/healthz` and a status page at `/`
   * (docs/observe.md). `listen` is an IP address and a port: `127.0.0.1:9464`, `[::1]:9464`
   * (port 0 picks a free one; see `Bootstrapper.observeAddress()`). Off when absent. On a
   * non-loopback address anyone who reaches it sees the cluster's topology (node ids, addresses,
   * roles, phases): bind it to loopback, or to a management network only.
   */
  observe?: { listen: string }
  /**
   * Advanced: overrides of single timings of the named `profile`, for benchmarks and unusual
   * networks (the benchmarks' naive baseline re-broadcasts the whole ledger and queries mDNS every
   * second through it). Prefer a named profile: its values are measured together, and every node
   * of a fleet should run the same ones. Applied last, over `profile` and `failoverDelayMs`.
   */
  tuning?: TuningOptions
  /**
   * The clocks the agent runs on; the machine's (`systemClock()`) by default. Tests inject one to
   * step the wall clock or freeze the loop: timers and the fail-over delay read only the monotonic
   * clock, the ledger's HLC only the wall clock.
   */
  clock?: DriverClock
}

/** Overrides of a named profile's fields; unknown fields and non-whole numbers are refused. */
export interface TuningOptions {
  /** Fields of the core's `TimingProfile`; the result must pass the core's `validateProfile`. */
  core?: Partial<Omit<TimingProfile, 'name'>>
  /** Fields of the overlay's `OverlayProfile`, applied after the bootstrapper's connection limits. */
  overlay?: Partial<OverlayProfile>
}

export interface ShapeOptions {
  /** Nodes expected at first boot: a majority of it is the bootstrap quorum. */
  expect?: number
  /** Control-plane nodes wanted: 1, 3, 5 or 7. Default 1 if neither here nor in the token. */
  controlPlanes?: number
  /** The kube-vip virtual IP. */
  vip?: string
  /** A human cluster name (one lower-case DNS label). */
  name?: string
}

export interface NodeOptions {
  /** The address k3s uses as `node-ip`; default: the first non-loopback IPv4 of `interface`, or of the host. */
  nodeIp?: string
  /** The network interface for kube-vip and flannel. */
  interface?: string
  /** Labels published with this node (`k=v`); `p2p-bootstrap.io/control-plane=true` prefers control plane. */
  labels?: Record<string, string>
  /** A role request, honoured where it breaks no safety property. */
  role?: Role
  /** Host name used for the node name; default the OS host name. */
  hostname?: string
}
