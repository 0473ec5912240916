/**
 * The visited set: an open-addressing hash table of 64-bit fingerprints
 * (two 32-bit lanes) in typed arrays, mapping each to a dense state index.
 * 12 bytes per slot at ≤ 50 % load, no per-entry objects, so millions of
 * states cost tens of MB and no GC pressure. Linear probing; grows by doubling.
 */
export class FingerprintSet {
  /** Slot j is t[3j] = h1, t[3j+1] = h2, t[3j+2] = state index + 1 (0 = empty): one slot is one cache
   * line fetch, where three parallel arrays cost three misses per probe on a table far larger than the cache. */
  private t: Int32Array
  private mask: number
  size = 0

  constructor(capacityPow2 = 1 << 16) {
    this.t = new Int32Array(capacityPow2 * 3)
    this.mask = capacityPow2 - 1
  }

  /** The index of (h1,h2) if present, else -1. */
  get(h1: number, h2: number): number {
    const t = this.t
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (;;) {
      const o = i * 3
      const v = t[o + 2]!
      if (v === 0) return -1
      if (t[o] === h1 && t[o + 1] === h2) return v - 1
      i = (i + 1) & this.mask
    }
  }

  /** Insert (h1,h2) with `index` if absent; returns the existing index or -1 if inserted. */
  add(h1: number, h2: number, index: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow()
    const t = this.t
    let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & this.mask
    for (;;) {
      const o = i * 3
      const v = t[o + 2]!
      if (v === 0) {
        t[o] = h1
        t[o + 1] = h2
        t[o + 2] = index + 1
        this.size++
        return -1
      }
      if (t[o] === h1 && t[o + 1] === h2) return v - 1
      i = (i + 1) & this.mask
    }
  }

  /** Visit every (h1, h2, index). */
  forEach(f: (h1: number, h2: number, index: number) => void): void {
    const t = this.t
    for (let o = 0; o < t.length; o += 3) if (t[o + 2] !== 0) f(t[o]!, t[o + 1]!, t[o + 2]! - 1)
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return (this.mask + 1) * 12
  }

  private grow(): void {
    const old = this.t
    const cap = (this.mask + 1) * 2
    this.t = new Int32Array(cap * 3)
    this.mask = cap - 1
    this.size = 0
    for (let o = 0; o < old.length; o += 3) if (old[o + 2] !== 0) this.add(old[o]!, old[o + 1]!, old[o + 2]! - 1)
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
