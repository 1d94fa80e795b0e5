// Goal: node names are valid, unique per node id and stable (S4) whatever host name a machine
// reports. Method: a table of awkward host names, checked against the DNS-label rule and the
// 63-character limit; two ids with one host name must differ.
import { describe, expect, it } from 'vitest'
import { nodeNameFor } from '../src/index.js'
import { nodeIds } from './fixtures.js'

const [first, second] = nodeIds(2)
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

describe('nodeNameFor', () => {
  it.each([
    ['node-1.lab.example', /^node-1-[0-9a-f]{8}$/],
    ['Kairos_Node', /^kairos-node-[0-9a-f]{8}$/],
    ['--weird..', /^weird-[0-9a-f]{8}$/],
    ['', /^node-[0-9a-f]{8}$/],
    [undefined, /^node-[0-9a-f]{8}$/],
    ['x'.repeat(100), /^x{54}-[0-9a-f]{8}$/],
    ['a'.repeat(53) + '-b', /^a{53}-[0-9a-f]{8}$/]
  ])('%j', (hostname, pattern) => {
    const name = nodeNameFor(first ?? '', hostname)
    expect(name).toMatch(pattern)
    expect(name).toMatch(DNS_LABEL)
    expect(name.length).toBeLessThanOrEqual(63)
  })

  it('differs between nodes with one host name, and never changes for one node', () => {
    expect(nodeNameFor(first ?? '', 'kairos')).not.toBe(nodeNameFor(second ?? '', 'kairos'))
    expect(nodeNameFor(first ?? '', 'kairos')).toBe(nodeNameFor(first ?? '', 'kairos'))
  })
})
