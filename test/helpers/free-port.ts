// A TCP port nobody listens on at `ip` right now, for a process the test starts next.
//
// The port is free when asked, not reserved: another test file running at the same time could
// take it before the child binds it. So each test file that starts agents on chosen ports uses
// its own loopback range (127.0.<file>.x; the demo alone uses 127.0.0.2–6), and two files never
// choose ports on the same address.
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
