// Assembling a command's Data-In straight into the caller's buffer (RFC 7143 11.7). We negotiate
// DataPDUInOrder=Yes and DataSequenceInOrder=Yes (both OR-ed, so the answer stays Yes, RFC 7143 13.18-13.19): data
// arrives at increasing, contiguous offsets, and the DataSN of a command's Data-In PDUs counts 0, 1, 2... (shared
// with its R2Ts when the command is bidirectional, RFC 7143 11.7.5). Anything else is a protocol error that
// ERL 0 cannot repair.

export interface DataInSegment {
  readonly dataSN: number
  readonly bufferOffset: number
  readonly data: Uint8Array
}

export class DataInAssembler {
  readonly #buffer: Buffer
  readonly #limit: number
  #received = 0
  #expectedDataSN = 0

  /**
   * `buffer` receives the data; `limit` is the Expected Data Transfer Length (at most `buffer.length`). Bytes the
   * target sends beyond `limit` are a protocol error (it must report them as residual overflow instead).
   */
  constructor(buffer: Buffer, limit: number) {
    if (limit > buffer.length) throw new RangeError(`a ${buffer.length}-byte buffer can't hold ${limit} bytes of data-in`)
    this.#buffer = buffer
    this.#limit = limit
  }

  /** Bytes received so far (contiguous from offset 0). */
  get received(): number {
    return this.#received
  }

  /** The DataSN the next Data-In (or, for bidirectional commands, R2T) must carry. */
  get expectedDataSN(): number {
    return this.#expectedDataSN
  }

  /** Counts an R2T of a bidirectional command, which shares the DataSN sequence (RFC 7143 11.7.5). */
  countR2T(r2tSN: number): string | undefined {
    if (r2tSN !== this.#expectedDataSN) return `R2TSN ${r2tSN}, expected ${this.#expectedDataSN}`
    this.#expectedDataSN = (this.#expectedDataSN + 1) >>> 0
    return undefined
  }

  /** Copies one Data-In PDU's data into place. Returns what is wrong, or undefined when it fitted. */
  accept(segment: DataInSegment): string | undefined {
    const data = segment.data
    // Placed by the receiver straight into our buffer: already where it belongs.
    const inPlace = data.buffer === this.#buffer.buffer && data.byteOffset === this.#buffer.byteOffset + segment.bufferOffset
    const problem = this.#check(segment.dataSN, segment.bufferOffset, data.length)
    if (problem !== undefined) return problem
    if (!inPlace) this.#buffer.set(data, segment.bufferOffset)
    this.#advance(segment.bufferOffset + data.length)
    return undefined
  }

  /**
   * Counts a Data-In PDU whose `length` bytes the receiver already wrote at `bufferOffset` of our buffer (after
   * `placement` said yes). Returns what is wrong, or undefined.
   */
  acceptPlaced(dataSN: number, bufferOffset: number, length: number): string | undefined {
    const problem = this.#check(dataSN, bufferOffset, length)
    if (problem !== undefined) return problem
    this.#advance(bufferOffset + length)
    return undefined
  }

  #check(dataSN: number, bufferOffset: number, length: number): string | undefined {
    if (dataSN !== this.#expectedDataSN) return `DataSN ${dataSN}, expected ${this.#expectedDataSN}`
    if (bufferOffset !== this.#received) return `Data-In at offset ${bufferOffset}, expected ${this.#received} (DataPDUInOrder=Yes)`
    const end = bufferOffset + length
    if (end > this.#limit) return `Data-In up to byte ${end} of a ${this.#limit}-byte expected transfer`
    return undefined
  }

  #advance(end: number): void {
    this.#received = end
    this.#expectedDataSN = (this.#expectedDataSN + 1) >>> 0
  }

  /**
   * Where the next `length` bytes at `bufferOffset` with `dataSN` may be received directly: the caller's buffer
   * (the bytes land at `bufferOffset`) when the PDU is the one expected next and fits, else undefined (it then goes
   * through `accept`'s checks).
   */
  placement(dataSN: number, bufferOffset: number, length: number): Buffer | undefined {
    if (dataSN !== this.#expectedDataSN || bufferOffset !== this.#received || bufferOffset + length > this.#limit) return undefined
    return this.#buffer
  }

  /** The data received: the caller's buffer itself when it is exactly filled, else a view of it. */
  result(): Buffer {
    return this.#received === this.#buffer.length ? this.#buffer : this.#buffer.subarray(0, this.#received)
  }
}
