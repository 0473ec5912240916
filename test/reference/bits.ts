/**
 * Naive helpers for the reference models: numbers <-> arrays of booleans and
 * register fields by division/modulo. Deliberately slow and obvious; no bitwise
 * operators, so they share no code or idiom with model/.
 */

/** Element `i` of `a`, failing loudly instead of returning undefined. */
export function at<T>(a: readonly T[], i: number): T {
  const v = a[i]
  if (v === undefined) throw new Error(`reference: index ${i} out of range 0..${a.length - 1}`)
  return v
}

/** `width` booleans, element i = bit i of `value` (value taken as an unsigned integer). */
export function bitsOf(value: number, width: number): boolean[] {
  const out: boolean[] = []
  let v = Math.floor(value)
  if (v < 0) v = v + 4294967296
  for (let i = 0; i < width; i++) {
    out.push(v % 2 === 1)
    v = Math.floor(v / 2)
  }
  return out
}

/** The unsigned number whose bit i is `bits[i]` (at most 32 bits wide here). */
export function valueOf(bits: readonly boolean[]): number {
  let v = 0
  for (let i = bits.length - 1; i >= 0; i--) v = v * 2 + (bits[i] === true ? 1 : 0)
  return v
}

/** Bits lo..lo+width-1 of the unsigned value `value`. */
export function field(value: number, lo: number, width: number): number {
  let v = Math.floor(value)
  if (v < 0) v = v + 4294967296
  return Math.floor(v / Math.pow(2, lo)) % Math.pow(2, width)
}

/** `value` with bits lo..lo+width-1 replaced by `f`. */
export function withField(value: number, lo: number, width: number, f: number): number {
  const old = field(value, lo, width)
  let v = Math.floor(value)
  if (v < 0) v = v + 4294967296
  return v - old * Math.pow(2, lo) + (f % Math.pow(2, width)) * Math.pow(2, lo)
}

/** Is bit `i` of `value` set? */
export function bit(value: number, i: number): boolean {
  return field(value, i, 1) === 1
}

/** A fresh array of `n` copies of `v`. */
export function filled<T>(n: number, v: T): T[] {
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(v)
  return out
}

/** Indices i with a[i] true, ascending. */
export function trueIndices(a: readonly boolean[]): number[] {
  const out: number[] = []
  for (let i = 0; i < a.length; i++) if (a[i] === true) out.push(i)
  return out
}

/** Number of true elements. */
export function countTrue(a: readonly boolean[]): number {
  let n = 0
  for (const b of a) if (b) n++
  return n
}

/** The highest index with a[i] true, or -1. */
export function highestTrue(a: readonly boolean[]): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] === true) return i
  return -1
}
