// Loopback ports: a free one (bind port 0, read it, close) and waiting until a server accepts connections.
import { createServer, connect } from 'node:net'

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** True when a TCP connection to host:port succeeds (it is closed at once). */
export function canConnect(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * Poll host:port every 50 ms until it accepts, `alive()` turns false (rejects with `describe()`), or `timeoutMs`
 * passes.
 */
export async function waitForPort(host, port, { timeoutMs = 15000, alive = () => true, describe = () => '' } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!alive()) throw new Error(`exited before listening on ${host}:${port}${describe()}`)
    if (await canConnect(host, port)) return
    if (Date.now() > deadline) throw new Error(`not listening on ${host}:${port} after ${timeoutMs} ms${describe()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
