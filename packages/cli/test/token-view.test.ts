// Goal: the pure token view shows exactly the non-secret fields, with absent ones as null in
// JSON and '-' for people. Method: an it.each table of token shapes with hand-written expected
// lines (the cluster id taken from the core's deriveKeys, the only value the view does not copy).
import { deriveKeys, generateToken } from '@p2p-bootstrap/core'
import type { GenerateTokenOptions } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { formatTokenView, tokenView } from '../src/token-view.js'

const secret = new Uint8Array(32).fill(9)
const clusterId = deriveKeys(generateToken({ randomBytes: () => secret })).clusterId

describe('tokenView', () => {
  it.each<[string, GenerateTokenOptions, string[]]>([
    ['no shape', {}, ['name            -', 'expect          -', 'control planes  -', 'vip             -', 'created         -']],
    ['full shape', { name: 'edge', expect: 7, controlPlanes: 5, vip: '192.168.1.5', createdMs: 0 },
      ['name            edge', 'expect          7', 'control planes  5', 'vip             192.168.1.5', 'created         1970-01-01T00:00:00.000Z']]
  ])('%s', (_label, options, middle) => {
    const view = tokenView(generateToken({ ...options, randomBytes: () => secret }))
    expect(Object.keys(view)).toEqual(['version', 'clusterId', 'name', 'expect', 'controlPlanes', 'vip', 'created', 'origin'])
    expect(formatTokenView(view)).toBe([
      'version         1',
      `cluster id      ${clusterId}`,
      ...middle,
      'origin          native',
      ''
    ].join('\n'))
  })
})
