// Goal: a config file, in the native spelling or as an unchanged Kairos cloud-config, reads into
// one FileConfig, and every bad file gives one error naming the file, the line, the key path and
// the fix. Method: YAML texts written here with known line numbers, read by the pure
// parseConfigText; file-system cases (missing, directory, oversized, not UTF-8) use a mkdtemp dir.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CONFIG_FILE_BYTES_MAX, ConfigError, loadConfigFile, parseConfigText, resolveRunSettings } from '../src/config/index.js'
import { configErrorOf } from './helpers.js'

const SOURCE = '/etc/p2p-bootstrap.yaml'
const TOKEN = 'p2pb1.c2VjcmV0LXRleHQtZm9yLXRlc3RzLW9ubHk.abcd1234'
const PEER = '/ip4/192.168.1.10/tcp/4001/p2p/12D3KooWLRPJAA5o6Z6ZGCbnpgngjzKXsgn3cMfDsFbajgRkLEdW'

const nativeText = `# p2p-bootstrap config
token: ${TOKEN}
state-dir: /var/lib/p2p-bootstrap
root: /
profile: wan
listen: [/ip4/0.0.0.0/tcp/4001]
peers:
  - ${PEER}
mdns: false
dht: true
cluster:
  expect: 5
  control-planes: 3
  vip: 192.168.1.50
  name: shop-floor
node:
  ip: 192.168.1.21
  interface: eth0
  role: control-plane
  hostname: edge-21
  labels: { zone: hall-a, example.com/rack: "7" }
k3s:
  cluster-cidr: 10.42.0.0/16
  disable: [traefik]
`

/** Parses `text`, expecting a ConfigError, and returns its message. */
function errorOf (text: string): string {
  return configErrorOf(text, SOURCE)
}

describe('native spelling', () => {
  it('reads every key into the normalised shape', () => {
    expect(parseConfigText(nativeText, SOURCE)).toStrictEqual({
      source: SOURCE,
      token: TOKEN,
      stateDir: '/var/lib/p2p-bootstrap',
      root: '/',
      profile: 'wan',
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      peers: [PEER],
      mdns: false,
      dht: true,
      shape: { expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' },
      node: {
        nodeIp: '192.168.1.21',
        interface: 'eth0',
        role: 'control-plane',
        hostname: 'edge-21',
        labels: { zone: 'hall-a', 'example.com/rack': '7' }
      },
      k3s: { extra: { 'cluster-cidr': '10.42.0.0/16', disable: ['traefik'] } }
    })
  })

  it('gives the bootstrapper options the file describes', () => {
    const settings = resolveRunSettings({}, parseConfigText(nativeText, SOURCE), {})
    expect(settings.options).toStrictEqual({
      token: TOKEN,
      stateDir: '/var/lib/p2p-bootstrap',
      root: '/',
      listen: ['/ip4/0.0.0.0/tcp/4001'],
      peers: [PEER],
      mdns: false,
      dht: true,
      shape: { expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' },
      node: { nodeIp: '192.168.1.21', interface: 'eth0', labels: { zone: 'hall-a', 'example.com/rack': '7' }, role: 'control-plane', hostname: 'edge-21' },
      profile: 'wan',
      k3s: { extra: { 'cluster-cidr': '10.42.0.0/16', disable: ['traefik'] } }
    })
    expect(settings.configSource).toBe(SOURCE)
    expect(settings.tokenSource).toBe('file')
  })

  it('reads an empty file as a config that sets nothing', () => {
    expect(parseConfigText('', SOURCE)).toStrictEqual({ source: SOURCE })
    expect(parseConfigText('# only a comment\n', SOURCE)).toStrictEqual({ source: SOURCE })
  })
})

// A Kairos cloud-config as a Kairos user writes it; the comments show its line numbers.
const kairosText = `#cloud-config
hostname: edge-{{ trunc 4 .MachineID }}
users:
  - name: kairos
    passwd: kairos
    groups: [admin]
    ssh_authorized_keys:
      - github:edge-admin
install:
  auto: true
  device: auto
  reboot: true
stages:
  boot:
    - name: "Raise map count"
      sysctl:
        vm.max_map_count: "262144"
k3s:
  enabled: true
  args:
    - --disable=traefik
  env:
    K3S_KUBECONFIG_MODE: "0644"
k3s-agent:
  args: [--node-label=tier=edge]
kubevip:
  eip: 192.168.1.50
  interface: eth0
  manifest_url: https://example.invalid/kube-vip.yaml
  static_pod: false
p2p:
  network_id: shop-floor
  network_token: ${TOKEN}
  role: master
  minimum_nodes: 5
  dns: true
  loglevel: debug
  vpn:
    create: false
    use: false
    env: { EDGEVPNMTU: "1300" }
  auto:
    enable: true
    ha:
      enable: true
      master_nodes: 2
`

const equivalentNativeText = `token: ${TOKEN}
cluster:
  expect: 5
  control-planes: 3
  vip: 192.168.1.50
  name: shop-floor
node:
  interface: eth0
  role: control-plane
`

describe('Kairos spelling', () => {
  it('reads a cloud-config unchanged into the same options as the equivalent native file', () => {
    const kairos = parseConfigText(kairosText, SOURCE)
    const native = parseConfigText(equivalentNativeText, SOURCE)
    const { k3s, warnings, ...kairosRest } = kairos
    expect(kairosRest).toStrictEqual(native)
    // Each key it accepts but does not act on is named, in file order, with what to do instead.
    expect(warnings?.map(warning => /^config \S+ line (\d+): (\S+) /.exec(warning)?.slice(1))).toEqual([
      ['22', 'k3s.env'], ['29', 'kubevip.manifest_url'], ['36', 'p2p.dns'], ['37', 'p2p.loglevel'], ['41', 'p2p.vpn.env']
    ])
    const { k3s: _k3s, ...kairosOptions } = resolveRunSettings({}, kairos, {}).options
    expect(kairosOptions).toStrictEqual(resolveRunSettings({}, native, {}).options)
    // Only the args of the Kairos k3s blocks are read; enabled and env are ignored.
    expect(k3s).toStrictEqual({ kairosArgs: { server: ['--disable=traefik'], agent: ['--node-label=tier=edge'] } })
  })

  it.each([
    [0, 1], [2, 3], [4, 5], [6, 7]
  ])('counts master_nodes %i beside the init node: %i control planes', (masterNodes, controlPlanes) => {
    const text = `p2p:\n  auto:\n    ha:\n      enable: true\n      master_nodes: ${masterNodes}\n`
    expect(parseConfigText(text, SOURCE).shape).toStrictEqual({ controlPlanes })
  })

  it('turns HA on when master_nodes is given without enable, as Kairos does', () => {
    expect(parseConfigText('p2p:\n  auto:\n    ha:\n      master_nodes: 2\n', SOURCE).shape).toStrictEqual({ controlPlanes: 3 })
  })

  it('explains an even control-plane count in Kairos terms, at the master_nodes line', () => {
    const message = errorOf('p2p:\n  network_id: mill\n  auto:\n    ha:\n      enabled: true\n      master_nodes: 3\n')
    expect(message).toBe(`config ${SOURCE} line 6: p2p.auto.ha.master_nodes is 3: Kairos counts the masters beside the init node, so that asks for 4 control planes, but the count must be 1, 3, 5 or 7 (an odd count keeps an etcd majority): set master_nodes to 0, 2, 4 or 6`)
  })

  it('refuses HA without master_nodes, and HA on an external database', () => {
    expect(errorOf('p2p:\n  auto:\n    ha:\n      enable: true\n')).toMatch(/^config \S+ line 4: p2p\.auto\.ha\.enable turns HA on but p2p\.auto\.ha\.master_nodes is not set/)
    expect(errorOf('p2p:\n  auto:\n    ha:\n      master_nodes: 2\n      external_db: mysql://db\n')).toMatch(/^config \S+ line 5: p2p\.auto\.ha\.external_db is not supported: .*embedded etcd/)
  })

  it('maps roles, minimum_nodes and disable_dht; auto leaves no role request', () => {
    expect(parseConfigText('p2p:\n  role: worker\n  minimum_nodes: 3\n  disable_dht: true\n', SOURCE))
      .toStrictEqual({ source: SOURCE, dht: false, shape: { expect: 3 }, node: { role: 'worker' } })
    expect(parseConfigText('p2p:\n  role: auto\n  minimum_nodes: 0\n', SOURCE)).toStrictEqual({ source: SOURCE })
    expect(parseConfigText('p2p:\n', SOURCE)).toStrictEqual({ source: SOURCE })
  })

  it('takes the YAML 1.1 booleans Kairos takes', () => {
    expect(parseConfigText('p2p:\n  disable_dht: "yes"\n  auto:\n    ha:\n      enable: on\n      master_nodes: 2\n', SOURCE))
      .toStrictEqual({ source: SOURCE, dht: false, shape: { controlPlanes: 3 } })
  })

  it('with auto off, does not read HA and needs a role', () => {
    expect(parseConfigText('p2p:\n  role: master\n  auto:\n    enable: false\n    ha: { enable: true, master_nodes: 2 }\n', SOURCE))
      .toStrictEqual({ source: SOURCE, node: { role: 'control-plane' } })
    expect(errorOf('p2p:\n  auto:\n    enabled: false\n')).toMatch(/^config \S+ line 3: p2p\.auto\.enabled is false, so Kairos leaves roles to you, but p2p\.role is not master or worker: set p2p\.role/)
  })

  it('refuses enable and enabled together, as Kairos does', () => {
    expect(errorOf('kubevip:\n  enable: true\n  enabled: false\np2p: {}\n')).toBe(`config ${SOURCE} line 2: kubevip.enable and kubevip.enabled are both set: keep only kubevip.enabled (enable is its deprecated spelling)`)
  })

  it('has no VIP when kube-vip is off', () => {
    expect(parseConfigText('kubevip:\n  eip: 10.0.0.5\n  enable: false\n  interface: eth1\np2p: {}\n', SOURCE))
      .toStrictEqual({ source: SOURCE, node: { interface: 'eth1' } })
  })

  it('refuses a typo inside p2p, suggesting the Kairos key', () => {
    expect(errorOf('p2p:\n  network_token: x\n  minimun_nodes: 3\n')).toBe(`config ${SOURCE} line 3: p2p.minimun_nodes is not a known key: did you mean p2p.minimum_nodes?`)
  })
})

describe('mixed spellings', () => {
  it('accepts both spellings where they agree', () => {
    const config = parseConfigText(`token: ${TOKEN}\nstate-dir: /data/p2pb\ncluster: { expect: 3 }\np2p:\n  network_token: ${TOKEN}\n  minimum_nodes: 3\n`, SOURCE)
    expect(config).toStrictEqual({ source: SOURCE, token: TOKEN, stateDir: '/data/p2pb', shape: { expect: 3 } })
  })

  it('names both keys, with lines, when they differ, and never prints a token', () => {
    const message = errorOf(`token: ${TOKEN}\nnode: { role: worker }\np2p:\n  role: master\n  network_token: other-token-text\n`)
    expect(message).toBe(`config ${SOURCE} line 1: token conflicts with p2p.network_token (line 5): they give different values; keep one of them`)
    expect(errorOf('node:\n  role: worker\np2p:\n  role: master\n')).toBe(`config ${SOURCE} line 2: node.role conflicts with p2p.role (line 4): they give different values ("worker" and "control-plane"); keep one of them`)
  })

  it('refuses a VIP that kube-vip is told to turn off', () => {
    expect(errorOf('cluster:\n  vip: 10.0.0.5\nkubevip:\n  enabled: false\np2p: {}\n')).toBe(`config ${SOURCE} line 2: cluster.vip is set but kubevip.enabled (line 4) is false, which turns the VIP off: remove one of them`)
  })
})

describe('errors name the file, the line, the key and the fix', () => {
  it.each([
    ['a bad control-plane count', 'token: t\nstate-dir: /x\nroot: /\nprofile: lan\nmdns: true\ncluster:\n  control-planes: 2\n',
      `config ${SOURCE} line 7: cluster.control-planes must be 1, 3, 5 or 7, got 2`],
    ['a number of the wrong type', 'cluster:\n  expect: five\n',
      `config ${SOURCE} line 2: cluster.expect must be a whole number from 1 to 1000, got "five"`],
    ['a bad VIP', '\n\ncluster: { vip: 192.168.1 }\n',
      `config ${SOURCE} line 3: cluster.vip must be an IPv4 or IPv6 address, got "192.168.1"`],
    ['a peer address with a bad port', `peers:\n  - ${PEER}\n  - 10.0.0.2:70000\n`,
      `config ${SOURCE} line 3: peers[1] must be an address such as 192.168.1.10, 192.168.1.10:4001, [fd00::10]:4001, node-1.lan:4001, or a multiaddr such as /ip4/192.168.1.10/tcp/4001 (optionally ending in /p2p/<peer id>), got "10.0.0.2:70000"`],
    ['a label value that is a number', 'node:\n  labels:\n    zone: a\n    rack: 7\n',
      /^config \S+ line 4: node\.labels\.rack must be a Kubernetes label value .*, got 7 \(quote it: "7"\)$/],
    ['a bad label key', 'node:\n  labels:\n    "bad key": a\n',
      /^config \S+ line 3: node\.labels\["bad key"\] is a bad label key: it must be a Kubernetes label key/],
    ['a bad role', 'node:\n  role: master\n',
      `config ${SOURCE} line 2: node.role must be control-plane or worker, got "master"`],
    ['a mapping where a list belongs', 'listen:\n  tcp: 4001\n',
      `config ${SOURCE} line 1: listen must be a list, got a mapping`],
    ['a list where a mapping belongs', 'cluster:\n  - expect\n',
      `config ${SOURCE} line 1: cluster must be a mapping (key: value), got a list`],
    ['an empty token, shown only by its length', 'token: ""\n',
      /^config \S+ line 1: token must be the token text .*, got text of 0 characters$/],
    ['a duplicate key', 'cluster:\n  expect: 3\n  expect: 5\n', /^config \S+ line 3: not valid YAML \(.*\): fix the syntax there$/],
    ['broken YAML', 'cluster:\n  expect: [3\nnode: {}\n', /^config \S+ line \d: not valid YAML/],
    ['a list at the top level', '- token\n', `config ${SOURCE} line 1: must be a mapping of settings (key: value) at the top level, got a list`]
  ])('%s', (_label, text, expected) => {
    if (typeof expected === 'string') expect(errorOf(text)).toBe(expected)
    else expect(errorOf(text)).toMatch(expected)
  })

  it('reports the problem written first when there are several', () => {
    expect(errorOf('node:\n  role: boss\ncluster:\n  expect: 0\n')).toMatch(/^config \S+ line 2: node\.role /)
    expect(errorOf('cluster:\n  expect: 0\nnode:\n  role: boss\n')).toMatch(/^config \S+ line 2: cluster\.expect /)
  })

  it.each([
    ['cluster:\n  expect: 3\n  controlplanes: 3\n', 3, 'cluster.controlplanes is not a known key: did you mean cluster.control-planes?'],
    ['state_dir: /x\n', 1, 'state_dir is not a known key: did you mean state-dir?'],
    ['mdns: true\npeer: []\n', 2, 'peer is not a known key: did you mean peers?'],
    ['node:\n  nodeIp: 10.0.0.1\n', 2, 'node.nodeIp is not a known key: did you mean node.ip?'],
    ['token: t\nvip: 10.0.0.1\n', 2, 'vip is not a known key: did you mean cluster.vip?'],
    ['node-ip: 10.0.0.1\n', 1, 'node-ip is not a known key: did you mean node.ip?'],
    ['controlPlanes: 3\n', 1, 'controlPlanes is not a known key: did you mean cluster.control-planes?']
  ])('suggests the close known key for an unknown native key (%#)', (text, line, message) => {
    expect(errorOf(text)).toBe(`config ${SOURCE} line ${line}: ${message}`)
  })

  it('lists the known keys when no key is close', () => {
    expect(errorOf('cluster:\n  zzzzzzzz: 1\n')).toBe(`config ${SOURCE} line 2: cluster.zzzzzzzz is not a known key: the keys here are expect, control-planes, vip, name`)
  })

  it('hints that a cloud-config needs a p2p block', () => {
    expect(errorOf('#cloud-config\nusers: []\n')).toBe(`config ${SOURCE} line 2: users is not a known key: the keys here are token, state-dir, root, profile, failover-delay, listen, peers, mdns, dht, cluster, node, kube-vip, apply, admin-keys, metrics, k3s (this looks like a Kairos cloud-config: p2p-bootstrap reads one only when it has a p2p: block)`)
  })

  it('refuses text over the size limit before parsing it', () => {
    expect(errorOf(`# ${'x'.repeat(CONFIG_FILE_BYTES_MAX)}\n`)).toMatch(/^config \S+ is larger than 1048576 bytes \(1 MiB\): is it the right file\?/)
  })
})

describe('loadConfigFile', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pb-config-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  async function loadError (path: string): Promise<string> {
    const error: unknown = await loadConfigFile(path).then(() => undefined, (err: unknown) => err)
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).message
  }

  it('reads a file and names it as the source', async () => {
    const path = join(dir, 'p2p-bootstrap.yaml')
    await writeFile(path, kairosText)
    const config = await loadConfigFile(path)
    expect(config.source).toBe(path)
    expect(config.shape).toStrictEqual({ expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' })
  })

  it('names the path and the line of a problem in the file', async () => {
    const path = join(dir, 'bad.yaml')
    await writeFile(path, 'cluster:\n  vip: nope\n')
    expect(await loadError(path)).toBe(`config ${path} line 2: cluster.vip must be an IPv4 or IPv6 address, got "nope"`)
  })

  it('explains a missing file, a directory and a file that is not UTF-8', async () => {
    expect(await loadError(join(dir, 'missing.yaml'))).toBe(`cannot read config ${join(dir, 'missing.yaml')}: it does not exist: check the path given to --config`)
    const sub = join(dir, 'sub')
    await mkdir(sub)
    expect(await loadError(sub)).toBe(`cannot read config ${sub}: it is a directory: pass the config file itself`)
    const binary = join(dir, 'binary.yaml')
    await writeFile(binary, Uint8Array.of(0x74, 0x3a, 0x20, 0xff, 0xfe, 0x0a))
    expect(await loadError(binary)).toMatch(/is not UTF-8 text/)
  })

  it('refuses a file over the size limit', async () => {
    const path = join(dir, 'huge.yaml')
    await writeFile(path, `# ${'x'.repeat(CONFIG_FILE_BYTES_MAX)}\n`)
    expect(await loadError(path)).toBe(`config ${path} is larger than ${CONFIG_FILE_BYTES_MAX} bytes (1 MiB): is it the right file? A config file is a few kilobytes`)
  })

  it('stops at once when its signal is aborted', async () => {
    const path = join(dir, 'p2p-bootstrap.yaml')
    await writeFile(path, equivalentNativeText)
    const controller = new AbortController()
    controller.abort()
    await expect(loadConfigFile(path, { signal: controller.signal })).rejects.toThrow(/abort/i)
  })
})
