// Every CLI command against Debian's tgtd (started by tooling/interop/tgtd.ts on a free port).
import { startTgtd } from '../../../tooling/interop/tgtd.js'
import { defineInteropSuite } from './testing/interop-scenarios.js'

const LUN_SIZE = 64 * 1024 * 1024

defineInteropSuite('iscsi CLI against tgtd', async () => {
  const tgtd = await startTgtd({ lunSize: LUN_SIZE })
  if (!tgtd) {
    console.warn('tgtd is not installed: CLI interop tests against tgtd skipped')
    return undefined
  }
  return {
    peer: {
      portal: `${tgtd.host}:${tgtd.port}`,
      targetName: tgtd.plain.name,
      url: tgtd.plain.url,
      lunSize: tgtd.lunSize,
      blockSize: tgtd.blockSize,
      chap: { url: tgtd.chap.url, user: tgtd.chap.user, secret: tgtd.chap.secret },
      digestUrl: tgtd.digest.url,
      secondUrl: tgtd.digest.url,
      thin: true,
      reservations: true,
      reservationsAcrossSessions: false,
    },
    stop: () => tgtd.stop(),
  }
})
