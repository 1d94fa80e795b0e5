// A fixed pool of entries for the CRDT property tests: several versions per node key (with a
// stamp tie and tombstones), an equivocating voter, duplicate and conflicting decisions, a chain
// of decisions that must wait for each other, and entries that every replica must reject.
import { nodeEntryKey, planEntryKey, voteEntryKey } from '../../src/ledger/keys.js'
import { alice, bob, bytesOf, carol, entryBy, invalidDecision, OTHER_CLUSTER_ID, validDecision } from './fixtures.js'
import type { Entry } from '../../src/ledger/entry.js'

function nodeVersions (): Entry[] {
  const out: Entry[] = []
  for (const key of [alice, bob, carol]) {
    for (const name of ['facts', 'addrs']) {
      out.push(entryBy(key, nodeEntryKey(key.nodeId, name), bytesOf(`${name}@100`), 100))
      out.push(entryBy(key, nodeEntryKey(key.nodeId, name), bytesOf(`${name}@200`), 200, 3))
      out.push(entryBy(key, nodeEntryKey(key.nodeId, name), null, 250))
      out.push(entryBy(key, nodeEntryKey(key.nodeId, name), bytesOf(`${name}@300`), 300))
    }
  }
  // Two values under one stamp: a writer that lost its clock.
  out.push(entryBy(alice, nodeEntryKey(alice.nodeId, 'tie'), bytesOf('x'), 500))
  out.push(entryBy(alice, nodeEntryKey(alice.nodeId, 'tie'), bytesOf('y'), 500))
  return out
}

function votes (): Entry[] {
  const bobVote = voteEntryKey(1, 1, alice.nodeId, bob.nodeId)
  const carolVote = voteEntryKey(1, 1, alice.nodeId, carol.nodeId)
  return [
    entryBy(bob, bobVote, bytesOf('accept-a'), 10),
    entryBy(bob, bobVote, bytesOf('accept-b'), 11),
    entryBy(carol, carolVote, bytesOf('accept-a'), 10),
    entryBy(carol, carolVote, bytesOf('accept-a'), 40)
  ]
}

function decisions (): Entry[] {
  return [
    entryBy(alice, planEntryKey(1), validDecision('one'), 10),
    entryBy(bob, planEntryKey(1), validDecision('one'), 20),
    entryBy(carol, planEntryKey(1), validDecision('uno'), 15),
    entryBy(alice, planEntryKey(2), validDecision('two'), 30),
    entryBy(bob, planEntryKey(3), validDecision('three'), 40),
    entryBy(bob, planEntryKey(1), invalidDecision(), 5)
  ]
}

function rejects (): Entry[] {
  const good = entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('forged'), 900)
  return [
    entryBy(bob, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('not mine'), 999),
    { ...good, value: bytesOf('tampered') },
    entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('elsewhere'), 999, 0, OTHER_CLUSTER_ID)
  ]
}

export const POOL: readonly Entry[] = [...nodeVersions(), ...votes(), ...decisions(), ...rejects()]
