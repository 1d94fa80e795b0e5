// Shared helpers for the CLI tests: an in-memory CliIo that records output, and a runner that
// spawns the real bin with the current Node and waits for it to close.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { ConfigError, parseConfigText } from '../src/config/index.js'
import type { CliIo } from '../src/index.js'

export interface CapturedIo extends CliIo {
  readonly stdout: () => string
  readonly stderr: () => string
}

export function capturedIo (options: { stdin?: string, nowMs?: number, shutdown?: AbortSignal } = {}): CapturedIo {
  let stdout = ''
  let stderr = ''
  return {
    writeOut: (text) => { stdout += text },
    writeErr: (text) => { stderr += text },
    readIn: async () => options.stdin ?? '',
    nowMs: () => options.nowMs ?? 0,
    shutdownSignal: () => options.shutdown ?? new AbortController().signal,
    stdout: () => stdout,
    stderr: () => stderr
  }
}

export const binPath = fileURLToPath(new URL('../bin/p2p-bootstrap.js', import.meta.url))
export const distMainPath = fileURLToPath(new URL('../dist/main.js', import.meta.url))

export interface BinResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the bin with `args`, feeding `stdin`, in environment `env`, and resolves when the process has closed. */
export async function runBin (args: readonly string[], stdin = '', env: Record<string, string | undefined> = process.env): Promise<BinResult> {
  return await runProcess(process.execPath, [binPath, ...args], stdin, env)
}

/** Runs `command` with `args` (a Node with its own flags, say), like `runBin`. */
export async function runProcess (command: string, args: readonly string[], stdin = '', env: Record<string, string | undefined> = process.env): Promise<BinResult> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  child.stdin.end(stdin)
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => { resolve(code) })
  })
  return { status, stdout, stderr }
}

/** The environment of the bin, without any token or config file from the caller's, plus `extra`. */
export function cleanEnv (extra: Record<string, string> = {}): Record<string, string | undefined> {
  const { P2PB_TOKEN: _token, P2PB_CONFIG_FILE: _file, ...rest } = process.env
  return { ...rest, ...extra }
}

/** Parses config `text`, expecting a `ConfigError` (code CLI_CONFIG), and returns its message. */
export function configErrorOf (text: string, source: string): string {
  try {
    parseConfigText(text, source)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).code).toBe('CLI_CONFIG')
    return (err as ConfigError).message
  }
  throw new Error('expected a ConfigError')
}
