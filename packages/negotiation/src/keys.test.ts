import { describe, expect, it } from 'vitest'
import { KEYS, extensionKeyDefinition, isExtensionKey, keyDefinition, maxValueLength } from './keys.js'

describe('the key table (RFC 7143 13, RFC 7144)', () => {
  it('defines every RFC 7143 key, the RFC 7144 keys, the markers and CHAP', () => {
    const names = [
      'HeaderDigest', 'DataDigest', 'MaxConnections', 'SendTargets', 'TargetName', 'InitiatorName', 'TargetAlias',
      'InitiatorAlias', 'TargetAddress', 'TargetPortalGroupTag', 'InitialR2T', 'ImmediateData',
      'MaxRecvDataSegmentLength', 'MaxBurstLength', 'FirstBurstLength', 'DefaultTime2Wait', 'DefaultTime2Retain',
      'MaxOutstandingR2T', 'DataPDUInOrder', 'DataSequenceInOrder', 'ErrorRecoveryLevel', 'SessionType', 'AuthMethod',
      'OFMarker', 'IFMarker', 'OFMarkInt', 'IFMarkInt', 'TaskReporting', 'iSCSIProtocolLevel',
      'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R',
    ]
    for (const name of names) expect(keyDefinition(name)?.name).toBe(name)
    expect(KEYS.size).toBe(names.length)
  })

  it.each([
    ['HeaderDigest', 'first-acceptable', 'None', 'connection'],
    ['MaxConnections', 'min', '1', 'session'],
    ['InitialR2T', 'or', 'Yes', 'session'],
    ['ImmediateData', 'and', 'Yes', 'session'],
    ['MaxRecvDataSegmentLength', 'declarative', '8192', 'connection'],
    ['MaxBurstLength', 'min', '262144', 'session'],
    ['FirstBurstLength', 'min', '65536', 'session'],
    ['DefaultTime2Wait', 'max', '2', 'session'],
    ['DefaultTime2Retain', 'min', '20', 'session'],
    ['MaxOutstandingR2T', 'min', '1', 'session'],
    ['DataPDUInOrder', 'or', 'Yes', 'session'],
    ['DataSequenceInOrder', 'or', 'Yes', 'session'],
    ['ErrorRecoveryLevel', 'min', '0', 'session'],
    ['SessionType', 'declarative', 'Normal', 'session'],
    ['TaskReporting', 'first-acceptable', 'RFC3720', 'session'],
    ['iSCSIProtocolLevel', 'min', '1', 'session'],
  ])('%s: result %s, default %s, %s scope', (name, result, defaultValue, scope) => {
    const d = keyDefinition(name)!
    expect(d.result).toBe(result)
    expect(d.defaultValue).toBe(defaultValue)
    expect(d.scope).toBe(scope)
  })

  it('has the RFC 7143 ranges', () => {
    expect(keyDefinition('MaxRecvDataSegmentLength')!.range).toEqual([512, 16777215])
    expect(keyDefinition('MaxBurstLength')!.range).toEqual([512, 16777215])
    expect(keyDefinition('DefaultTime2Wait')!.range).toEqual([0, 3600])
    expect(keyDefinition('ErrorRecoveryLevel')!.range).toEqual([0, 2])
    expect(keyDefinition('MaxConnections')!.range).toEqual([1, 65535])
    expect(keyDefinition('TargetPortalGroupTag')!.range).toEqual([0, 65535])
    expect(keyDefinition('iSCSIProtocolLevel')!.range).toEqual([0, 31])
  })

  it('lets only MaxRecvDataSegmentLength be renegotiated in full feature phase (RFC 7143 13.12)', () => {
    const renegotiable = [...KEYS.values()].filter((d) => d.renegotiableInFfp).map((d) => d.name)
    expect(renegotiable).toEqual(['MaxRecvDataSegmentLength'])
  })

  it('marks the session keys irrelevant for discovery but not the digests or ErrorRecoveryLevel', () => {
    expect(keyDefinition('MaxBurstLength')!.irrelevantInDiscovery).toBe(true)
    expect(keyDefinition('InitialR2T')!.irrelevantInDiscovery).toBe(true)
    expect(keyDefinition('MaxConnections')!.irrelevantInDiscovery).toBe(true)
    expect(keyDefinition('HeaderDigest')!.irrelevantInDiscovery).toBe(false)
    expect(keyDefinition('ErrorRecoveryLevel')!.irrelevantInDiscovery).toBe(false)
  })

  it('puts security keys in the security stage only and SendTargets in full feature phase only', () => {
    for (const name of ['AuthMethod', 'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R']) {
      expect(keyDefinition(name)!.stages).toEqual(['security'])
    }
    expect(keyDefinition('SendTargets')!.stages).toEqual(['full-feature'])
    expect(keyDefinition('MaxBurstLength')!.stages).toEqual(['operational'])
  })

  it('knows who may send what', () => {
    expect(keyDefinition('InitiatorName')!.senders).toBe('initiator')
    expect(keyDefinition('SessionType')!.senders).toBe('initiator')
    expect(keyDefinition('TargetPortalGroupTag')!.senders).toBe('target')
    expect(keyDefinition('TargetAddress')!.senders).toBe('target')
    expect(keyDefinition('MaxBurstLength')!.senders).toBe('both')
  })

  it('answers the obsolete marker keys Reject (RFC 7143 13.26)', () => {
    for (const name of ['OFMarker', 'IFMarker', 'OFMarkInt', 'IFMarkInt']) {
      expect(keyDefinition(name)!.obsoleteAnswer).toBe('Reject')
    }
  })

  it('allows larger values only where the RFC does', () => {
    expect(maxValueLength('TargetAlias')).toBe(255)
    expect(maxValueLength('X-unknown')).toBe(255)
    expect(maxValueLength('CHAP_C')).toBe(2050)
    expect(maxValueLength('CHAP_R')).toBe(2050)
    expect(maxValueLength('TargetAddress')).toBeGreaterThan(255)
  })

  it('recognises X- and X# extension keys', () => {
    expect(isExtensionKey('X-com.example.feature')).toBe(true)
    expect(isExtensionKey('X#ietf-thing')).toBe(true)
    expect(isExtensionKey('Xfoo')).toBe(false)
    expect(extensionKeyDefinition('X-a').required).toBe(false)
  })
})
