/** Folds the spellings people mix up: case, '-' and '_' (`state_dir`, `controlPlanes`). */
export function folded (key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '')
}

/** Edit distance between two short keys (insert, delete, substitute). */
function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * The known key an unknown one was most likely meant to be, or undefined when none is close:
 * same letters once case and separators are ignored, or at most a third of its letters off.
 */
export function closestKey (unknown: string, known: readonly string[]): string | undefined {
  const target = folded(unknown)
  let best: { key: string, distance: number } | undefined
  for (const key of known) {
    const distance = editDistance(target, folded(key))
    if (best === undefined || distance < best.distance) best = { key, distance }
  }
  if (best === undefined) return undefined
  const allowed = Math.max(1, Math.floor(target.length / 3))
  return best.distance <= allowed ? best.key : undefined
}
