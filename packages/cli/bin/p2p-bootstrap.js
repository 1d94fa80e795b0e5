#!/usr/bin/env node
// The installed command: run the compiled CLI on this process's arguments. Setting exitCode
// (not calling process.exit) lets stdout drain before the process ends.
import { main, processIo } from '../dist/main.js'

process.exitCode = await main(process.argv.slice(2), processIo())
