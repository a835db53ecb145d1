// Physical memory: RAM as one ArrayBuffer seen as bytes, aligned words and a DataView, little-endian like the CPU.
// Addresses at or above the RAM size read as all ones and ignore writes (an empty bus).
//
// Memory also owns the decoded-instruction cache, because it is what sees every write: each physical page that holds
// decoded instructions has a flag, and a write to a flagged page drops the page's decoded records, so that code
// written and then executed runs the new bytes (self-modifying code, program loading, the kernel writing code).

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Int32 words per decoded-instruction record (see decode.ts), one record slot per byte offset of a page. */
export const REC = 8;

/**
 * RAM given back by machines that are done (Memory.release), for the next Memory of the same size: a process that
 * runs machine after machine (a test file, the benchmark) otherwise allocates a fresh 128 MiB ArrayBuffer each time,
 * and V8 answers that much new external memory with a full collection every few machines (measured: a quarter of a
 * small program's run, and the collections slow whatever else the process does). At most two are kept.
 */
const freeRam: ArrayBuffer[] = [];
const FREE_RAM_KEPT = 2;

export class Memory {
  readonly size: number;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly dv: DataView;
  readonly pages: number;
  /** Per physical page: 1 when `decoded[page]` may hold records. Writes to such a page invalidate it. */
  readonly hasCode: Uint8Array;
  /** Per physical page: REC words per byte offset; record word 0 is 0 until that offset is decoded. */
  readonly decoded: (Int32Array | undefined)[];
  /** Called after a page's decoded records are dropped (the MMU clears its TLB marks for the page). */
  onCodeDropped: (page: number) => void = () => {};
  /** Count of pages whose decoded instructions were dropped because of a write. */
  codeInvalidations = 0;

  constructor(bytes: number) {
    if (bytes <= 0 || bytes % PAGE_SIZE !== 0 || bytes > 0x80000000)
      throw new RangeError(`RAM size ${bytes} must be a positive multiple of 4096 up to 2 GiB`);
    this.size = bytes;
    const reused = freeRam.findIndex(b => b.byteLength === bytes);
    const buf = reused >= 0 ? freeRam.splice(reused, 1)[0] : new ArrayBuffer(bytes);
    // Power-on RAM reads as zeros, as a fresh ArrayBuffer does.
    if (reused >= 0) new Uint8Array(buf).fill(0);
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.dv = new DataView(buf);
    this.pages = bytes >>> PAGE_SHIFT;
    this.hasCode = new Uint8Array(this.pages);
    this.decoded = new Array<Int32Array | undefined>(this.pages);
  }

  /**
   * The machine is done: its RAM may be reused by the next Memory of the same size. Whoever calls this must hold
   * no view of the RAM any more (results copied out first); this Memory must not be used again.
   */
  release(): void {
    if (freeRam.length < FREE_RAM_KEPT) freeRam.push(this.u8.buffer as ArrayBuffer);
  }

  /** The decoded-record array of a RAM page (created empty on first use) and the page marked as holding code. */
  codeRecords(page: number): Int32Array {
    let recs = this.decoded[page];
    if (recs === undefined) {
      recs = new Int32Array(PAGE_SIZE * REC);
      this.decoded[page] = recs;
    }
    return recs;
  }

  /** A write is about to change physical page `page`: drop its decoded instructions. */
  dropCode(page: number): void {
    if (page >= this.pages || this.hasCode[page] === 0) return;
    this.hasCode[page] = 0;
    // Zeroed in place rather than replaced: an interpreter loop holding this array sees the zeros and re-decodes.
    this.decoded[page]!.fill(0);
    this.codeInvalidations++;
    this.onCodeDropped(page);
  }

  read8(p: number): number {
    p >>>= 0;
    return p < this.size ? this.u8[p] : 0xff;
  }
  read16(p: number): number {
    p >>>= 0;
    if (p + 1 < this.size) return this.dv.getUint16(p, true);
    return this.read8(p) | (this.read8(p + 1) << 8);
  }
  read32(p: number): number {
    p >>>= 0;
    if ((p & 3) === 0 && p < this.size) return this.i32[p >>> 2];
    if (p + 3 < this.size) return this.dv.getInt32(p, true);
    return this.read8(p) | (this.read8(p + 1) << 8) | (this.read8(p + 2) << 16) | (this.read8(p + 3) << 24);
  }

  write8(p: number, v: number): void {
    p >>>= 0;
    if (p >= this.size) return;
    if (this.hasCode[p >>> PAGE_SHIFT] !== 0) this.dropCode(p >>> PAGE_SHIFT);
    this.u8[p] = v;
  }
  write16(p: number, v: number): void {
    p >>>= 0;
    if ((p & 0xfff) === 0xfff || p + 1 >= this.size) {
      this.write8(p, v);
      this.write8(p + 1, v >>> 8);
      return;
    }
    if (this.hasCode[p >>> PAGE_SHIFT] !== 0) this.dropCode(p >>> PAGE_SHIFT);
    this.dv.setUint16(p, v & 0xffff, true);
  }
  write32(p: number, v: number): void {
    p >>>= 0;
    if ((p & 0xfff) > 0xffc || p + 3 >= this.size) {
      for (let i = 0; i < 4; i++) this.write8(p + i, v >>> (8 * i));
      return;
    }
    if (this.hasCode[p >>> PAGE_SHIFT] !== 0) this.dropCode(p >>> PAGE_SHIFT);
    if ((p & 3) === 0) this.i32[p >>> 2] = v;
    else this.dv.setInt32(p, v, true);
  }

  readBytes(p: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.read8(p + i);
    return out;
  }
  writeBytes(p: number, data: Uint8Array): void {
    p >>>= 0;
    if (p + data.length <= this.size) {
      for (let pg = p >>> PAGE_SHIFT; pg <= (p + data.length - 1) >>> PAGE_SHIFT
        && data.length > 0; pg++) this.dropCode(pg);
      this.u8.set(data, p);
      return;
    }
    for (let i = 0; i < data.length; i++) this.write8(p + i, data[i]);
  }
  /** Zero [p, p+n) (used for fresh frames). */
  zero(p: number, n: number): void {
    p >>>= 0;
    const end = Math.min(this.size, p + n);
    if (p >= end) return;
    for (let pg = p >>> PAGE_SHIFT; pg <= (end - 1) >>> PAGE_SHIFT; pg++) this.dropCode(pg);
    this.u8.fill(0, p, end);
  }
}
