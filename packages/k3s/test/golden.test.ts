// Goal: a reviewer can read what a real 3-server fleet gets, and any change to the rendered bytes
// shows as a diff of test/golden/*.yaml. Method: render the init server, a joining server and a
// worker of a fixed IPv4 fleet and compare with the committed files; run with UPDATE_GOLDEN=1 to
// rewrite them after an intended change, then review the diff like code.
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderNode } from '../src/index.js'
import type { RenderedOutput } from '../src/index.js'
import { buildFleet, fileOf } from './fixtures.js'

const GOLDEN_DIR = new URL('./golden/', import.meta.url)
const update = process.env.UPDATE_GOLDEN === '1'

const fleet = buildFleet({ controlPlanes: 3, workers: 2, vipFamily: 4 })
const outputs = fleet.inputs.map(renderNode)
const byRole = (predicate: (output: RenderedOutput) => boolean): RenderedOutput => {
  const found = outputs.find(predicate)
  if (found === undefined) throw new Error('the fleet lacks a node of this kind')
  return found
}

const cases: Array<{ file: string, content: string }> = [
  { file: 'init-server.config.yaml', content: fileOf(byRole((output) => output.init), '/config.yaml') ?? '' },
  { file: 'joining-server.config.yaml', content: fileOf(byRole((output) => output.role === 'control-plane' && !output.init), '/config.yaml') ?? '' },
  { file: 'worker.config.yaml', content: fileOf(byRole((output) => output.role === 'worker'), '/config.yaml') ?? '' },
  { file: 'kube-vip.yaml', content: fileOf(byRole((output) => output.init), '/kube-vip.yaml') ?? '' }
]

describe('golden output of a 3-server, 2-worker IPv4 fleet', () => {
  it.each(cases)('$file', ({ file, content }) => {
    expect(content.length).toBeGreaterThan(0)
    const path = new URL(file, GOLDEN_DIR)
    if (update) writeFileSync(path, content)
    expect(content).toBe(readFileSync(path, 'utf8'))
  })
})
