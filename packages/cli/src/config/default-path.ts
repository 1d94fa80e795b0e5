// Which config file `run` and `config check` read when no path is given. Like k3s, which reads
// /etc/rancher/k3s/config.yaml by default and K3S_CONFIG_FILE when set (k3s v1.33 docs,
// "Configuration File"), an image can ship /etc/p2p-bootstrap/config.yaml and run the agent with
// no flags at all; the variable names another file (tests use it to stay away from /etc).
import { access } from 'node:fs/promises'

/** The config file read when `--config` is not given and the file exists. */
export const CONFIG_FILE_DEFAULT = '/etc/p2p-bootstrap/config.yaml'

/** Names the config file read when `--config` is not given; unlike the default, it must exist. */
export const CONFIG_FILE_ENV = 'P2PB_CONFIG_FILE'

/**
 * The config file to read: `flag` when given; else the file `P2PB_CONFIG_FILE` names (which must
 * then exist: loading it reports it missing); else the default path when it exists; else none.
 */
export async function configFilePath (flag: string | undefined, env: Record<string, string | undefined>): Promise<string | undefined> {
  if (flag !== undefined) return flag
  const named = env[CONFIG_FILE_ENV]
  if (named !== undefined && named.trim() !== '') return named
  try {
    await access(CONFIG_FILE_DEFAULT)
    return CONFIG_FILE_DEFAULT
  } catch {
    return undefined
  }
}
