// Mode pages of a logical unit (SPC-4 7.5, SBC-3 6.4): current, changeable and default values of each page, and
// the validation of MODE SELECT page data against them. Saved values are not supported (SP=1 and PC=11b are
// rejected). The pages are shared by every I_T nexus; a change raises MODE PARAMETERS CHANGED for the others.
import { CheckCondition } from '../errors.js'

/** Page codes (SPC-4 table 461, SBC-3 table 154). */
export const ModePage = {
  READ_WRITE_ERROR_RECOVERY: 0x01,
  CACHING: 0x08,
  CONTROL: 0x0a,
  INFORMATIONAL_EXCEPTIONS_CONTROL: 0x1c,
  ALL: 0x3f,
} as const

export type ModePageName = Exclude<keyof typeof ModePage, 'ALL'>

interface PageSpec {
  /** PAGE LENGTH: bytes after the 2-byte header. */
  readonly length: number
  /** Default bytes after the header. */
  readonly defaults: readonly number[]
  /** Changeable bits after the header. */
  readonly changeable: readonly number[]
}

const pad = (length: number, bytes: readonly number[]): number[] => [...bytes, ...new Array<number>(length - bytes.length).fill(0)]

function pageSpecs(writeCache: boolean): Readonly<Record<ModePageName, PageSpec>> {
  return {
    // SBC-3 6.4.7: AWRE and ARRE set (the backstore reallocates); nothing changeable.
    READ_WRITE_ERROR_RECOVERY: { length: 0x0a, defaults: pad(0x0a, [0xc0]), changeable: pad(0x0a, []) },
    // SBC-3 6.4.5: byte 2 WCE (bit 2) changeable; WCE=0 makes every write write-through (FUA).
    CACHING: { length: 0x12, defaults: pad(0x12, [writeCache ? 0x04 : 0x00]), changeable: pad(0x12, [0x04]) },
    // SPC-4 7.5.8: byte 2 GLTSD (bit 1) set, D_SENSE (bit 2) changeable; byte 3 QUEUE ALGORITHM MODIFIER 1
    // (unrestricted reordering of SIMPLE tasks); byte 4 SWP (bit 3) changeable; TAS=0; BUSY TIMEOUT PERIOD
    // FFFFh (unlimited).
    CONTROL: { length: 0x0a, defaults: pad(0x0a, [0x02, 0x10, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]), changeable: pad(0x0a, [0x04, 0x00, 0x08]) },
    // SPC-4 7.5.13: DEXCPT set (no informational exceptions are generated); DEXCPT, EWASC and MRIE changeable.
    INFORMATIONAL_EXCEPTIONS_CONTROL: { length: 0x0a, defaults: pad(0x0a, [0x08, 0x00]), changeable: pad(0x0a, [0x18, 0x0f]) },
  }
}

const pageNames = (Object.keys(ModePage) as Array<keyof typeof ModePage>).filter((name): name is ModePageName => name !== 'ALL')
const nameByCode = new Map<number, ModePageName>(pageNames.map((name) => [ModePage[name], name]))

/** PAGE CONTROL (SPC-4 6.13 table 150). */
export type PageControl = 'current' | 'changeable' | 'default' | 'saved'
export const PAGE_CONTROLS: readonly PageControl[] = ['current', 'changeable', 'default', 'saved']

export class ModeParameters {
  private readonly specs: Readonly<Record<ModePageName, PageSpec>>
  private current: Record<ModePageName, Buffer>

  constructor(options: { writeCache?: boolean } = {}) {
    this.specs = pageSpecs(options.writeCache ?? true)
    this.current = this.defaults()
  }

  private defaults(): Record<ModePageName, Buffer> {
    const pages = {} as Record<ModePageName, Buffer>
    for (const name of pageNames) pages[name] = Buffer.from(this.specs[name].defaults)
    return pages
  }

  /** Back to the default values (logical unit reset, SPC-4 7.5.1: no saved values). */
  reset(): void {
    this.current = this.defaults()
  }

  /** Write cache enabled (caching page WCE). */
  get writeCache(): boolean {
    return (this.current.CACHING[0]! & 0x04) !== 0
  }

  /** Descriptor format sense data (control page D_SENSE). */
  get descriptorSense(): boolean {
    return (this.current.CONTROL[0]! & 0x04) !== 0
  }

  /** Software write protect (control page SWP). */
  get softwareWriteProtect(): boolean {
    return (this.current.CONTROL[2]! & 0x08) !== 0
  }

  /** Whether a page code names a page of this LU. */
  static has(code: number): boolean {
    return nameByCode.has(code)
  }

  /** Page codes in ascending order. */
  static codes(): number[] {
    return [...nameByCode.keys()].sort((a, b) => a - b)
  }

  /** One page with its 2-byte header, for a page control other than saved. */
  page(code: number, control: Exclude<PageControl, 'saved'>): Buffer {
    const name = nameByCode.get(code)
    if (name === undefined) throw new RangeError(`mode page 0x${code.toString(16)} is not supported`)
    const spec = this.specs[name]
    const body = control === 'current' ? this.current[name] : control === 'changeable' ? Buffer.from(spec.changeable) : Buffer.from(spec.defaults)
    return Buffer.concat([Buffer.from([code, spec.length]), body])
  }

  /**
   * Validate and apply the pages of a MODE SELECT parameter list (the part after header and block descriptors, at
   * `offset` in the list, for field pointers). All pages are checked before any is applied. Returns whether a
   * current value changed.
   */
  select(pages: Buffer, offset: number): boolean {
    const updates: Array<readonly [ModePageName, Buffer]> = []
    let at = 0
    while (at < pages.length) {
      if (at + 2 > pages.length) throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: 'mode page header is truncated' })
      const first = pages[at]!
      const code = first & 0x3f
      const name = nameByCode.get(code)
      if ((first & 0x40) !== 0 || name === undefined) {
        // SPF=1 (sub_page format) names a subpage; this LU has none.
        throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
          fieldPointer: { inCdb: false, byte: offset + at, bit: (first & 0x40) !== 0 ? 6 : 5 },
          message: `mode page 0x${code.toString(16)}${(first & 0x40) !== 0 ? ' subpage format' : ''} is not supported`,
        })
      }
      const spec = this.specs[name]
      if (pages[at + 1] !== spec.length) {
        throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
          fieldPointer: { inCdb: false, byte: offset + at + 1 },
          message: `mode page 0x${code.toString(16)} length ${pages[at + 1]} is not ${spec.length}`,
        })
      }
      if (at + 2 + spec.length > pages.length) {
        throw new CheckCondition('ILLEGAL_REQUEST', 'PARAMETER_LIST_LENGTH_ERROR', { message: `mode page 0x${code.toString(16)} is truncated` })
      }
      const body = pages.subarray(at + 2, at + 2 + spec.length)
      const current = updates.find(([pending]) => pending === name)?.[1] ?? this.current[name]
      for (let i = 0; i < spec.length; i++) {
        // SPC-4 6.11: a bit that is not changeable must hold its current value.
        const differs = (body[i]! ^ current[i]!) & ~spec.changeable[i]! & 0xff
        if (differs !== 0) {
          throw new CheckCondition('ILLEGAL_REQUEST', 'INVALID_FIELD_IN_PARAMETER_LIST', {
            fieldPointer: { inCdb: false, byte: offset + at + 2 + i, bit: 31 - Math.clz32(differs) },
            message: `mode page 0x${code.toString(16)} byte ${i + 2} changes a field that is not changeable`,
          })
        }
      }
      updates.push([name, Buffer.from(body)])
      at += 2 + spec.length
    }
    let changed = false
    for (const [name, body] of updates) {
      if (!body.equals(this.current[name])) changed = true
      this.current[name] = body
    }
    return changed
  }
}
