/**
 * Tests that enable mDNS must run inside a network namespace made for the run, or multicast would
 * leave the machine. `npm test` runs the whole suite inside one (test/helpers/run-in-netns.mjs)
 * and says so through P2PB_NETNS; anywhere else such tests skip, and this says why.
 */
export function isolatedNetns (): string | undefined {
  const name = process.env.P2PB_NETNS
  return name !== undefined && name !== '' ? name : undefined
}

export const mdnsSkipReason = isolatedNetns() === undefined
  ? 'mDNS tests need an isolated network namespace: run them through `npm test` (as root)'
  : undefined
