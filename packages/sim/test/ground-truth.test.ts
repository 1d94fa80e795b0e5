// Goal: the S7 reference is right, so a replacement of a live server is caught and a real one is
// not. Method: hand-made histories of downs and partitions, asked whether node 0, replaced at
// 20 s with a fail-over delay of 5 s and a grace of 1 s, was down or cut off from a majority of
// the voters 0, 1, 2 for the whole delay.
import { describe, expect, it } from 'vitest'
import { GroundTruth } from '../src/ground-truth.js'

function fleet (): GroundTruth {
  const truth = new GroundTruth(4)
  for (let node = 0; node < 4; node++) truth.started(node, 100)
  return truth
}

const VOTERS = [0, 1, 2]

describe('ground truth for S7', () => {
  it('a node up and connected all along was not down: a problem', () => {
    expect(fleet().replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toMatch(/at most 0 ms before 20000 ms/)
  })

  it('a node down since 10 s, still down: no problem', () => {
    const truth = fleet()
    truth.crashed(0, 10_000)
    expect(truth.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toBeNull()
  })

  it('down for 4 s only: a problem', () => {
    const truth = fleet()
    truth.crashed(0, 15_500)
    truth.started(0, 19_500)
    expect(truth.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toMatch(/at most 4000 ms/)
  })

  it('down for 6 s, back 0.5 s before the commit (within the grace): no problem; 3 s before: a problem', () => {
    const recent = fleet()
    recent.crashed(0, 13_500)
    recent.started(0, 19_500)
    expect(recent.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toBeNull()
    const old = fleet()
    old.crashed(0, 11_000)
    old.started(0, 17_000)
    expect(old.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).not.toBeNull()
  })

  it('cut off from a majority of the voters counts; cut off from a minority does not', () => {
    const alone = fleet()
    alone.partitioned([[0, 3], [1, 2]], 12_000)
    expect(alone.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toBeNull()
    const withOne = fleet()
    withOne.partitioned([[0, 1], [2, 3]], 12_000)
    expect(withOne.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).not.toBeNull()
  })

  it('non-transitive cuts count link by link: cut from both other voters is cut off, from one is not', () => {
    const both = fleet()
    both.partitioned(null, 12_000, [[0, 1], [0, 2]])
    expect(both.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toBeNull()
    const one = fleet()
    one.partitioned(null, 12_000, [[0, 2]])
    expect(one.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).not.toBeNull()
  })

  it('a partition and a crash of the voters it could reach join into one stretch', () => {
    const truth = fleet()
    truth.partitioned([[0, 1], [2, 3]], 12_000)
    truth.crashed(1, 14_000)
    truth.partitioned(null, 14_000)
    truth.crashed(2, 14_000)
    // From 14 s node 0 reaches only itself: voters 1 and 2 are down. Before that, 12–14 s, only 1.
    expect(truth.replacementProblem(0, VOTERS, 20_000, 5_000, 1_000)).toBeNull()
    expect(truth.replacementProblem(0, VOTERS, 18_500, 5_000, 1_000)).not.toBeNull()
  })
})
