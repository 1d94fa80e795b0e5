#!/usr/bin/env node
// Runs a command inside a fresh Linux network namespace with only a loopback interface, so that
// mDNS multicast sent by tests never leaves this machine. The namespace has a unique name per
// run and is removed in every exit path. Where namespaces cannot be made (not root, no iproute2),
// the command runs as is and tests that need mDNS skip with that reason (P2PB_NETNS unset).
//
// usage: node test/helpers/run-in-netns.mjs -- <command> [args...]
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

const separator = process.argv.indexOf('--')
const command = separator >= 0 ? process.argv.slice(separator + 1) : process.argv.slice(2)
if (command.length === 0) {
  console.error('run-in-netns: nothing to run; usage: run-in-netns.mjs -- <command> [args...]')
  process.exit(2)
}

function ip (...args) {
  return spawnSync('ip', args, { encoding: 'utf8' })
}

function canMakeNamespaces () {
  if (process.env.P2PB_NETNS !== undefined) return 'already inside namespace ' + process.env.P2PB_NETNS
  if (process.platform !== 'linux') return 'not Linux'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root'
  const probe = ip('netns', 'list')
  if (probe.error !== undefined || probe.status !== 0) return 'iproute2 `ip netns` is unavailable'
  return undefined
}

function runPlain (why) {
  if (process.env.P2PB_NETNS === undefined) {
    console.error(`run-in-netns: running without an isolated network namespace (${why}); tests that need mDNS will be skipped`)
  }
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' })
  child.on('exit', (code, signal) => process.exit(code ?? (signal !== null ? 1 : 0)))
}

const reason = canMakeNamespaces()
if (reason !== undefined) {
  runPlain(reason)
} else {
  const name = `p2pb-t${process.pid}-${randomBytes(3).toString('hex')}`
  let removed = false
  const removeNamespace = () => {
    if (removed) return
    removed = true
    ip('netns', 'delete', name)
  }
  const setup = [
    ['netns', 'add', name],
    ['-n', name, 'link', 'set', 'lo', 'up'],
    ['-n', name, 'link', 'set', 'lo', 'multicast', 'on'],
    ['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo']
  ]
  for (const args of setup) {
    const result = ip(...args)
    if (result.status !== 0) {
      console.error(`run-in-netns: 'ip ${args.join(' ')}' failed: ${result.stderr.trim()}`)
      removeNamespace()
      process.exit(1)
    }
  }
  const child = spawn('ip', ['netns', 'exec', name, ...command], {
    stdio: 'inherit',
    env: { ...process.env, P2PB_NETNS: name }
  })
  const forward = (signal) => {
    child.kill(signal)
  }
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  process.on('exit', removeNamespace)
  child.on('exit', (code, signal) => {
    removeNamespace()
    process.exit(code ?? (signal !== null ? 1 : 0))
  })
}
