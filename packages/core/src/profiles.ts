import { P2pBootstrapError } from './errors.js'

/**
 * Every timing knob of the core, in one type with named profiles. All values are milliseconds of
 * the caller's clock (`nowMs`), so the simulator can run them in simulated time.
 */
export interface TimingProfile {
  readonly name: 'lan' | 'wan' | 'test' | 'sim' | 'custom'
  /** How often a node probes one random member (SWIM). Lower detects faster; costs one ping per period per node. */
  readonly probeIntervalMs: number
  /** How long a direct probe waits for an ack before asking others to probe indirectly. Above the network RTT. */
  readonly probeTimeoutMs: number
  /** How many members are asked to probe indirectly when a direct probe fails. More resists loss; costs k messages. */
  readonly indirectProbes: number
  /**
   * How long an unconfirmed suspicion lasts before the member is declared dead, unless it refutes;
   * scaled by log10(N) above ten members. Each independent confirmation (another node's own probe
   * failed too) shrinks it, down to a third with two (Lifeguard; memberlist's minimum is
   * SuspicionMult 4 probe periods). Lower detects faster, but declares slow and stalled nodes dead.
   */
  readonly suspicionTimeoutMs: number
  /**
   * How often a node with news (membership updates still to spread) sends them to `gossipFanout`
   * random members, besides piggybacking them on probes (memberlist's GossipInterval). Lower
   * spreads suspicions, confirmations, refutations and deaths faster; nothing is sent while no
   * news is queued, so an idle cluster pays nothing for it.
   */
  readonly gossipIntervalMs: number
  /** Members each gossip round goes to (memberlist's GossipNodes). */
  readonly gossipFanout: number
  /** How long a dead member is remembered before it is forgotten from the member list. */
  readonly deadRetentionMs: number
  /** How often a node runs anti-entropy (digest, then pull) with one random peer. Only repairs; new entries are pushed at once. */
  readonly antiEntropyIntervalMs: number
  /**
   * The longest wait between two anti-entropy rounds once this node holds the plan and its rounds
   * keep finding nothing to repair: the wait doubles from `antiEntropyIntervalMs` up to this, and
   * snaps back on a new entry, a membership change or a digest that differs. Higher makes an idle
   * cluster quieter; it is also the longest a missed push can stay unrepaired once settled (new
   * entries are still pushed at once). Equal to `antiEntropyIntervalMs`: no back-off.
   */
  readonly antiEntropySteadyMaxMs: number
  /** How many peers a new ledger entry is pushed to by each node that first merges it. */
  readonly pushFanout: number
  /** How long the preferred proposer waits for all `expect` nodes before proposing with a quorum. */
  readonly gatherTimeoutMs: number
  /** Without `expect`: how long the member set must be unchanged before a best-effort bootstrap. */
  readonly settleWindowMs: number
  /** How long a proposer waits for promises or accepts before retrying with a higher ballot. */
  readonly ballotTimeoutMs: number
  /** Randomised back-off before a non-preferred node proposes (drawn from [0, max]); avoids duels. */
  readonly proposerBackoffMsMax: number
  /** Upper bound of a node's clock skew that the HLC tolerates in received stamps. */
  readonly maxClockSkewMs: number
  /** Tombstones older than this (by HLC wall time) are reaped. */
  readonly tombstoneHorizonMs: number
  /**
   * How long a control-plane node must stay dead before a committed epoch replaces it. Long enough
   * to ride out a reboot (a replaced server must clean its etcd data to come back); shorter
   * restores HA sooner after a real loss.
   */
  readonly failoverDelayMs: number
  /**
   * Re-send the whole ledger to every live peer this often; 0 (every named profile) never does.
   * Only the naive baseline of the benchmarks sets it: it is the reference system's design
   * (DESIGN.md §5), kept to measure what not doing it saves.
   */
  readonly ledgerRebroadcastIntervalMs: number
}

/**
 * A LAN, with memberlist's LAN timing (config.go, DefaultLANConfig, at commit 1b4c746): probe 1 s,
 * timeout 500 ms, 3 indirect probes, gossip every 200 ms to 3 members. Suspicion as memberlist
 * computes it (state.go, suspicion.go): a minimum of SuspicionMult 4 × max(1, log10 N) probe
 * periods (4 s up to ten members) once k = SuspicionMult − 2 = 2 others confirmed, shrinking on a
 * log scale from the unconfirmed maximum; that maximum is 3 × the minimum here where memberlist
 * takes 6 (SuspicionMaxTimeoutMult), so one unconfirmed path waits 12 s, not 24. Measured in the
 * core's membership harness: a dead node known dead by every other node in 5.8 s (median; 9.1 s
 * at worst) at 5 and 10 members. The earlier 250-ms probe and 1-s suspicion declared live nodes
 * dead by the hundred while Node processes started together on shared cores froze for a second
 * or more.
 */
export function lanProfile (): TimingProfile {
  return {
    name: 'lan',
    probeIntervalMs: 1_000, // one probe a second (memberlist): small packets, constant per node whatever the size
    probeTimeoutMs: 500, // memberlist's: LAN RTT is < 5 ms, the rest is room for a busy event loop
    indirectProbes: 3, // as memberlist: survives one or two lossy paths
    suspicionTimeoutMs: 12_000, // unconfirmed; 4 s (memberlist's 4 probe periods) once two others confirm
    gossipIntervalMs: 200, // memberlist's LAN GossipInterval: news reaches ten members in well under a second
    gossipFanout: 3, // memberlist's GossipNodes
    deadRetentionMs: 24 * 3600_000, // remember the dead for a day: status shows them
    antiEntropyIntervalMs: 2_000, // repair only: pushes carry new entries at once
    antiEntropySteadyMaxMs: 30_000, // memberlist's LAN push-pull interval: an idle agent sends a digest twice a minute
    pushFanout: 3, // epidemic push: log-N rounds reach everyone
    gatherTimeoutMs: 3_000, // late boots are common; after this a quorum suffices (L1)
    settleWindowMs: 5_000, // best-effort mode only
    ballotTimeoutMs: 1_000, // a ballot needs 2 RTTs; 1 s is generous on a LAN
    proposerBackoffMsMax: 1_000, // spreads rival proposers apart
    maxClockSkewMs: 60_000, // edge boxes boot without NTP; tolerate a minute
    tombstoneHorizonMs: 7 * 24 * 3600_000, // a week: longer than any partition we ride out
    failoverDelayMs: 5 * 60_000, // a reboot of an edge box takes 1–3 min; replacing a server is costly
    ledgerRebroadcastIntervalMs: 0 // never: pushes and anti-entropy carry every change
  }
}

/** Links across sites: hundreds of ms RTT and more loss. */
export function wanProfile (): TimingProfile {
  return {
    ...lanProfile(),
    name: 'wan',
    probeIntervalMs: 5_000, // memberlist's WAN: slower probing, 3-s timeout for a long, lossy RTT
    probeTimeoutMs: 3_000,
    suspicionTimeoutMs: 90_000, // memberlist's WAN suspicion is 6 × 5 s: 30 s once confirmed
    gossipIntervalMs: 500, // memberlist's WAN GossipInterval
    gossipFanout: 4, // memberlist's WAN GossipNodes
    antiEntropyIntervalMs: 5_000,
    antiEntropySteadyMaxMs: 60_000, // memberlist's WAN push-pull interval: links across sites cost more
    gatherTimeoutMs: 10_000,
    settleWindowMs: 15_000,
    ballotTimeoutMs: 3_000,
    proposerBackoffMsMax: 3_000
  }
}

/**
 * Tests on loopback: the LAN's failure detector unchanged (a faster one declares live nodes dead
 * on a loaded CI machine, and would hide that bug from the tests), only shorter operator waits:
 * gather and settle windows, repair (and its steady-state back-off), and the fail-over delay.
 */
export function testProfile (): TimingProfile {
  return {
    ...lanProfile(),
    name: 'test',
    antiEntropyIntervalMs: 500,
    antiEntropySteadyMaxMs: 4_000, // the same back-off, capped so a test's missed push is repaired within seconds
    gatherTimeoutMs: 1_000,
    settleWindowMs: 1_000,
    failoverDelayMs: 3_000
  }
}

/** The simulator's default: the LAN profile, so simulated times are the times we promise. */
export function simProfile (): TimingProfile {
  return { ...lanProfile(), name: 'sim' }
}

export function profileByName (name: string): TimingProfile {
  switch (name) {
    case 'lan': return lanProfile()
    case 'wan': return wanProfile()
    case 'test': return testProfile()
    case 'sim': return simProfile()
    default:
      throw new P2pBootstrapError('CONFIG_UNKNOWN_PROFILE', `unknown timing profile ${JSON.stringify(name)}: use lan, wan or test`)
  }
}

/** Rejects impossible combinations with a sentence naming the rule. */
export function validateProfile (profile: TimingProfile): TimingProfile {
  const fail = (why: string): never => {
    throw new P2pBootstrapError('CONFIG_BAD_PROFILE', `timing profile ${profile.name}: ${why}`)
  }
  for (const [key, value] of Object.entries(profile)) {
    if (key === 'name') continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${key} must be a non-negative number, got ${String(value)}`)
  }
  if (profile.probeTimeoutMs >= profile.probeIntervalMs) fail('probeTimeoutMs must be below probeIntervalMs (a probe ends before the next starts)')
  if (profile.suspicionTimeoutMs < profile.probeIntervalMs) fail('suspicionTimeoutMs must be at least probeIntervalMs (a suspect needs a chance to refute)')
  if (profile.antiEntropySteadyMaxMs < profile.antiEntropyIntervalMs) fail('antiEntropySteadyMaxMs must be at least antiEntropyIntervalMs (the steady rhythm only backs off from the base interval)')
  if (profile.pushFanout < 1) fail('pushFanout must be at least 1')
  if (profile.gossipIntervalMs < 1) fail('gossipIntervalMs must be at least 1 (news is sent in rounds)')
  if (profile.ballotTimeoutMs <= 0) fail('ballotTimeoutMs must be positive')
  return profile
}
