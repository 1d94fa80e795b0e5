// Goal: the seeded generator is deterministic per seed, stays in range, and is roughly uniform,
// so simulator runs replay exactly and faults are drawn fairly.
import { describe, expect, it } from 'vitest'
import { Prng } from '../src/prng.js'

describe('Prng', () => {
  it('replays the same sequence for the same seed and differs for another', () => {
    const a = new Prng(42)
    const b = new Prng(42)
    const c = new Prng(43)
    const seqA = Array.from({ length: 8 }, () => a.nextU32())
    const seqB = Array.from({ length: 8 }, () => b.nextU32())
    const seqC = Array.from({ length: 8 }, () => c.nextU32())
    expect(seqA).toEqual(seqB)
    expect(seqA).not.toEqual(seqC)
  })

  it.each([[0, 0], [0, 1], [-5, 5], [10, 1000], [0, 2 ** 40]])('intInclusive(%d, %d) stays in range', (min, max) => {
    const prng = new Prng(7)
    for (let i = 0; i < 500; i++) {
      const x = prng.intInclusive(min, max)
      expect(x).toBeGreaterThanOrEqual(min)
      expect(x).toBeLessThanOrEqual(max)
    }
  })

  it('is roughly uniform over a small range', () => {
    const prng = new Prng(1)
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 40_000; i++) { const k = prng.intInclusive(0, 3); counts[k] = (counts[k] ?? 0) + 1 }
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(600)
  })

  it('chance honours its ratio at the edges and in between', () => {
    const prng = new Prng(3)
    expect(prng.chance(0, 10)).toBe(false)
    expect(prng.chance(10, 10)).toBe(true)
    let hits = 0
    for (let i = 0; i < 10_000; i++) if (prng.chance(3, 10)) hits++
    expect(Math.abs(hits - 3000)).toBeLessThan(300)
  })

  it('shuffle keeps the elements', () => {
    const prng = new Prng(9)
    const items = [1, 2, 3, 4, 5, 6, 7]
    expect(prng.shuffle(items).sort()).toEqual(items)
  })

  it('sample draws distinct items, at most as many as there are, and reaches every item', () => {
    const prng = new Prng(11)
    const items = Array.from({ length: 20 }, (_, index) => index)
    const drawn = new Set<number>()
    for (let round = 0; round < 200; round++) {
      const picked = prng.sample(items, 3)
      expect(picked).toHaveLength(3)
      expect(new Set(picked).size).toBe(3)
      for (const item of picked) {
        expect(items).toContain(item)
        drawn.add(item)
      }
    }
    expect(drawn.size).toBe(items.length)
    expect(prng.sample(items, 50).sort((a, b) => a - b)).toEqual(items)
    expect(prng.sample([], 3)).toEqual([])
    expect(items).toEqual(Array.from({ length: 20 }, (_, index) => index))
  })
})
