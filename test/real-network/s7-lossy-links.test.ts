// Goal: a bad network delays the bootstrap but never splits it: with 15 % packet loss and 50 ms
// latency on every link, five hosts still commit exactly one plan (S1, S2, L1). Method: five hosts
// whose eth0 sends everything through tc netem (each host-to-host packet is delayed and may be
// dropped once: 50 ms one way, 100 ms round trip), the real binary on each with the WAN timing
// profile (the profile meant for round trips of 100 ms and more: the LAN one's 100 ms probe timeout
// would declare healthy members dead here). Skipped where the kernel has no netem.
import { describe, expect, it } from 'vitest'
import { netemSkipReason } from '../netns-harness/index.js'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import { DRY_RUN, labSkipReason, newToken, rootsOf, startAll, statusOf, titled, useLab, waitForOutput } from './scenario-kit.js'

const { lab: newLab } = useLab()
const skipReason = labSkipReason ?? netemSkipReason()
/** Lost mDNS answers are re-asked every 10 s with this profile, and TCP retransmits lost segments. */
const LOSSY_FORMATION_TIMEOUT_MS = 120_000

describe.skipIf(skipReason !== undefined)(titled('real network: lossy, slow links', skipReason), () => {
  it('15 % loss and 50 ms latency on every link: exactly one plan, committed', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    await lab.impair({ delayMs: 50, lossPercent: 15 })
    const vip = lab.vip()
    startAll(hosts, newToken({ expect: 5, controlPlanes: 3, vip }), [...DRY_RUN, '--profile', 'wan', '--no-dht'])
    await waitForOutput(hosts, LOSSY_FORMATION_TIMEOUT_MS)

    const summary = assertConsistentFleet(await readFleetFiles(rootsOf(hosts)), { controlPlanes: 3, workers: 2, vip })
    for (const status of await statusOf(hosts)) {
      expect(status.epoch).toBe(1)
      expect(status.plan?.init).toBe(summary.init)
    }
  }, LOSSY_FORMATION_TIMEOUT_MS + 60_000)
})
