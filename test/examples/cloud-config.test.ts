// Goal: the example config files in examples/cloud-config/ are what a user can put on a machine
// as they are, token aside. Method: each file, with a generated token in place of its
// placeholder, goes through the real reader (`parseConfigText`, then `resolveRunSettings` as
// `p2p-bootstrap run --config` does, then the bootstrapper's own `resolveOptions`), and what the
// comments promise is checked on the result. The machines' node-ip is given as `--node-ip` would
// give it, since this host has no eth0. The commented-out snippets are uncommented and read too.
import { generateAdminKey, resolveOptions } from '@p2p-bootstrap/bootstrapper'
import type { ResolvedOptions } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { parseConfigText, resolveRunSettings } from '../../packages/cli/src/config/index.js'
import type { RunFlags } from '../../packages/cli/src/config/index.js'
import { kairosToken, readExample, TOKEN_PLACEHOLDER, withToken } from './kit.js'

const NODE_IP = '192.168.1.21'

/** A config file read the way `p2p-bootstrap run --config FILE --node-ip …` reads it. */
function resolveExample (text: string, source: string, flags: RunFlags = { nodeIp: NODE_IP }): ResolvedOptions {
  const file = parseConfigText(text, source)
  const settings = resolveRunSettings(flags, file, {})
  return resolveOptions(settings.options)
}

/** Removes the `# ` in front of the lines that start with `prefix` (after the comment sign). */
function uncomment (text: string, prefixes: readonly string[]): string {
  return text.split('\n').map((line) => {
    const match = /^(\s*)# ?(.*)$/.exec(line)
    const body = match?.[2]
    if (match === null || body === undefined) return line
    return prefixes.some(prefix => body.trimStart().startsWith(prefix)) ? `${match[1] ?? ''}${body}` : line
  }).join('\n')
}

describe('examples/cloud-config', () => {
  it('every example has exactly one token placeholder', async () => {
    for (const name of ['single-node.yaml', 'ha-3cp.yaml', 'kairos.yaml']) {
      expect((await readExample(`cloud-config/${name}`)).split(TOKEN_PLACEHOLDER), name).toHaveLength(2)
    }
  })

  it('single-node.yaml: one node that is its own quorum, with a cluster-wide k3s key', async () => {
    const text = withToken(await readExample('cloud-config/single-node.yaml'), formatToken(generateToken()))
    const options = resolveExample(text, 'single-node.yaml')
    expect(options.shape).toEqual({ expect: 1, controlPlanes: 1, name: 'lab' })
    expect(options.node.interface).toBe('eth0')
    expect(options.node.nodeIp).toBe(NODE_IP)
    expect(options.k3s.clusterK3s).toEqual({ disable: ['traefik'] })
    expect(options.k3s.nodeK3s).toEqual({})
    // The defaults a first-boot machine runs with.
    expect(options.stateDir).toBe('/var/lib/p2p-bootstrap')
    expect(options.root).toBe('/')
    expect(options.listen).toEqual(['/ip4/0.0.0.0/tcp/4001'])
    expect([options.mdns, options.dht, options.dryRun]).toEqual([true, true, false])
  })

  it('ha-3cp.yaml: expect 5, three control planes, a VIP, a critical and a node-local k3s key', async () => {
    const template = await readExample('cloud-config/ha-3cp.yaml')
    const options = resolveExample(withToken(template, formatToken(generateToken())), 'ha-3cp.yaml')
    expect(options.shape).toEqual({ expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' })
    expect(options.subnet).toBe('192.168.1.0/24')
    expect(options.k3s.clusterK3s).toEqual({ disable: ['traefik'] })
    expect(options.k3s.nodeK3s).toEqual({ 'kubelet-arg': ['max-pods=150'] })
    expect(options.k3s.kubeVip).toEqual({ image: 'ghcr.io/kube-vip/kube-vip:v0.9.2' })
    expect(options.apply.commandTimeoutMs).toBe(300_000)
    expect(options.adminKeys).toEqual([]) // commented out: off by default

    // The token made by the command in the file's comment carries the same shape: accepted.
    const generateLine = /p2p-bootstrap token generate (.*)$/m.exec(template)?.[1] ?? ''
    expect(generateLine).toBe('--expect 5 --control-planes 3 --vip 192.168.1.50 --name shop-floor')
    const shaped = formatToken(generateToken({ expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' }))
    expect(resolveExample(withToken(template, shaped), 'ha-3cp.yaml').shape).toEqual(options.shape)
    // A token that says otherwise is refused, as the comment says.
    const other = formatToken(generateToken({ expect: 7 }))
    expect(() => resolveExample(withToken(template, other), 'ha-3cp.yaml')).toThrow(/the token says expect = 7 but the options say 5/)
  })

  it('ha-3cp.yaml: the commented admin-keys, labels and metrics snippets are valid once filled in', async () => {
    const admin = await generateAdminKey()
    let text = withToken(await readExample('cloud-config/ha-3cp.yaml'), formatToken(generateToken()))
    text = uncomment(text, ['admin-keys:', '- p2pb-admin1:', 'labels:', 'metrics:'])
    text = text.replace(/p2pb-admin1:12D3KooW\.\.\./, admin.publicKey)
    const options = resolveExample(text, 'ha-3cp.yaml')
    expect(options.adminKeys).toEqual([admin.publicKey])
    expect(options.node.labels).toEqual({ 'p2p-bootstrap.io/control-plane': 'true' })
    expect(options.observe).toEqual({ host: '127.0.0.1', port: 9464 })
  })

  it('kairos.yaml: a Kairos cloud-config read unchanged, with a Kairos token', async () => {
    const text = withToken(await readExample('cloud-config/kairos.yaml'), kairosToken())
    const options = resolveExample(text, 'kairos.yaml')
    expect(options.token.origin).toBe('kairos')
    // master_nodes 2 = masters beside the init node: three control planes.
    expect(options.shape).toEqual({ expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' })
    expect(options.node.interface).toBe('eth0')
    expect(options.dht).toBe(true)
    // --disable=traefik is critical in k3s, so cluster-wide; the kubelet arg stays this node's.
    expect(options.k3s.clusterK3s).toEqual({ disable: ['traefik'] })
    expect(options.k3s.kairosArgs).toEqual({ server: ['--kubelet-arg=max-pods=150'], agent: ['--kubelet-arg=max-pods=150'] })
  })

  it('kairos.yaml: also takes a native token, and its ignored blocks are really ignored', async () => {
    const template = await readExample('cloud-config/kairos.yaml')
    for (const block of ['hostname:', 'users:', 'install:']) expect(template).toMatch(new RegExp(`^${block}`, 'm'))
    const options = resolveExample(withToken(template, formatToken(generateToken())), 'kairos.yaml')
    expect(options.token.origin).not.toBe('kairos')
    expect(options.shape.controlPlanes).toBe(3)
  })
})
