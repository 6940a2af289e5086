// Persistent reservation state on disk, for LUNs whose initiators register with APTPL (SPC-4 5.13.4.1: "activate
// persist through power loss"). The scsi package serialises the state; this store only keeps the bytes, replacing the
// file atomically (write a temporary file, fsync, rename) so a crash leaves the old state or the new, never half.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ReservationStore } from '@iscsi-ts/scsi'

export class FileReservationStore implements ReservationStore {
  readonly path: string

  constructor(path: string) {
    this.path = path
  }

  async load(): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async save(state: Buffer): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    const temporary = `${this.path}.${process.pid}.tmp`
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(state)
      await handle.sync()
    } catch (error) {
      await handle.close()
      await rm(temporary, { force: true })
      throw error
    }
    await handle.close()
    await rename(temporary, this.path)
  }
}
