// A V8 heap snapshot attributed to packages: which package's code created, or holds, the memory of
// a live agent. The snapshot is the `.heapsnapshot` JSON V8 writes (Node's --heapsnapshot-signal).
//
// Attribution, in two steps:
// 1. Direct: a node is a package's when V8 says where it comes from. A Script object names its
//    URL (its `name` edge), a SharedFunctionInfo points at its Script, and the snapshot's
//    `locations` give a script id for every closure and for every object whose constructor is a
//    JavaScript function (V8 records the constructor's position). Closures link script ids to
//    URLs (closure → shared → script → name). The URL gives the package: the folder under
//    node_modules, the workspace package under packages/, or Node's own `node:` modules.
// 2. Held: every other node (strings, arrays, plain objects, contexts, bytecode, maps) goes to the
//    nearest directly attributed node above it in the dominator tree, that is the object that
//    alone keeps it alive. Its retained memory would be freed if that owner were. Nodes with no
//    attributed dominator (what the global object, Node's module cache or V8's roots hold
//    directly, V8's builtins and shapes) stay "unattributed"; they are reported, not guessed.
// Weak edges do not keep anything alive and are left out of the dominator tree.
import { readFile } from 'node:fs/promises'

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: readonly string[]
      readonly node_types: readonly [readonly string[], ...unknown[]]
      readonly edge_fields: readonly string[]
      readonly edge_types: readonly [readonly string[], ...unknown[]]
      readonly location_fields?: readonly string[]
    }
  }
  readonly nodes: readonly number[]
  readonly edges: readonly number[]
  readonly strings: readonly string[]
  readonly locations?: readonly number[]
}

/** Memory of one package in the snapshot. */
export interface PackageShare {
  readonly package: string
  /** Self size of the nodes V8 ties to the package directly (its functions, code, objects its classes made). */
  readonly directMB: number
  /** Directly attributed plus everything they alone keep alive (dominated), counted once across packages. */
  readonly heldMB: number
  readonly nodes: number
}

export interface HeapAttribution {
  readonly totalMB: number
  readonly nodes: number
  readonly packages: readonly PackageShare[]
  /** Self size of nodes with no attributed dominator. */
  readonly unattributedMB: number
  /** What the unattributed memory is, by V8's node type (and name for V8's internal kinds), largest first. */
  readonly unattributedKinds: ReadonlyArray<{ readonly kind: string, readonly MB: number }>
  /** Module source text V8 keeps (a Script's `source`): it compiles functions lazily from it. */
  readonly scriptSourcesMB: number
  /** Self size of nodes not reachable from the roots without weak edges (garbage at snapshot time). */
  readonly unreachableMB: number
}

const MB = 2 ** 20

/** The package a script URL belongs to, or null when it is no package (eval'd code, nameless scripts). */
export function packageOfUrl (url: string): string | null {
  if (url.startsWith('node:')) return 'node (its own JavaScript)'
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/')
    const [first, second] = parts
    if (first === undefined) return null
    return first.startsWith('@') && second !== undefined ? `${first}/${second}` : first
  }
  const workspace = /\/packages\/([^/]+)\//.exec(url)
  if (workspace?.[1] !== undefined) return `@p2p-bootstrap/${workspace[1]}`
  return url.startsWith('file:') || url.startsWith('/') ? 'other files' : null
}

export async function attributeHeapSnapshot (path: string): Promise<HeapAttribution> {
  const snapshot = JSON.parse(await readFile(path, 'utf8')) as Snapshot
  const meta = snapshot.snapshot.meta
  const { nodes, edges, strings } = snapshot
  const NF = meta.node_fields.length
  const EF = meta.edge_fields.length
  const typeField = meta.node_fields.indexOf('type')
  const nameField = meta.node_fields.indexOf('name')
  const sizeField = meta.node_fields.indexOf('self_size')
  const edgeCountField = meta.node_fields.indexOf('edge_count')
  const edgeTypeField = meta.edge_fields.indexOf('type')
  const edgeNameField = meta.edge_fields.indexOf('name_or_index')
  const edgeToField = meta.edge_fields.indexOf('to_node')
  const nodeTypes = meta.node_types[0]
  const edgeTypes = meta.edge_types[0]
  const WEAK = edgeTypes.indexOf('weak')
  const ELEMENT = edgeTypes.indexOf('element')
  const HIDDEN = edgeTypes.indexOf('hidden')
  const CLOSURE = nodeTypes.indexOf('closure')
  const count = nodes.length / NF

  const firstEdge = new Uint32Array(count + 1)
  for (let node = 0, edge = 0; node < count; node++) {
    firstEdge[node] = edge
    edge += (nodes[node * NF + edgeCountField] ?? 0) * EF
    firstEdge[node + 1] = edge
  }
  const at = (array: ArrayLike<number>, index: number): number => array[index] ?? 0
  const selfSize = (node: number): number => at(nodes, node * NF + sizeField)
  const edgeName = (edge: number): string | null => {
    const type = at(edges, edge + edgeTypeField)
    return type === ELEMENT || type === HIDDEN ? null : (strings[at(edges, edge + edgeNameField)] ?? null)
  }
  const target = (node: number, name: string): number | null => {
    for (let edge = at(firstEdge, node); edge < at(firstEdge, node + 1); edge += EF) {
      if (edgeName(edge) === name) return at(edges, edge + edgeToField) / NF
    }
    return null
  }
  const scriptUrl = (script: number): string | null => {
    const name = target(script, 'name')
    return name === null ? null : (strings[at(nodes, name * NF + nameField)] ?? null)
  }

  // Step 1: direct attribution. Package names are interned to small integers; 0 is "none".
  const packageNames: string[] = ['unattributed']
  const packageIndex = new Map<string, number>()
  const intern = (name: string | null): number => {
    if (name === null) return 0
    let index = packageIndex.get(name)
    if (index === undefined) { index = packageNames.length; packageNames.push(name); packageIndex.set(name, index) }
    return index
  }
  const direct = new Uint16Array(count)
  for (let node = 0; node < count; node++) {
    const script = target(node, 'script') ?? target(node, 'script_or_debug_info')
    if (script !== null) {
      const url = scriptUrl(script)
      if (url !== null) { direct[node] = intern(packageOfUrl(url)); direct[script] = direct[node] ?? 0 }
    }
  }
  let sourceBytes = 0
  for (let node = 0; node < count; node++) {
    // Only Scripts are attributed so far (the locations come next), so this skips a regexp's `source`.
    const source = target(node, 'source')
    if (source !== null && direct[node] !== 0) sourceBytes += selfSize(source)
  }
  const locations = snapshot.locations ?? []
  const LF = meta.location_fields?.length ?? 4
  const scriptOfId = new Map<number, number>()
  for (let index = 0; index < locations.length; index += LF) {
    const node = at(locations, index) / NF
    if (at(nodes, node * NF + typeField) !== CLOSURE) continue
    const shared = target(node, 'shared')
    if (shared !== null && direct[shared] !== 0) scriptOfId.set(at(locations, index + 1), direct[shared] ?? 0)
  }
  for (let index = 0; index < locations.length; index += LF) {
    const node = at(locations, index) / NF
    if (direct[node] === 0) direct[node] = scriptOfId.get(at(locations, index + 1)) ?? 0
  }

  // Step 2: dominators (Cooper, Harvey and Kennedy's iterative algorithm) over strong edges.
  const predecessors = strongPredecessors(count, firstEdge, edges, EF, edgeTypeField, edgeToField, NF, WEAK)
  const order = reversePostorder(count, firstEdge, edges, EF, edgeTypeField, edgeToField, NF, WEAK)
  const rank = new Int32Array(count).fill(-1)
  order.forEach((node, position) => { rank[node] = position })
  const dominator = new Int32Array(count).fill(-1)
  dominator[0] = 0
  const intersect = (first: number, second: number): number => {
    let a = first
    let b = second
    while (a !== b) {
      while (at(rank, a) > at(rank, b)) a = dominator[a] ?? 0
      while (at(rank, b) > at(rank, a)) b = dominator[b] ?? 0
    }
    return a
  }
  for (let changed = true; changed;) {
    changed = false
    for (const node of order) {
      if (node === 0) continue
      let chosen = -1
      for (let index = at(predecessors.first, node); index < at(predecessors.first, node + 1); index++) {
        const from = predecessors.list[index] ?? 0
        if (dominator[from] === -1) continue
        chosen = chosen === -1 ? from : intersect(from, chosen)
      }
      if (chosen !== -1 && dominator[node] !== chosen) { dominator[node] = chosen; changed = true }
    }
  }

  // Owners follow the dominator tree from the root down: reverse postorder visits a node's
  // immediate dominator before the node.
  const owner = new Uint16Array(count)
  const held = new Float64Array(packageNames.length)
  const directBytes = new Float64Array(packageNames.length)
  const nodeCounts = new Float64Array(packageNames.length)
  const unattributedKinds = new Map<string, number>()
  let total = 0
  let reachable = 0
  for (const node of order) {
    const own = direct[node] ?? 0
    owner[node] = own !== 0 ? own : (node === 0 ? 0 : (owner[dominator[node] ?? 0] ?? 0))
    const size = selfSize(node)
    held[owner[node] ?? 0] = (held[owner[node] ?? 0] ?? 0) + size
    directBytes[own] = (directBytes[own] ?? 0) + (own !== 0 ? size : 0)
    nodeCounts[owner[node] ?? 0] = (nodeCounts[owner[node] ?? 0] ?? 0) + 1
    if (owner[node] === 0) {
      const type = nodeTypes[at(nodes, node * NF + typeField)] ?? 'unknown'
      const name = strings[at(nodes, node * NF + nameField)] ?? ''
      // V8's internal kinds are named "system / X"; other names (string contents, class names) vary per object.
      const kind = name.startsWith('system /') || name.startsWith('(') ? `${type}: ${name.slice(0, 40)}` : type
      unattributedKinds.set(kind, (unattributedKinds.get(kind) ?? 0) + size)
    }
    reachable += size
  }
  for (let node = 0; node < count; node++) total += selfSize(node)
  const packages = packageNames.slice(1).map((name, index): PackageShare => ({
    package: name,
    directMB: (directBytes[index + 1] ?? 0) / MB,
    heldMB: (held[index + 1] ?? 0) / MB,
    nodes: nodeCounts[index + 1] ?? 0
  })).sort((a, b) => b.heldMB - a.heldMB)
  return {
    totalMB: total / MB,
    nodes: count,
    packages,
    unattributedMB: (held[0] ?? 0) / MB,
    unattributedKinds: [...unattributedKinds].map(([kind, bytes]) => ({ kind, MB: bytes / MB })).sort((a, b) => b.MB - a.MB),
    scriptSourcesMB: sourceBytes / MB,
    unreachableMB: (total - reachable) / MB
  }
}

/** Predecessor lists over strong edges, compressed: list[first[n] .. first[n + 1]) point at n. */
function strongPredecessors (count: number, firstEdge: Uint32Array, edges: readonly number[], EF: number, typeField: number, toField: number, NF: number, WEAK: number): { first: Uint32Array, list: Uint32Array } {
  const incoming = new Uint32Array(count + 1)
  for (let node = 0; node < count; node++) {
    for (let edge = firstEdge[node] ?? 0; edge < (firstEdge[node + 1] ?? 0); edge += EF) {
      if (edges[edge + typeField] === WEAK) continue
      const to = (edges[edge + toField] ?? 0) / NF
      incoming[to + 1] = (incoming[to + 1] ?? 0) + 1
    }
  }
  for (let node = 0; node < count; node++) incoming[node + 1] = (incoming[node + 1] ?? 0) + (incoming[node] ?? 0)
  const fill = incoming.slice(0, count)
  const list = new Uint32Array(incoming[count] ?? 0)
  for (let node = 0; node < count; node++) {
    for (let edge = firstEdge[node] ?? 0; edge < (firstEdge[node + 1] ?? 0); edge += EF) {
      if (edges[edge + typeField] === WEAK) continue
      const to = (edges[edge + toField] ?? 0) / NF
      list[fill[to] ?? 0] = node
      fill[to] = (fill[to] ?? 0) + 1
    }
  }
  return { first: incoming, list }
}

/** Nodes reachable from the root (node 0) over strong edges, in reverse postorder (iterative DFS). */
function reversePostorder (count: number, firstEdge: Uint32Array, edges: readonly number[], EF: number, typeField: number, toField: number, NF: number, WEAK: number): number[] {
  const visited = new Uint8Array(count)
  const postorder: number[] = []
  const stack: number[] = [0]
  const cursor = new Uint32Array(count)
  visited[0] = 1
  cursor[0] = firstEdge[0] ?? 0
  while (stack.length > 0) {
    const node = stack[stack.length - 1] ?? 0
    const edge = cursor[node] ?? 0
    if (edge >= (firstEdge[node + 1] ?? 0)) { postorder.push(node); stack.pop(); continue }
    cursor[node] = edge + EF
    if (edges[edge + typeField] === WEAK) continue
    const to = (edges[edge + toField] ?? 0) / NF
    if (visited[to] === 1) continue
    visited[to] = 1
    cursor[to] = firstEdge[to] ?? 0
    stack.push(to)
  }
  return postorder.reverse()
}
