// Start the AT Protocol reference implementation on loopback for the Bluesky contract tests:
// an in-memory PLC directory and a PDS on SQLite (no AppView, no PostgreSQL), as
// @atproto/dev-env's TestPlc and TestPds do (packages/dev-env/src/pds.ts in
// github.com/bluesky-social/atproto).
//
// Protocol on stdin/stdout, one JSON object a line:
//   -> {"pds": "http://127.0.0.1:PORT", "plc": "...", "admin_password": "..."}   once ready
//   <- "stop"   closes the PDS (its data directory is kept)      -> {"stopped": true}
//   <- "start"  starts it again on the same port with the same data -> {"started": true}
//   end of stdin: everything is closed and the process exits.
import net from 'node:net'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'

// Listen on loopback only: the servers are started with a bare port, which Node binds to
// every interface.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1')
  }
  return listen.apply(this, args)
}

const { TestPlc, TestPds, ADMIN_PASSWORD } = await import('@atproto/dev-env')
const { Secp256k1Keypair } = await import('@atproto/crypto')

function freePort() {
  return new Promise((resolve, reject) => {
    const server = listen.call(net.createServer(), 0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

const plc = await TestPlc.create({ port: await freePort() })
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'newsroom-pds-'))
const rotation = await Secp256k1Keypair.create({ exportable: true })
const config = {
  port: await freePort(),
  didPlcUrl: plc.url,
  dataDirectory: path.join(home, 'data'),
  blobstoreDiskLocation: path.join(home, 'blobs'),
  plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotation.export()).toString('hex'),
  // The repo write rate limits need Redis or a per-process limiter; keep the defaults.
}
fs.mkdirSync(config.dataDirectory, { recursive: true })
let pds = await TestPds.create(config)

function say(value) {
  process.stdout.write(JSON.stringify(value) + '\n')
}

say({
  pds: `http://127.0.0.1:${pds.port}`,
  plc: `http://127.0.0.1:${plc.port}`,
  admin_password: ADMIN_PASSWORD,
})

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  try { if (pds) await pds.close() } catch {}
  try { await plc.close() } catch {}
  fs.rmSync(home, { recursive: true, force: true })
  process.exit(0)
}

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  const command = line.trim()
  try {
    if (command === 'stop' && pds) {
      await pds.close()
      pds = null
      say({ stopped: true })
    } else if (command === 'start' && !pds) {
      pds = await TestPds.create(config)
      say({ started: true })
    } else {
      say({ error: `cannot ${command} now` })
    }
  } catch (err) {
    say({ error: String(err && err.stack || err) })
  }
})
lines.on('close', shutdown)
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
