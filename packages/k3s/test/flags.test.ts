// Goal: the flag data the renderer checks every key against is self-consistent: one entry per
// name and alias, every critical and reserved key is a real flag, and the keys we write for each
// role exist for that role's command. Method: walk the tables.
import { describe, expect, it } from 'vitest'
import { CRITICAL_KEYS, K3S_FLAGS, RESERVED_KEYS, flagForArgument, isFlagOf } from '../src/index.js'

describe('the k3s flag list', () => {
  it('names every flag and alias once', () => {
    const names = K3S_FLAGS.flatMap((flag) => [flag.name, ...flag.aliases])
    expect(new Set(names).size).toBe(names.length)
  })

  it('knows every critical key as a server flag', () => {
    for (const key of CRITICAL_KEYS) expect(isFlagOf(key, 'server'), key).toBe(true)
  })

  it('knows every reserved key', () => {
    for (const key of Object.keys(RESERVED_KEYS)) expect(flagForArgument(key), key).toBeDefined()
  })

  it('has the keys each role is written with', () => {
    for (const key of ['node-ip', 'node-name', 'node-label', 'flannel-iface', 'server', 'token']) {
      expect(isFlagOf(key, 'server') && isFlagOf(key, 'agent'), key).toBe(true)
    }
    for (const key of ['cluster-init', 'agent-token', 'tls-san', 'write-kubeconfig-mode', 'disable']) {
      expect(isFlagOf(key, 'server') && !isFlagOf(key, 'agent'), key).toBe(true)
    }
  })
})
