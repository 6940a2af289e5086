#!/usr/bin/env node
// The `iscsi` executable: real streams, the real initiator, Ctrl-C as an abort signal (a second Ctrl-C exits now).
import { setMaxListeners } from 'node:events'
import { createInitiatorConnector } from './initiator-connector.js'
import { main } from './program.js'

const controller = new AbortController()
// Every command in flight (bench keeps --qd of them) listens on this one signal.
setMaxListeners(0, controller.signal)
let interrupts = 0
process.on('SIGINT', () => {
  interrupts++
  if (interrupts > 1) process.exit(130)
  process.stderr.write('\niscsi: interrupted, finishing commands in flight (Ctrl-C again to quit now)\n')
  controller.abort()
})
// `iscsi read ... | head`: the reader went away, which is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  connector: createInitiatorConnector({ env: process.env }),
  signal: controller.signal,
})
process.exit(interrupts > 0 && code !== 0 ? 130 : code)
