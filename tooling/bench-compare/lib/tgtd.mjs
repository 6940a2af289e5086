// tgtd (the Linux SCSI target framework, Debian package "tgt") as the reference target. One daemon in the
// foreground on a free loopback port with its own control socket (/var/run/tgtd/socket.N), configured through tgtadm
// with one target per entry of `targets`, each with LUN 1 backed by an image file through the rdwr backing store
// (buffered pread/pwrite on a pool of threads). LUN 0 of every tgtd target is its controller, so the disk is LUN 1.
// A target with `headerDigest` only accepts HeaderDigest=CRC32C, so a login without header digests fails there.
import { execFile } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { freePort, waitForPort } from './net.mjs'
import { spawnTracked, killGroup, onExit, tailLines } from './processes.mjs'
import { findTool } from './tools.mjs'

/** tgtd's control channel is a unix socket numbered below 32768: pick a number no other daemon uses. */
function freeControlPort() {
  for (let i = 0; i < 1000; i++) {
    const candidate = 10000 + Math.floor(Math.random() * 22000)
    if (!existsSync(`/var/run/tgtd/socket.${candidate}`) && !existsSync(`/run/tgtd/socket.${candidate}`)) return candidate
  }
  throw new Error('no free tgtd control port')
}

function run(file, args) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`))
      else resolve(stdout)
    })
  })
}

/**
 * Start tgtd. `targets` is a list of { key, iqn, image, headerDigest? }. Resolves { pid, port, urls: { [key]: url },
 * tracked, output(), stop() }.
 */
export async function startTgtd({ targets, host = '127.0.0.1' }) {
  const tgtd = findTool('tgtd')
  const tgtadmBin = findTool('tgtadm')
  const port = await freePort()
  const controlPort = freeControlPort()
  const socketFiles = [`/var/run/tgtd/socket.${controlPort}`, `/var/run/tgtd/socket.${controlPort}.lock`]
  onExit(() => {
    for (const file of socketFiles) rmSync(file, { force: true })
  })
  const tracked = spawnTracked(tgtd, ['-f', '-C', String(controlPort), '--iscsi', `portal=${host}:${port}`])
  const describe = () => `; tgtd said:\n${tailLines(tracked.output())}`
  const tgtadm = (args) => run(tgtadmBin, ['-C', String(controlPort), '--lld', 'iscsi', ...args])

  await waitForPort(host, port, { alive: tracked.isRunning, describe })
  // The iSCSI portal can accept before the control socket answers.
  for (let i = 0; ; i++) {
    try {
      await tgtadm(['--op', 'show', '--mode', 'sys'])
      break
    } catch (error) {
      if (i > 100 || !tracked.isRunning()) throw new Error(`tgtd control socket does not answer: ${error.message}${describe()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  const urls = {}
  let tid = 0
  for (const target of targets) {
    tid += 1
    await tgtadm(['--op', 'new', '--mode', 'target', '--tid', String(tid), '--targetname', target.iqn])
    await tgtadm([
      '--op', 'new', '--mode', 'logicalunit', '--tid', String(tid), '--lun', '1',
      '--backing-store', target.image, '--bstype', 'rdwr',
    ])
    await tgtadm(['--op', 'bind', '--mode', 'target', '--tid', String(tid), '--initiator-address', 'ALL'])
    if (target.headerDigest) {
      await tgtadm(['--op', 'update', '--mode', 'target', '--tid', String(tid), '--name', 'HeaderDigest', '--value', 'CRC32C'])
    }
    urls[target.key] = `iscsi://${host}:${port}/${target.iqn}/1`
  }

  return {
    pid: tracked.pid,
    port,
    urls,
    tracked,
    output: tracked.output,
    // tgtd ignores SIGTERM while targets exist: it is stopped with SIGKILL, which loses nothing here.
    stop: async () => {
      killGroup(tracked.child, 'SIGKILL')
      await tracked.exited
      for (const file of socketFiles) rmSync(file, { force: true })
    },
  }
}
