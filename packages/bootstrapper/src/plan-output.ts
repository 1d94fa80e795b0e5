import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Plan } from '@p2p-bootstrap/core'
import { BootstrapperError } from './errors.js'
import { nodePart, planView } from './plan-view.js'
import { writeFileAtomic } from './state/atomic-write.js'

/** Where, under `--root`, a node's view of the committed plan is written. */
export const PLAN_OUTPUT_PATH = 'etc/p2p-bootstrap/plan.json'

/** The bytes of a node's plan file: the plan without sealed secrets, plus this node's part. */
export function planOutputText (plan: Plan, nodeId: string): string {
  return `${JSON.stringify({ ...planView(plan), thisNode: nodePart(plan, nodeId) }, null, 2)}\n`
}

/**
 * Writes this node's output for a plan under `root` and returns the paths written. Idempotent: a
 * file that already holds the same bytes is left alone (a restart changes nothing).
 */
export async function writePlanOutput (root: string, plan: Plan, nodeId: string, signal?: AbortSignal): Promise<string[]> {
  const path = join(root, PLAN_OUTPUT_PATH)
  const text = planOutputText(plan, nodeId)
  try {
    const held = await readFile(path, 'utf8').catch(() => null)
    if (held !== text) {
      await mkdir(dirname(path), { recursive: true })
      await writeFileAtomic(path, text, { mode: 0o644, ...(signal === undefined ? {} : { signal }) })
    }
  } catch (err) {
    throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot write ${path}: ${(err as Error).message}; check that --root ${root} is writable`, { cause: err })
  }
  return [path]
}
