// Goal: the README's main command (`npm start` → `p2p-bootstrap demo`) works end to end: it forms
// the private overlay of local nodes on distinct loopback addresses, shows every node connected,
// shows an outsider refused, and exits 0. Method: run the real bin as a child process (as
// `npm start` does) and read its output; then check that the child left no process behind.
import { describe, expect, it } from 'vitest'
import { runBin } from './helpers.js'

describe('p2p-bootstrap demo', () => {
  it('forms the overlay on loopback, refuses an outsider and exits 0', async () => {
    const result = await runBin(['demo', '--nodes', '4', '--timeout', '45'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^token: p2pb1\./)
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      expect(result.stdout).toContain(`on ${address}:`)
    }
    const table = result.stdout.split('private overlay formed')[1] ?? ''
    const rows = table.split('\n').filter(line => /^node \d/.test(line))
    expect(rows).toHaveLength(4)
    for (const row of rows) expect(row).toMatch(/127\.0\.0\.\d+\s+\S+\s+node \d/)
    expect(result.stdout).toContain('outsider with another token was refused')
  })

  it.each([['--nodes', '1'], ['--nodes', 'ten'], ['--timeout', '0']])('rejects %s %s with a usage error', async (flag, value) => {
    const result = await runBin(['demo', flag, value])
    expect(result.status).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })
})
