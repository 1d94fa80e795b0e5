import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { attributeHeapSnapshot, packageOfUrl } from '../../benchmarks/lib/heap-snapshot.js'

const NODE_TYPES = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic', 'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape']
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']
const NODE_FIELDS = ['type', 'name', 'id', 'self_size', 'edge_count', 'detachedness']

interface Spec { type: string, name: string, size: number, edges: Array<[type: string, name: string, to: number]> }

/** A snapshot in V8's JSON layout, from readable node specs (edges name their target by index). */
function snapshotOf (specs: readonly Spec[], locations: ReadonlyArray<[node: number, scriptId: number]>): string {
  const strings: string[] = []
  const text = (value: string): number => {
    const found = strings.indexOf(value)
    if (found !== -1) return found
    strings.push(value)
    return strings.length - 1
  }
  const nodes: number[] = []
  const edges: number[] = []
  specs.forEach((spec, index) => {
    nodes.push(NODE_TYPES.indexOf(spec.type), text(spec.name), index * 2 + 1, spec.size, spec.edges.length, 0)
    for (const [type, name, to] of spec.edges) edges.push(EDGE_TYPES.indexOf(type), text(name), to * NODE_FIELDS.length)
  })
  return JSON.stringify({
    snapshot: {
      meta: {
        node_fields: NODE_FIELDS,
        node_types: [NODE_TYPES, 'string', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [EDGE_TYPES, 'string_or_number', 'node'],
        location_fields: ['object_index', 'script_id', 'line', 'column']
      }
    },
    nodes,
    edges,
    strings,
    locations: locations.flatMap(([node, scriptId]) => [node * NODE_FIELDS.length, scriptId, 0, 0])
  })
}

describe('packageOfUrl', () => {
  it('names the package of a script by where it lives', () => {
    expect(packageOfUrl('file:///srv/app/node_modules/@libp2p/noise/dist/src/index.js')).toBe('@libp2p/noise')
    expect(packageOfUrl('file:///srv/app/node_modules/libp2p/node_modules/yaml/dist/index.js')).toBe('yaml')
    expect(packageOfUrl('file:///srv/app/packages/core/dist/index.js')).toBe('@p2p-bootstrap/core')
    expect(packageOfUrl('node:internal/modules/esm/loader')).toBe('node (its own JavaScript)')
    expect(packageOfUrl('[eval]')).toBeNull()
  })
})

describe('attributeHeapSnapshot', () => {
  let dir: string | undefined
  afterEach(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

  it('gives a package its code, the objects its classes made and what they alone hold; shared and weak memory stays out', async () => {
    const url = 'file:///srv/app/node_modules/@scope/pkg/dist/index.js'
    const specs: Spec[] = [
      /* 0 */ { type: 'synthetic', name: '', size: 0, edges: [['property', 'f', 1], ['property', 'foo', 5], ['property', 'shared', 7], ['weak', 'gone', 8]] },
      /* 1 */ { type: 'closure', name: 'Foo', size: 32, edges: [['internal', 'shared', 2]] },
      /* 2 */ { type: 'code', name: 'Foo', size: 40, edges: [['internal', 'script', 3]] },
      /* 3 */ { type: 'code', name: 'system / Script', size: 50, edges: [['internal', 'name', 4], ['internal', 'source', 6]] },
      /* 4 */ { type: 'string', name: url, size: 60, edges: [] },
      /* 5 */ { type: 'object', name: 'Foo', size: 100, edges: [['property', 'data', 9], ['property', 'shared', 7]] },
      /* 6 */ { type: 'string', name: 'class Foo {}', size: 2000, edges: [] },
      /* 7 */ { type: 'string', name: 'held by two', size: 300, edges: [] },
      /* 8 */ { type: 'object', name: 'Object', size: 70, edges: [] },
      /* 9 */ { type: 'array', name: '', size: 1000, edges: [] }
    ]
    dir = await mkdtemp(join(tmpdir(), 'heap-snapshot-test-'))
    const path = join(dir, 'test.heapsnapshot')
    await writeFile(path, snapshotOf(specs, [[1, 7], [5, 7]]))

    const result = await attributeHeapSnapshot(path)

    expect(result.nodes).toBe(specs.length)
    expect(result.packages).toHaveLength(1)
    const share = result.packages[0]
    expect(share?.package).toBe('@scope/pkg')
    // The closure, its function info, its script and the object its constructor made, directly.
    expect((share?.directMB ?? 0) * 2 ** 20).toBe(32 + 40 + 50 + 100)
    // Plus what only they keep alive: the URL, the source and the object's array.
    expect((share?.heldMB ?? 0) * 2 ** 20).toBe(32 + 40 + 50 + 60 + 100 + 2000 + 1000)
    expect(result.scriptSourcesMB * 2 ** 20).toBe(2000)
    // The string two owners share is no one's; the weakly held object is garbage.
    expect(result.unattributedMB * 2 ** 20).toBe(300)
    expect(result.unattributedKinds).toEqual([{ kind: 'string', MB: 300 / 2 ** 20 }, { kind: 'synthetic', MB: 0 }])
    expect(result.unreachableMB * 2 ** 20).toBe(70)
    expect(result.totalMB * 2 ** 20).toBe(specs.reduce((sum, spec) => sum + spec.size, 0))
  })
})
