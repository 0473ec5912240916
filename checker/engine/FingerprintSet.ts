/**
 * The visited set: an open-addressing hash table of 64-bit fingerprints
 * (two 32-bit lanes) in typed arrays, mapping each to a dense state index.
 * 12 bytes per slot at ≤ 50 % load, no per-entry objects, so millions of
 * states cost tens of MB and no GC pressure. Linear probing; grows by doubling.
 */
export class FingerprintSet {
  private h1s: Int32Array
  private h2s: Int32Array
  /** state index + 1; 0 = empty slot */
  private idx: Int32Array
  private mask: number
  size = 0

  constructor(capacityPow2 = 1 << 16) {
    this.h1s = new Int32Array(capacityPow2)
    this.h2s = new Int32Array(capacityPow2)
    this.idx = new Int32Array(capacityPow2)
    this.mask = capacityPow2 - 1
  }

  /** The index of (h1,h2) if present, else -1. */
  get(h1: number, h2: number): number {
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (;;) {
      const v = this.idx[i]!
      if (v === 0) return -1
      if (this.h1s[i] === h1 && this.h2s[i] === h2) return v - 1
      i = (i + 1) & this.mask
    }
  }

  /** Insert (h1,h2) with `index` if absent; returns the existing index or -1 if inserted. */
  add(h1: number, h2: number, index: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow()
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (;;) {
      const v = this.idx[i]!
      if (v === 0) {
        this.h1s[i] = h1
        this.h2s[i] = h2
        this.idx[i] = index + 1
        this.size++
        return -1
      }
      if (this.h1s[i] === h1 && this.h2s[i] === h2) return v - 1
      i = (i + 1) & this.mask
    }
  }

  /** Visit every (h1, h2, index). */
  forEach(f: (h1: number, h2: number, index: number) => void): void {
    for (let j = 0; j < this.idx.length; j++) if (this.idx[j] !== 0) f(this.h1s[j]!, this.h2s[j]!, this.idx[j]! - 1)
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return (this.mask + 1) * 12
  }

  private grow(): void {
    const { h1s, h2s, idx } = this
    const cap = (this.mask + 1) * 2
    this.h1s = new Int32Array(cap)
    this.h2s = new Int32Array(cap)
    this.idx = new Int32Array(cap)
    this.mask = cap - 1
    this.size = 0
    for (let j = 0; j < idx.length; j++) if (idx[j] !== 0) this.add(h1s[j]!, h2s[j]!, idx[j]! - 1)
  }
}

/** A growable Int32 column (parent pointers, event indices, edges). */
export class IntColumn {
  data: Int32Array
  length = 0
  constructor(capacity = 1 << 16) {
    this.data = new Int32Array(capacity)
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2)
      d.set(this.data)
      this.data = d
    }
    this.data[this.length++] = v
  }
  at(i: number): number {
    return this.data[i]!
  }
}
