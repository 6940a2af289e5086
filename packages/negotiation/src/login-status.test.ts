import { describe, expect, it } from 'vitest'
import { LoginStatus, LoginStatusClass, isRedirect, loginStatusName, loginStatusText } from './login-status.js'

describe('login status table (RFC 7143 11.13.5)', () => {
  it.each([
    ['SUCCESS', 0x0000],
    ['TARGET_MOVED_TEMPORARILY', 0x0101],
    ['TARGET_MOVED_PERMANENTLY', 0x0102],
    ['INITIATOR_ERROR', 0x0200],
    ['AUTHENTICATION_FAILURE', 0x0201],
    ['AUTHORIZATION_FAILURE', 0x0202],
    ['NOT_FOUND', 0x0203],
    ['TARGET_REMOVED', 0x0204],
    ['UNSUPPORTED_VERSION', 0x0205],
    ['TOO_MANY_CONNECTIONS', 0x0206],
    ['MISSING_PARAMETER', 0x0207],
    ['CANT_INCLUDE_IN_SESSION', 0x0208],
    ['SESSION_TYPE_NOT_SUPPORTED', 0x0209],
    ['SESSION_DOES_NOT_EXIST', 0x020a],
    ['INVALID_DURING_LOGIN', 0x020b],
    ['TARGET_ERROR', 0x0300],
    ['SERVICE_UNAVAILABLE', 0x0301],
    ['OUT_OF_RESOURCES', 0x0302],
  ] as const)('%s is 0x%s', (name, code) => {
    const status = LoginStatus[name]
    expect((status.statusClass << 8) | status.statusDetail).toBe(code)
    expect(loginStatusName(status.statusClass, status.statusDetail)).toBe(name)
    expect(loginStatusText(status.statusClass, status.statusDetail).length).toBeGreaterThan(10)
  })

  it('has exactly the 18 statuses of RFC 7143', () => {
    expect(Object.keys(LoginStatus)).toHaveLength(18)
  })

  it('describes undefined pairs by their class', () => {
    expect(loginStatusName(0x02, 0x55)).toBeUndefined()
    expect(loginStatusText(0x02, 0x55)).toBe('Initiator error (0x0255)')
    expect(loginStatusText(0x03, 0x09)).toBe('Target error (0x0309)')
    expect(loginStatusText(0x07, 0x00)).toBe('Unknown login status (0x0700)')
  })

  it('gives readable text for known pairs', () => {
    expect(loginStatusText(0x02, 0x03)).toBe('The requested iSCSI target name does not exist at this address')
    expect(loginStatusText(0x02, 0x01)).toMatch(/authenticated/)
  })

  it('recognises redirection', () => {
    expect(isRedirect(LoginStatusClass.REDIRECTION)).toBe(true)
    expect(isRedirect(LoginStatusClass.INITIATOR_ERROR)).toBe(false)
  })
})
