/**
 * Thrown when one of our own invariants is broken: a bug, never bad input from the world.
 * The simulator fails the seed on it; the agent stops the node rather than continue on a broken
 * state. Bad input from outside is a typed `P2pBootstrapError`, handled and counted instead.
 */
export class InvariantError extends Error {
  readonly code = 'INVARIANT' as const

  constructor (why: string) {
    super(`invariant broken: ${why}`)
    this.name = 'InvariantError'
  }
}

/** Asserts one condition; `why` names the property it protects (e.g. 'S2: epochs only grow'). */
export function assert (condition: unknown, why: string): asserts condition {
  if (condition === false || condition === undefined || condition === null || condition === 0) {
    throw new InvariantError(why)
  }
}
