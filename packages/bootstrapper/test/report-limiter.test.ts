// Goal: reports a peer can cause at will are rate-limited, a count per interval with a sample, so
// 2 MB of junk cannot write thousands of log lines. Method: a ReportLimiter on a clock the test
// moves; 1,000 rejections of one code and a few of another within one interval, then the end of it.
import { describe, expect, it } from 'vitest'
import { BootstrapperError } from '../src/errors.js'
import { ReportLimiter } from '../src/report-limiter.js'

describe('report limiter', () => {
  it('passes the first few per code and interval, then one line counting the rest with a sample', () => {
    let nowMs = 0
    const emitted: BootstrapperError[] = []
    const limiter = new ReportLimiter({ intervalMs: 10_000, perIntervalMax: 10, emit: (error) => { emitted.push(error) }, now: () => nowMs })
    for (let index = 0; index < 1_000; index++) {
      limiter.offer(new BootstrapperError('BOOTSTRAP_LEDGER_REJECTED', `rejected entry ${index}`))
      nowMs += 5
    }
    for (let index = 0; index < 3; index++) limiter.offer(new BootstrapperError('BOOTSTRAP_FRAME_REJECTED', `bad frame ${index}`))
    expect(emitted.map(error => error.message)).toEqual([
      ...Array.from({ length: 10 }, (_, index) => `rejected entry ${index}`),
      'bad frame 0', 'bad frame 1', 'bad frame 2'
    ])
    limiter.flush() // the interval is not over yet
    expect(emitted).toHaveLength(13)
    nowMs = 10_000
    limiter.flush()
    expect(emitted).toHaveLength(14)
    expect(emitted[13]?.code).toBe('BOOTSTRAP_LEDGER_REJECTED')
    expect(emitted[13]?.message).toBe('990 more like this in the last 10 s, not logged one by one (sample: rejected entry 10)')
    // A new interval starts afresh.
    limiter.offer(new BootstrapperError('BOOTSTRAP_LEDGER_REJECTED', 'rejected entry again'))
    expect(emitted[14]?.message).toBe('rejected entry again')
  })
})
