// Goal: `run` flags merge over the config file into exactly the bootstrapper options the operator
// asked for: flags win, lists are replaced, labels are merged per key, the token comes from the
// flag, then the file, then P2PB_TOKEN, and each bad flag value is named in its error. Method:
// resolveRunSettings on FileConfig values written here (the file reader has its own tests).
import { describe, expect, it } from 'vitest'
import { CliError } from '../src/errors.js'
import { ConfigError, resolveRunSettings, TOKEN_ENV } from '../src/config/index.js'
import type { FileConfig, RunFlags } from '../src/config/index.js'

const PEER_A = '/ip4/192.168.1.10/tcp/4001/p2p/12D3KooWLRPJAA5o6Z6ZGCbnpgngjzKXsgn3cMfDsFbajgRkLEdW'
const ADMIN_KEY = 'p2pb-admin1:12D3KooWLRPJAA5o6Z6ZGCbnpgngjzKXsgn3cMfDsFbajgRkLEdW'
const PEER_B = '/ip4/192.168.1.11/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

const file: FileConfig = {
  source: '/etc/p2p-bootstrap.yaml',
  token: 'file-token',
  stateDir: '/var/lib/p2p-bootstrap',
  root: '/',
  profile: 'lan',
  listen: ['/ip4/0.0.0.0/tcp/4001', '/ip6/::/tcp/4001'],
  peers: [PEER_A],
  mdns: true,
  dht: true,
  shape: { expect: 5, controlPlanes: 3, vip: '192.168.1.50', name: 'shop-floor' },
  node: { nodeIp: '192.168.1.21', interface: 'eth0', role: 'worker', hostname: 'edge-21', labels: { zone: 'hall-a', rack: '7' } },
  k3s: {
    extra: { 'cluster-cidr': '10.42.0.0/16' },
    kairosArgs: { server: ['--disable=traefik'] },
    kubeVip: { image: 'ghcr.io/kube-vip/kube-vip:v0.9.2' },
    subnet: '192.168.1.0/24'
  },
  apply: { startCommand: ['systemctl', 'start', '{service}'], readyCommand: false, commandTimeoutMs: 30_000 },
  adminKeys: [ADMIN_KEY]
}

function failure (flags: RunFlags, fileConfig: FileConfig | undefined, env: Record<string, string | undefined> = {}): Error {
  try {
    resolveRunSettings(flags, fileConfig, env)
  } catch (err) {
    if (err instanceof Error) return err
  }
  throw new Error('expected resolveRunSettings to throw')
}

describe('resolveRunSettings', () => {
  it('takes everything from the file when no flag is given', () => {
    const settings = resolveRunSettings({}, file, {})
    const { source: _source, ...options } = file
    expect(settings).toStrictEqual({
      options,
      once: false,
      json: false,
      tokenFromStdin: false,
      tokenSource: 'file',
      configSource: '/etc/p2p-bootstrap.yaml'
    })
  })

  it('lets every flag override the file, replacing lists and merging labels per key', () => {
    const settings = resolveRunSettings({
      token: 'flag-token',
      stateDir: '/tmp/state',
      root: '/tmp/root',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      peer: [PEER_B],
      expect: '7',
      controlPlanes: '5',
      vip: 'fd00::50',
      interface: 'enp1s0',
      nodeIp: 'fd00::21',
      subnet: 'fd00::/64',
      label: ['zone=hall-b', 'example.com/tier=edge'],
      role: 'control-plane',
      profile: 'test',
      mdns: false,
      dht: false,
      dryRun: true,
      once: true,
      json: true
    }, file, { [TOKEN_ENV]: 'env-token' })
    expect(settings).toStrictEqual({
      options: {
        token: 'flag-token',
        stateDir: '/tmp/state',
        root: '/tmp/root',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        peers: [PEER_B],
        mdns: false,
        dht: false,
        shape: { expect: 7, controlPlanes: 5, vip: 'fd00::50', name: 'shop-floor' },
        node: {
          nodeIp: 'fd00::21',
          interface: 'enp1s0',
          labels: { zone: 'hall-b', rack: '7', 'example.com/tier': 'edge' },
          role: 'control-plane',
          hostname: 'edge-21'
        },
        profile: 'test',
        // --subnet replaces the file's subnet and keeps its other k3s settings.
        k3s: { ...file.k3s, subnet: 'fd00::/64' },
        apply: file.apply,
        adminKeys: [ADMIN_KEY],
        dryRun: true
      },
      once: true,
      json: true,
      tokenFromStdin: false,
      tokenSource: 'flag',
      configSource: '/etc/p2p-bootstrap.yaml'
    })
  })

  it('works without a config file, setting only what the flags give', () => {
    expect(resolveRunSettings({ token: 't', label: ['a=1'] }, undefined, {})).toStrictEqual({
      options: { token: 't', node: { labels: { a: '1' } } },
      once: false,
      json: false,
      tokenFromStdin: false,
      tokenSource: 'flag'
    })
  })

  it('treats empty repeated-flag lists as not given', () => {
    const settings = resolveRunSettings({ listen: [], peer: [], label: [] }, file, {})
    expect(settings.options.listen).toStrictEqual(file.listen)
    expect(settings.options.peers).toStrictEqual(file.peers)
    expect(settings.options.node?.labels).toStrictEqual({ zone: 'hall-a', rack: '7' })
  })
})

describe('the token', () => {
  const noToken: FileConfig = { source: '/etc/p2p-bootstrap.yaml' }

  it.each<[string, RunFlags, FileConfig | undefined, Record<string, string | undefined>, string, string]>([
    ['the flag over the file and the environment', { token: 'flag-token' }, file, { [TOKEN_ENV]: 'env-token' }, 'flag-token', 'flag'],
    ['the file over the environment', {}, file, { [TOKEN_ENV]: 'env-token' }, 'file-token', 'file'],
    ['the environment when nothing else gives one', {}, noToken, { [TOKEN_ENV]: 'env-token' }, 'env-token', 'env'],
    ['the environment without a file', {}, undefined, { [TOKEN_ENV]: 'env-token' }, 'env-token', 'env']
  ])('comes from %s', (_label, flags, fileConfig, env, token, source) => {
    const settings = resolveRunSettings(flags, fileConfig, env)
    expect(settings.options.token).toBe(token)
    expect(settings.tokenSource).toBe(source)
    expect(settings.tokenFromStdin).toBe(false)
  })

  it("is read from standard input for '--token -', even when the file has one", () => {
    const settings = resolveRunSettings({ token: '-' }, file, { [TOKEN_ENV]: 'env-token' })
    expect(settings).toMatchObject({ tokenFromStdin: true, tokenSource: 'stdin', options: { token: '' } })
  })

  it('is missing when given nowhere (a blank environment variable counts as unset)', () => {
    for (const env of [{}, { [TOKEN_ENV]: '' }, { [TOKEN_ENV]: '  \n' }]) {
      const error = failure({}, noToken, env)
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.message).toBe("no network token: pass --token <token> (or --token - to read it from standard input), set token: (or p2p.network_token) in /etc/p2p-bootstrap.yaml, or set P2PB_TOKEN; 'p2p-bootstrap token generate' makes one")
    }
    expect(failure({}, undefined).message).toMatch(/set token: in a config file \(--config\), or set P2PB_TOKEN/)
  })
})

describe('flag errors name the flag', () => {
  it.each<[RunFlags, string | RegExp]>([
    [{ controlPlanes: '2' }, '--control-planes must be 1, 3, 5 or 7, got 2'],
    [{ controlPlanes: 'three' }, '--control-planes must be 1, 3, 5 or 7, got "three"'],
    [{ expect: '0' }, '--expect must be a whole number from 1 to 1000, got 0'],
    [{ expect: '1001' }, '--expect must be a whole number from 1 to 1000, got 1001'],
    [{ expect: '-3' }, '--expect must be a whole number from 1 to 1000, got "-3"'],
    [{ vip: '192.168.1' }, '--vip must be an IPv4 or IPv6 address, got "192.168.1"'],
    [{ nodeIp: 'edge-21' }, '--node-ip must be an IPv4 or IPv6 address, got "edge-21"'],
    [{ role: 'master' }, '--role must be control-plane or worker, got "master"'],
    [{ profile: 'fast' }, '--profile must be lan, wan or test, got "fast"'],
    [{ interface: 'a-very-long-interface-name' }, /^--interface must be a network interface name/],
    [{ peer: [PEER_A, '10.0.0.2:70000'] }, /^--peer must be an address such as 192\.168\.1\.10, 192\.168\.1\.10:4001, .*got "10\.0\.0\.2:70000"$/],
    [{ listen: ['0.0.0.0:4001'] }, '--listen must be a multiaddr such as /ip4/0.0.0.0/tcp/4001, got "0.0.0.0:4001"'],
    [{ token: '' }, /^--token must be the token text .*, got text of 0 characters$/],
    [{ stateDir: '' }, /^--state-dir must be a file system path/],
    [{ subnet: '192.168.1.0' }, /^--subnet must be a CIDR such as 192\.168\.1\.0\/24 .*, got "192\.168\.1\.0"$/],
    [{ subnet: '192.168.1.0/33' }, /^--subnet must be a CIDR .*, got "192\.168\.1\.0\/33"$/],
    [{ label: ['zone'] }, '--label must be key=value, got "zone"'],
    [{ label: ['bad key=x'] }, /^--label "bad key=x": the key must be a Kubernetes label key .*, got "bad key"$/],
    [{ label: ['zone=hall a'] }, /^--label "zone=hall a": the value must be a Kubernetes label value .*, got "hall a"$/],
    [{ label: ['zone=a', 'zone=b'] }, '--label zone is given twice ("a" and "b"): give it once']
  ])('%j', (flags, expected) => {
    const error = failure(flags, file)
    expect(error).toBeInstanceOf(CliError)
    expect((error as CliError).code).toBe('CLI_USAGE')
    if (typeof expected === 'string') expect(error.message).toBe(expected)
    else expect(error.message).toMatch(expected)
  })

  it('accepts an empty label value and a repeated identical label', () => {
    const settings = resolveRunSettings({ label: ['p2p-bootstrap.io/control-plane=true', 'edge=', 'edge='] }, undefined, { [TOKEN_ENV]: 't' })
    expect(settings.options.node?.labels).toStrictEqual({ 'p2p-bootstrap.io/control-plane': 'true', edge: '' })
  })

  it('refuses a node IP equal to the VIP, wherever each came from', () => {
    const error = failure({ nodeIp: '192.168.1.50' }, file)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toMatch(/^the node IP 192\.168\.1\.50 is also the VIP: .*give this node its own address/)
    expect(resolveRunSettings({ nodeIp: '192.168.1.22' }, file, {}).options.node?.nodeIp).toBe('192.168.1.22')
  })
})
