// Goal: key families parse exactly as documented, and ownership is derived from the key alone.
// Method: it.each tables of well-formed and malformed keys.
import { describe, expect, it } from 'vitest'
import { isParsedKey, isWriteOnce, nodeEntryKey, parseKey, planEntryKey, requiredWriter, voteEntryKey } from '../../src/ledger/keys.js'
import { alice, bob } from './fixtures.js'

describe('parseKey', () => {
  it.each([
    [nodeEntryKey(alice.nodeId, 'facts'), 'node', alice.nodeId],
    [nodeEntryKey(alice.nodeId, 'addrs/v4'), 'node', alice.nodeId],
    [voteEntryKey(1, 3, alice.nodeId, bob.nodeId), 'vote', bob.nodeId],
    [planEntryKey(2), 'plan', null]
  ])('%s is in family %s, written by %s', (key, family, writer) => {
    const parsed = parseKey(key)
    expect(isParsedKey(parsed)).toBe(true)
    if (!isParsedKey(parsed)) return
    expect(parsed.family).toBe(family)
    expect(requiredWriter(parsed)).toBe(writer)
  })

  it.each([
    ['', 'empty'],
    ['x'.repeat(257), 'too long'],
    ['other/thing', 'unknown family'],
    ['node/', 'no owner'],
    [`node/${alice.nodeId}`, 'no name'],
    [`node/${alice.nodeId}/`, 'empty name'],
    [`node/${alice.nodeId}/a b`, 'space in name'],
    [`node/not_an_id!/facts`, 'bad owner'],
    ['plan/', 'no epoch'],
    ['plan/01', 'leading zero'],
    ['plan/-1', 'negative'],
    ['plan/1/x', 'extra part'],
    ['plan/99999999999999999', 'beyond safe integers'],
    [`vote/1/2/${bob.nodeId}`, 'no ballot dot'],
    [`vote/1/2.xyz/${bob.nodeId}`, 'proposer not a node id'],
    [`vote/x/2.${alice.nodeId}/${bob.nodeId}`, 'epoch not decimal'],
    [`vote/1/2.${alice.nodeId}`, 'no voter']
  ])('rejects %s (%s)', (key) => {
    expect(isParsedKey(parseKey(key))).toBe(false)
  })

  it.each([['node', false], ['vote', true], ['plan', true]] as const)('%s is write-once: %s', (family, expected) => {
    expect(isWriteOnce(family)).toBe(expected)
  })
})
