// Goal: the k3s, kube-vip, apply and admin-key settings of a config file (native spelling, and
// Kairos' k3s.args / k3s-agent.args) reach createBootstrapper as its options, `--subnet` overrides
// the file, and every bad value is one error naming the file, the line, the key path and the fix,
// without echoing a private key. Method: YAML texts with known line numbers, read by the pure
// parseConfigText and merged by resolveRunSettings; the result is handed to the bootstrapper's own
// resolveOptions to check it accepts what the reader produces; one case runs the real bin.
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BootstrapperError, generateAdminKey, resolveOptions } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, parseConfigText, resolveRunSettings } from '../src/config/index.js'
import { EXIT_STATUS } from '../src/exit-status.js'
import { distMainPath, runBin } from './helpers.js'
import { configErrorOf } from './helpers.js'

const SOURCE = '/etc/p2p-bootstrap.yaml'
const ADMIN_KEY = 'p2pb-admin1:12D3KooWLRPJAA5o6Z6ZGCbnpgngjzKXsgn3cMfDsFbajgRkLEdW'

/** Parses `text`, expecting a ConfigError, and returns its message. */
function errorOf (text: string): string {
  return configErrorOf(text, SOURCE)
}

const nativeText = `node:
  ip: 192.168.1.21
  interface: eth0
  subnet: 192.168.1.0/24
k3s:
  cluster-cidr: 10.42.0.0/16
  disable: [traefik, servicelb]
  node-taint: [dedicated=edge:NoSchedule]
kube-vip:
  image: ghcr.io/kube-vip/kube-vip:v0.9.2
  interface: eth1
apply:
  start: systemctl   enable --now {service}
  restart: [systemctl, restart, "{service}"]
  ready: false
  on-ready: [sh, -c, "echo the cluster is up"]
  timeout: 300
admin-keys:
  - ${ADMIN_KEY}
`

describe('native k3s, kube-vip, apply and admin-key settings', () => {
  it('reads every key into its bootstrapper option', () => {
    expect(parseConfigText(nativeText, SOURCE)).toStrictEqual({
      source: SOURCE,
      node: { nodeIp: '192.168.1.21', interface: 'eth0' },
      k3s: {
        extra: { 'cluster-cidr': '10.42.0.0/16', disable: ['traefik', 'servicelb'], 'node-taint': ['dedicated=edge:NoSchedule'] },
        kubeVip: { image: 'ghcr.io/kube-vip/kube-vip:v0.9.2', interface: 'eth1' },
        subnet: '192.168.1.0/24'
      },
      apply: {
        startCommand: ['systemctl', 'enable', '--now', '{service}'],
        restartCommand: ['systemctl', 'restart', '{service}'],
        readyCommand: false,
        onReadyCommand: ['sh', '-c', 'echo the cluster is up'],
        commandTimeoutMs: 300_000
      },
      adminKeys: [ADMIN_KEY]
    })
  })

  it('hands options the bootstrapper accepts as they are', () => {
    const options = resolveRunSettings({ token: formatToken(generateToken()) }, parseConfigText(nativeText, SOURCE), {}).options
    const resolved = resolveOptions(options)
    expect(resolved.apply).toStrictEqual(options.apply)
    expect(resolved.adminKeys).toStrictEqual([ADMIN_KEY])
    expect(resolved.subnet).toBe('192.168.1.0/24')
    expect(resolved.k3s.clusterK3s).toStrictEqual({ 'cluster-cidr': '10.42.0.0/16', disable: ['traefik', 'servicelb'] })
    expect(resolved.k3s.nodeK3s).toStrictEqual({ 'node-taint': ['dedicated=edge:NoSchedule'] })
    expect(resolved.k3s.kubeVip).toStrictEqual({ image: 'ghcr.io/kube-vip/kube-vip:v0.9.2', interface: 'eth1' })
  })

  it.each([
    ['one string, split on runs of spaces', '  k3s  kubectl get --raw /readyz ', ['k3s', 'kubectl', 'get', '--raw', '/readyz']],
    ['one string, whose quotes are not interpreted', `sh -c 'echo up'`, ['sh', '-c', "'echo", "up'"]],
    ['a flow list', '[k3s, kubectl, get, --raw, /readyz]', ['k3s', 'kubectl', 'get', '--raw', '/readyz']],
    ['a list holding an argument with spaces', '\n    - sh\n    - -c\n    - echo up', ['sh', '-c', 'echo up']]
  ])('reads a command written as %s', (_label, written, argv) => {
    expect(parseConfigText(`apply:\n  ready: ${written}\n`, SOURCE).apply).toStrictEqual({ readyCommand: argv })
  })

  it('reads ready: false as "never probe", and dual-stack and IPv6 subnets', () => {
    expect(parseConfigText('apply:\n  ready: false\n', SOURCE).apply).toStrictEqual({ readyCommand: false })
    expect(parseConfigText('node:\n  subnet: 192.168.1.0/24,fd00:1::/64\n', SOURCE).k3s).toStrictEqual({ subnet: '192.168.1.0/24,fd00:1::/64' })
    expect(parseConfigText('node:\n  subnet: fd00::1/128\n', SOURCE).k3s).toStrictEqual({ subnet: 'fd00::1/128' })
  })

  it('keeps admin keys in their normalised form', () => {
    expect(parseConfigText(`admin-keys:\n  - "  ${ADMIN_KEY} "\n`, SOURCE).adminKeys).toStrictEqual([ADMIN_KEY])
  })
})

describe('bad k3s, kube-vip, apply and admin-key settings name the key and its line', () => {
  it.each([
    ['a subnet without a prefix', 'node:\n  ip: 10.0.0.2\n  subnet: 192.168.1.0\n',
      `config ${SOURCE} line 3: node.subnet must be a CIDR such as 192.168.1.0/24 or fd00::/64 (an address, then a prefix length of at most 32 for IPv4 or 128 for IPv6), or one IPv4 and one IPv6 CIDR separated by a comma, got "192.168.1.0"`],
    ['a prefix out of range', 'node:\n  subnet: 192.168.1.0/33\n', /^config \S+ line 2: node\.subnet must be a CIDR .*, got "192\.168\.1\.0\/33"$/],
    ['two subnets of one family', 'node:\n  subnet: 10.0.0.0/8,192.168.0.0/16\n', /^config \S+ line 2: node\.subnet must be a CIDR .*, got "10\.0\.0\.0\/8,192\.168\.0\.0\/16"$/],
    ['an empty command', 'apply:\n  timeout: 10\n  start: ""\n',
      `config ${SOURCE} line 3: apply.start must be a command: a list of 1 to 64 arguments, or one string of them separated by spaces, got ""`],
    ['an empty list as a command', 'apply:\n  restart: []\n',
      `config ${SOURCE} line 2: apply.restart must be a command: a list of 1 to 64 arguments, or one string of them separated by spaces, got an empty list`],
    ['an empty argument', 'apply:\n  on-ready:\n    - /usr/bin/notify\n    - ""\n',
      `config ${SOURCE} line 4: apply.on-ready[1] must be a non-empty argument, got ""`],
    ['a number as an argument', 'apply:\n  on-ready: [sleep, 5]\n',
      `config ${SOURCE} line 2: apply.on-ready[1] must be an argument as text, got 5 (quote it: "5")`],
    ['a control character in a listed argument', 'apply:\n  start:\n    - systemctl\n    - "start\\tk3s"\n',
      `config ${SOURCE} line 4: apply.start[1] must be an argument with no control characters (tab, line break, …), got "start\\tk3s"`],
    ['a command spread over lines', 'apply:\n  start: |\n    systemctl start k3s\n    echo done\n',
      /^config \S+ line 2: apply\.start must be one line with no control characters \(tab, line break, …\), got "systemctl start k3s\\necho done\\n": a command: /],
    ['too many arguments', `apply:\n  start: ${'a '.repeat(65)}\n`,
      `config ${SOURCE} line 2: apply.start must be a command: a list of 1 to 64 arguments, or one string of them separated by spaces, got 65 arguments`],
    ['ready: true', 'apply:\n  ready: true\n',
      `config ${SOURCE} line 2: apply.ready must be false (never probe), or a command: a list of 1 to 64 arguments, or one string of them separated by spaces, got true`],
    ['a timeout of 0', 'apply:\n  start: systemctl start k3s\n  timeout: 0\n',
      `config ${SOURCE} line 3: apply.timeout must be a whole number of seconds from 1 to 3600, got 0`],
    ['a timeout over an hour', 'apply:\n  timeout: 3601\n', /^config \S+ line 2: apply\.timeout must be a whole number of seconds from 1 to 3600, got 3601$/],
    ['a k3s block that is not a mapping', 'mdns: true\nk3s: [cluster-cidr]\n',
      `config ${SOURCE} line 2: k3s must be a mapping (key: value), got a list`],
    ['a floating kube-vip image', 'kube-vip:\n  interface: eth0\n  image: ghcr.io/kube-vip/kube-vip:latest\n',
      /^config \S+ line 3: kube-vip\.image must be a pinned image reference: .*, got "ghcr\.io\/kube-vip\/kube-vip:latest" \(every server runs the same kube-vip/],
    ['a kube-vip interface with a slash', 'kube-vip:\n  interface: eth0/1\n', /^config \S+ line 2: kube-vip\.interface must be a network interface name/],
    ['an admin key that is not one', `admin-keys:\n  - ${ADMIN_KEY}\n  - p2pb-admin1:12D3KooWnot-a-key\n`,
      /^config \S+ line 3: admin-keys\[1\] is not an admin public key: admin key "p2pb-admin1:12D3KooWnot-a-key" does not hold an Ed25519 public key after its prefix .*kubeconfig keygen/],
    ['a node id listed as an admin key', 'admin-keys: [12D3KooWLRPJAA5o6Z6ZGCbnpgngjzKXsgn3cMfDsFbajgRkLEdW]\n',
      /^config \S+ line 1: admin-keys\[0\] is not an admin public key: .* is a node id, not an admin key/],
    ['one admin key not in a list', `admin-keys: ${ADMIN_KEY}\n`,
      `config ${SOURCE} line 1: admin-keys must be a list of admin public keys (- p2pb-admin1:…, printed by p2p-bootstrap kubeconfig keygen), got one key as text: write it as a list item (- ${ADMIN_KEY})`],
    ['a misplaced subnet', 'subnet: 10.0.0.0/8\n', `config ${SOURCE} line 1: subnet is not a known key: did you mean node.subnet?`],
    ['a misspelt apply key', 'apply:\n  onready: reboot\n', `config ${SOURCE} line 2: apply.onready is not a known key: did you mean apply.on-ready?`],
    ['kubevip in a native file', 'kubevip:\n  image: x\n', `config ${SOURCE} line 1: kubevip is not a known key: did you mean kube-vip?`]
  ])('%s', (_label, text, expected) => {
    if (typeof expected === 'string') expect(errorOf(text)).toBe(expected)
    else expect(errorOf(text)).toMatch(expected)
  })

  it('never echoes a private key pasted as an admin key, in a list or alone', async () => {
    const { privateKeyText } = await generateAdminKey()
    const secretLine = privateKeyText.split('\n').find((line) => line.startsWith('p2pb-admin-secret1:')) ?? ''
    const secret = secretLine.slice('p2pb-admin-secret1:'.length)
    expect(secret.length).toBeGreaterThan(20)
    for (const [text, line, path] of [[`admin-keys:\n  - ${secretLine}\n`, 2, 'admin-keys[0]'], [`admin-keys: ${secretLine}\n`, 1, 'admin-keys']] as const) {
      const message = errorOf(text)
      expect(message).toMatch(new RegExp(`^config \\S+ line ${line}: ${path.replace(/[[\]]/g, '\\$&')} .*the private key file's content: remove it from the config at once`))
      expect(message).not.toContain(secret.slice(0, 8))
    }
  })
})

// A Kairos cloud-config with both k3s blocks, and native keys beside them; lines numbered below.
const kairosText = `#cloud-config
p2p:
  network_token: some-token-text
k3s:
  enabled: false
  replace_args: true
  env: { K3S_KUBECONFIG_MODE: "0644" }
  args:
    - --cluster-cidr=10.42.0.0/16
    - --disable=traefik
k3s-agent:
  enabled: false
  embedded_registry: true
  args: [--node-label=tier=edge]
kubevip:
  eip: 192.168.1.50
  image: ghcr.io/kube-vip/kube-vip:v0.8.0
kube-vip:
  image: ghcr.io/kube-vip/kube-vip:v0.9.2
node:
  subnet: 192.168.1.0/24
apply:
  ready: false
admin-keys: [${ADMIN_KEY}]
`

describe('Kairos k3s blocks', () => {
  it('reads k3s.args for servers and k3s-agent.args for workers, ignoring enabled and the rest', () => {
    const { warnings, ...config } = parseConfigText(kairosText, SOURCE)
    // What is not read is said, key by key.
    expect(warnings?.map(warning => /^config \S+ line \d+: (\S+ is \S+ \S+)/.exec(warning)?.[1])).toEqual([
      'k3s.enabled is false, but', 'k3s.replace_args is not read:', 'k3s.env is not read:', 'k3s-agent.enabled is false, but',
      'k3s-agent.embedded_registry is not read:', 'kubevip.image is not read:'
    ])
    expect(config).toStrictEqual({
      source: SOURCE,
      token: 'some-token-text',
      shape: { vip: '192.168.1.50' },
      k3s: {
        kairosArgs: { server: ['--cluster-cidr=10.42.0.0/16', '--disable=traefik'], agent: ['--node-label=tier=edge'] },
        // The native kube-vip.image; Kairos' kubevip.image is not read.
        kubeVip: { image: 'ghcr.io/kube-vip/kube-vip:v0.9.2' },
        subnet: '192.168.1.0/24'
      },
      apply: { readyCommand: false },
      adminKeys: [ADMIN_KEY]
    })
    const options = { ...resolveRunSettings({}, config, {}).options, token: formatToken(generateToken()), node: { nodeIp: '192.168.1.21' } }
    // The critical keys of the server args count as cluster-wide.
    expect(Object.keys(resolveOptions(options).k3s.clusterK3s).sort()).toStrictEqual(['cluster-cidr', 'disable'])
  })

  it('accepts empty blocks and a block without args', () => {
    expect(parseConfigText('p2p: {}\nk3s:\nk3s-agent:\n  enabled: true\n', SOURCE)).toStrictEqual({ source: SOURCE })
  })

  it.each([
    ['k3s.args that is not a list', 'p2p: {}\nk3s:\n  enabled: true\n  args: --disable=traefik\n',
      `config ${SOURCE} line 4: k3s.args must be a list, got "--disable=traefik"`],
    ['a number in k3s-agent.args', 'p2p: {}\nk3s-agent:\n  args:\n    - --node-label=a=b\n    - 5\n',
      `config ${SOURCE} line 5: k3s-agent.args[1] must be a k3s flag as text, such as --disable=traefik (1 to 4096 characters), got 5`],
    ['a k3s block that is a list', 'p2p: {}\nk3s: [--disable=traefik]\n',
      `config ${SOURCE} line 2: k3s must be a mapping (key: value), got a list`]
  ])('refuses %s', (_label, text, expected) => {
    expect(errorOf(text)).toBe(expected)
  })
})

describe('--subnet', () => {
  it('overrides node.subnet and keeps the other k3s settings of the file', () => {
    const file = parseConfigText(nativeText, SOURCE)
    const settings = resolveRunSettings({ subnet: '10.1.0.0/16', token: 't' }, file, {})
    expect(settings.options.k3s).toStrictEqual({ ...file.k3s, subnet: '10.1.0.0/16' })
    expect(resolveRunSettings({ subnet: 'fd00::/64', token: 't' }, undefined, {}).options.k3s).toStrictEqual({ subnet: 'fd00::/64' })
    expect(resolveRunSettings({ token: 't' }, file, {}).options.k3s?.subnet).toBe('192.168.1.0/24')
  })
})

describe('the bootstrapper checks the k3s keys before it starts', () => {
  let dir = ''
  beforeAll(() => {
    if (!existsSync(distMainPath)) throw new Error('packages/cli/dist/main.js is missing: run `npx tsc -b` before these tests')
  })
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'p2pb-config-k3s-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('refuses a k3s key that is no k3s flag, in process', () => {
    const file = parseConfigText('k3s: { no-such-flag: 1 }\n', SOURCE)
    const options = { ...resolveRunSettings({ token: formatToken(generateToken()) }, file, {}).options, node: { nodeIp: '10.0.0.2' } }
    expect(() => resolveOptions(options)).toThrow(BootstrapperError)
    expect(() => resolveOptions(options)).toThrow(/^option k3s: .*"no-such-flag"/)
  })

  it('exits with the usage status, naming the key, when run from the bin', async () => {
    const config = join(dir, 'p2p-bootstrap.yaml')
    await writeFile(config, `token: ${formatToken(generateToken())}\nk3s: { no-such-flag: 1 }\n`)
    // A dry run on loopback with no discovery that exits once applied: harmless even if it did start.
    const result = await runBin(['run', '--config', config, '--dry-run', '--state-dir', join(dir, 'state'), '--root', join(dir, 'root'),
      '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--no-dht', '--profile', 'test', '--once'])
    expect(result.status).toBe(EXIT_STATUS.usage)
    expect(result.stderr).toMatch(/^p2p-bootstrap: option k3s: .*no-such-flag/)
    expect(result.stdout).toBe('')
  })
})
