import type { CommandModule } from './command.js'
import { configCommand } from './config.js'
import { demoCommand } from './demo.js'
import { kubeconfigCommand } from './kubeconfig.js'
import { leaveCommand } from './leave.js'
import { runCommand } from './run.js'
import { statusCommand } from './status.js'
import { tokenCommand } from './token.js'

/** Every top-level command, in help order. Adding one is one import and one entry here. */
export const commandModules: readonly CommandModule[] = [
  runCommand,
  statusCommand,
  leaveCommand,
  configCommand,
  tokenCommand,
  kubeconfigCommand,
  demoCommand
]
