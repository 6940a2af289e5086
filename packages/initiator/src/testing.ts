// Test helpers for other packages and apps: an in-process fake iSCSI target (a RAM disk with hooks to hold, answer
// or drop commands, shape the CmdSN window and send Async Messages), and `withSession`, which logs in, runs a
// function and always logs out.
import { Session } from './session.js'
import type { SessionOptions } from './session-options.js'

export { FakeTarget, FakeConnection, fixedSense } from './fake-target.js'
export type { FakeTargetOptions, FakeCommand, FakeResult, FakeAction } from './fake-target.js'

/** Logs in, runs `fn`, and logs out (or closes, when logout fails) whatever `fn` did. */
export async function withSession<T>(options: SessionOptions, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = await Session.login(options)
  try {
    return await fn(session)
  } finally {
    await session.logout().catch(() => session.close())
  }
}
