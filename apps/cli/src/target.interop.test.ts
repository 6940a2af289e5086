// Every CLI command against our own target (@iscsi-ts/target's startTestTarget: memory LUNs on loopback ports):
// a plain target, one behind CHAP, and one that only accepts CRC32C digests.
import { startTestTarget } from '@iscsi-ts/target/testing'
import { defineInteropSuite } from './testing/interop-scenarios.js'

const LUN_SIZE = 64 * 1024 * 1024
const CHAP = { user: 'cli-user', secret: 'cli-secret-1234' }

defineInteropSuite('iscsi CLI against @iscsi-ts/target', async () => {
  const plain = await startTestTarget({ targetName: 'iqn.2026-11.io.iscsi-ts.test:cli-plain', luns: [LUN_SIZE, LUN_SIZE] })
  const chap = await startTestTarget({ targetName: 'iqn.2026-11.io.iscsi-ts.test:cli-chap', luns: [1024 * 1024], auth: { chap: CHAP } })
  const digest = await startTestTarget({
    targetName: 'iqn.2026-11.io.iscsi-ts.test:cli-digest',
    luns: [1024 * 1024],
    limits: { headerDigest: ['CRC32C'], dataDigest: ['CRC32C'] },
  })
  return {
    peer: {
      portal: `${plain.host}:${plain.port}`,
      targetName: plain.targetName,
      url: plain.url,
      lunSize: LUN_SIZE,
      blockSize: 512,
      chap: { url: chap.url, ...CHAP },
      digestUrl: digest.url,
      secondUrl: plain.url.replace(/\/0$/, '/1'),
      thin: false,
      reservations: true,
      reservationsAcrossSessions: true,
    },
    stop: async () => {
      await Promise.all([plain.close(), chap.close(), digest.close()])
    },
  }
})
