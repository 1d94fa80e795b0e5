#!/usr/bin/env node
// The simulator command: `npm run sim -- --nodes 5 --seeds 100`. The code lives in ../dist/cli.js.
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv.slice(2))
