#!/usr/bin/env node
// The installed command: run the compiled CLI on this process's arguments, then end the process
// with its status (stdout drains first; a stray handle cannot keep it alive).
import { exitWhenDone, main, processIo } from '../dist/main.js'

exitWhenDone(await main(process.argv.slice(2), processIo()))
