import { describe, expect, it } from 'vitest'
import { DiscoveryTextGuard } from './discovery-text.js'

const NEW = 0xffffffff
const part = (text: string, options: { ttt?: number; continue?: boolean } = {}) => ({
  ttt: options.ttt ?? NEW,
  continue: options.continue ?? false,
  data: Buffer.from(text),
})

describe('DiscoveryTextGuard (RFC 7143 4.3: SendTargets only in a discovery session)', () => {
  it('accepts SendTargets, whole or split over C=1 parts, and the empty continuation requests', () => {
    const guard = new DiscoveryTextGuard()
    expect(guard.accept(part('SendTargets=All\0'))).toBe(true)
    expect(guard.accept(part('SendTar', { continue: true }))).toBe(true)
    expect(guard.accept(part('gets=All\0', { ttt: 7 }))).toBe(true)
    expect(guard.accept(part('', { ttt: 8 }))).toBe(true)
  })

  it('refuses any other key, also when it only shows once the C=1 parts are joined', () => {
    const guard = new DiscoveryTextGuard()
    expect(guard.accept(part('MaxRecvDataSegmentLength=4096\0'))).toBe(false)
    expect(guard.accept(part('SendTargets=All\0X-com.example.k=1\0'))).toBe(false)
    expect(guard.accept(part('SendTargets=All\0MaxRecvData', { continue: true }))).toBe(true)
    expect(guard.accept(part('SegmentLength=4096\0', { ttt: 3 }))).toBe(false)
  })

  it('refuses text that is not key=value, and starts over on a new exchange (TTT 0xffffffff)', () => {
    const guard = new DiscoveryTextGuard()
    expect(guard.accept(part('no-equals-sign\0'))).toBe(false)
    // An abandoned C=1 part does not leak into the next exchange.
    expect(guard.accept(part('MaxRecvData', { continue: true }))).toBe(true)
    expect(guard.accept(part('SendTargets=All\0'))).toBe(true)
  })
})
