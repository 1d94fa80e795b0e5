// A TCP port nobody listens on at `ip` right now, for a process the test starts next.
import { createServer } from 'node:net'

export async function freePort (ip: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, ip, () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}
