// Where a node process spent its CPU: a V8 `.cpuprofile` (from `node --cpu-prof`) summarised as
// self time per package (a dependency under node_modules, one of ours under packages/, or Node's
// own internals, with its module loader apart), plus V8's pseudo-frames: (garbage collector),
// (program) = V8 itself (compiling, outside any JS frame), (idle) = waiting. Enough to say which
// phase of a start-up takes the time.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string, readonly url: string }
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples?: readonly number[]
  readonly timeDeltas?: readonly number[]
}

export interface ProfileShare {
  readonly where: string
  readonly ms: number
  /** Share of the busy (non-idle) time. */
  readonly share: number
}

export interface ProfileSummary {
  readonly wallMs: number
  readonly busyMs: number
  readonly top: readonly ProfileShare[]
}

/** The package a frame's URL belongs to, or its pseudo-frame name. */
function whereOf (frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  // The module loader is where start-up goes: resolving, reading and linking every import.
  if (url.startsWith('node:internal/modules/')) return 'node: module loader'
  if (url.startsWith('node:')) return 'node: other internals'
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (dependency?.[1] !== undefined) return dependency[1]
  const ours = /packages\/([^/]+)\//.exec(url)
  if (ours?.[1] !== undefined) return `@p2p-bootstrap/${ours[1]}`
  return url
}

/**
 * A part of the profile, in ms before its end: `[endMs - fromEndMs, endMs - toEndMs]`. The end is
 * when the process stopped profiling (at exit), so a caller that knows how long the stop took can
 * pick out what came before it (an idle window, say).
 */
export interface ProfileWindow {
  readonly fromEndMs: number
  readonly toEndMs: number
}

/** Self time per package of one profile (or of a window of it), largest first. */
export function summariseProfile (profile: CpuProfile, topCount = 8, window?: ProfileWindow): ProfileSummary {
  const whereById = new Map(profile.nodes.map(node => [node.id, whereOf(node.callFrame)]))
  const msByWhere = new Map<string, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  // Times in the profile are microseconds of a monotonic clock; samples are placed by summing deltas.
  const fromUs = window === undefined ? Number.NEGATIVE_INFINITY : profile.endTime - window.fromEndMs * 1000
  const toUs = window === undefined ? Number.POSITIVE_INFINITY : profile.endTime - window.toEndMs * 1000
  let atUs = profile.startTime
  for (let index = 0; index < samples.length; index++) {
    atUs += deltas[index] ?? 0
    if (atUs < fromUs || atUs > toUs) continue
    const where = whereById.get(samples[index] ?? -1) ?? '(unknown)'
    // timeDeltas[i] is the time before sample i; attributing it to sample i is V8's own convention.
    msByWhere.set(where, (msByWhere.get(where) ?? 0) + (deltas[index] ?? 0) / 1000)
  }
  const idleMs = msByWhere.get('(idle)') ?? 0
  msByWhere.delete('(idle)')
  const busyMs = [...msByWhere.values()].reduce((sum, ms) => sum + ms, 0)
  const top = [...msByWhere.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topCount)
    .map(([where, ms]) => ({ where, ms: Math.round(ms), share: busyMs === 0 ? 0 : Math.round(1000 * ms / busyMs) / 1000 }))
  return { wallMs: Math.round(busyMs + idleMs), busyMs: Math.round(busyMs), top }
}

/** Reads the one `.cpuprofile` a process wrote into `dir`, or null when there is none. */
export async function readProfile (dir: string, window?: ProfileWindow): Promise<ProfileSummary | null> {
  let files: string[]
  try {
    files = (await readdir(dir)).filter(file => file.endsWith('.cpuprofile'))
  } catch {
    return null
  }
  const file = files[0]
  if (file === undefined) return null
  return summariseProfile(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile, 8, window)
}
