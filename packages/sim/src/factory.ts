import { createCoreNode } from '@p2p-bootstrap/core'
import type { NodeFactory } from './core-types.js'

/** The node the simulator runs unless told otherwise: the real core, unchanged. */
export const defaultNodeFactory: NodeFactory = createCoreNode
