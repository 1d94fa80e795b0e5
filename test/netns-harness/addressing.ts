// Names and addresses of one lab run. Names carry a random run id, so two runs (or a run and a
// leftover of a killed one) never collide; addresses are /24s drawn at random from 10.0.0.0/8,
// avoiding every prefix routed in the namespace the harness runs in, so a host address can never
// be mistaken for a real network's when someone reads `ip` output.
import { randomBytes, randomInt } from 'node:crypto'
import { HarnessError } from './errors.js'

/** Prefix of every namespace the harness creates: `ip netns list | grep p2pb-` finds leftovers. */
export const NAMESPACE_PREFIX = 'p2pb-'
/** Host names become parts of namespace and interface names: short, lower case. */
const HOST_NAME_PATTERN = /^[a-z][a-z0-9]{0,7}$/
const PICK_ATTEMPTS_MAX = 64

/** A random run id: 6 hex digits. */
export function newRunId (): string {
  return randomBytes(3).toString('hex')
}

export function namespaceName (runId: string, part: string): string {
  return `${NAMESPACE_PREFIX}${runId}-${part}`
}

export function checkHostName (name: string): string {
  if (!HOST_NAME_PATTERN.test(name) || name === 'lab' || name === 'rt') {
    throw new HarnessError('HARNESS_BAD_ARGUMENT', `host name ${JSON.stringify(name)} must be 1-8 lower-case letters or digits starting with a letter, and not "lab" or "rt"`)
  }
  return name
}

function toInt (address: string): number {
  const parts = address.split('.').map(Number)
  if (parts.length !== 4 || parts.some(part => !Number.isInteger(part) || part < 0 || part > 255)) return -1
  return parts.reduce((sum, part) => sum * 256 + part, 0)
}

/** The [first, last] addresses of `a.b.c.d/len`, or null if it is not an IPv4 prefix. */
export function prefixRange (cidr: string): [number, number] | null {
  const [address = '', lengthText = '32'] = cidr.split('/')
  const start = toInt(address)
  const length = Number(lengthText)
  if (start < 0 || !Number.isInteger(length) || length < 0 || length > 32) return null
  const size = 2 ** (32 - length)
  const first = start - (start % size)
  return [first, first + size - 1]
}

/** The destination prefixes of `ip -4 route show` output (the default route is no prefix of ours to avoid). */
export function routedPrefixes (routeListing: string): string[] {
  return routeListing.split('\n')
    .map(line => line.trim().split(/\s+/)[0] ?? '')
    .filter(first => first !== '' && first !== 'default' && prefixRange(first) !== null)
    .map(first => first.includes('/') ? first : `${first}/32`)
}

/**
 * `count` consecutive /24s (`10.a.b.0/24`, `10.a.b+1.0/24`, …) overlapping none of `taken`.
 * Returns their first three octets ("10.37.4").
 */
export function pickSubnets (count: number, taken: readonly string[], draw: (max: number) => number = randomInt): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new HarnessError('HARNESS_BAD_ARGUMENT', `a lab has 1 to 16 subnets, not ${count}`)
  const takenRanges = taken.map(prefixRange).filter((range): range is [number, number] => range !== null)
  for (let attempt = 0; attempt < PICK_ATTEMPTS_MAX; attempt++) {
    const second = 16 + draw(224) // 10.16.x – 10.239.x: away from the 10.0/16 and 10.255/16 that people often use
    const third = draw(256 - count)
    const prefixes = Array.from({ length: count }, (_, index) => `10.${second}.${third + index}`)
    const clash = prefixes.some((prefix) => {
      const range = prefixRange(`${prefix}.0/24`)
      return range !== null && takenRanges.some(([first, last]) => range[0] <= last && first <= range[1])
    })
    if (!clash) return prefixes
  }
  throw new HarnessError('HARNESS_UNAVAILABLE', `found no free /24 in 10.0.0.0/8 after ${PICK_ATTEMPTS_MAX} tries; this namespace routes too much of it`)
}
