// Goal: once a command has returned, the process ends with its status even if a stray handle
// would keep it alive, and ends at once (no grace wait) when nothing does.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const MODULE = fileURLToPath(new URL('../src/process-exit.ts', import.meta.url))

async function runScript (body: string): Promise<{ status: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { exitWhenDone } from ${JSON.stringify(MODULE)}\n${body}`], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const status = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
  return { status, stderr }
}

describe('exitWhenDone', () => {
  it('ends a process that a stray interval would keep alive, with the status and a note', async () => {
    const result = await runScript('setInterval(() => {}, 1000)\nexitWhenDone(3, 200)')
    expect(result.status).toBe(3)
    expect(result.stderr).toContain('still running 0.2 s after the command finished; exiting with status 3')
  })

  it('lets a process with nothing pending end on its own, silently', async () => {
    const result = await runScript('exitWhenDone(4, 60000)')
    expect(result.status).toBe(4)
    expect(result.stderr).toBe('')
  })
})
