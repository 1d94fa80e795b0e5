// Spawned `p2p-bootstrap run` agents for the CLI tests: the real bin as a child process with
// piped (non-terminal) output collected as text, and an afterEach that kills every agent still
// running and removes the scratch dirs, so that no test leaves a process or a file behind.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { binPath } from './helpers.js'

export interface Agent {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  stdout: string
  stderr: string
}

export interface Agents {
  /** Spawns `p2p-bootstrap run ...args`, with `env` laid over this process's environment. */
  readonly start: (args: readonly string[], env: Record<string, string | undefined>) => Agent
  /** A fresh directory under the system's temp dir, removed after the test. */
  readonly scratchDir: (prefix: string) => Promise<string>
}

/** Call at a test file's top level: registers the afterEach that cleans up what `start` and `scratchDir` made. */
export function useAgents (): Agents {
  const started: Agent[] = []
  const dirs: string[] = []
  afterEach(async () => {
    for (const agent of started.splice(0)) {
      if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL')
      await agent.exited
    }
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  return {
    start: (args, env) => {
      const child = spawn(process.execPath, [binPath, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
      const agent: Agent = { child, stdout: '', stderr: '', exited: new Promise((resolve) => { child.on('close', (code) => { resolve(code) }) }) }
      child.stdout?.setEncoding('utf8').on('data', (text: string) => { agent.stdout += text })
      child.stderr?.setEncoding('utf8').on('data', (text: string) => { agent.stderr += text })
      started.push(agent)
      return agent
    },
    scratchDir: async (prefix) => {
      const dir = await mkdtemp(join(tmpdir(), prefix))
      dirs.push(dir)
      return dir
    }
  }
}

/** The JSON lines an agent has written so far; a line still being written is left out. */
export function jsonLines (stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').slice(0, -1).map(line => JSON.parse(line) as Record<string, unknown>)
}
