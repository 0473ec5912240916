/**
 * VectorSet: an immutable 256-bit set of interrupt vectors (IRR, ISR, TMR,
 * PIR), eight 32-bit words, with a cached 64-bit hash.
 *
 * The LAPIC keeps these as eight 32-bit registers at 0x10 spacing
 * (arch/x86/kvm/lapic.c, `apic_find_highest_vector` scans them from the top:
 * `for (vec = MAX_APIC_VECTOR - APIC_VECTORS_PER_REG; vec >= 0; vec -= 32)`),
 * and `highest` here does the same: at most 8 words, `Math.clz32` on the
 * first non-zero one. `add` of a present vector and `remove` of an absent one
 * return the same object.
 */
import { fmix32, hashStats, type Hashed } from './hash.js'

export interface VectorSet extends Hashed {
  /** Eight words, word i holding vectors 32*i .. 32*i+31 (bit b = vector 32*i+b). */
  readonly words: ReadonlyArray<number>
}

const W1 = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89]
const W2 = [0x452821e6, 0x38d01377, 0xbe5466cf, 0x34e90c6c, 0xc0ac29b7, 0xc97c50dd, 0x3f84d5b5, 0xb5470917]

const wordH1 = (i: number, w: number): number => (w === 0 ? 0 : fmix32(w ^ W1[i]!))
const wordH2 = (i: number, w: number): number => (w === 0 ? 0 : fmix32((Math.imul(w, 0x9e3779b1) + W2[i]!) | 0))

const build = (words: ReadonlyArray<number>): VectorSet => {
  let h1 = 0x5be0cd19
  let h2 = 0x1f83d9ab
  for (let i = 0; i < 8; i++) {
    h1 = (h1 + wordH1(i, words[i]!)) | 0
    h2 = (h2 + wordH2(i, words[i]!)) | 0
  }
  hashStats.computations++
  return { words, h1, h2 }
}

const EMPTY: VectorSet = { words: [0, 0, 0, 0, 0, 0, 0, 0], h1: 0x5be0cd19, h2: 0x1f83d9ab }

const checkVector = (v: number): void => {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`vector ${v} is not in 0..255`)
}

const withWord = (s: VectorSet, i: number, w: number): VectorSet => {
  const old = s.words[i]!
  if (old === w) return s
  const words = s.words.slice()
  words[i] = w
  hashStats.computations++
  return {
    words,
    h1: (s.h1 - wordH1(i, old) + wordH1(i, w)) | 0,
    h2: (s.h2 - wordH2(i, old) + wordH2(i, w)) | 0,
  }
}

export const VectorSet = {
  empty: EMPTY,
  of(...vectors: number[]): VectorSet {
    const words = [0, 0, 0, 0, 0, 0, 0, 0]
    for (const v of vectors) {
      checkVector(v)
      words[v >>> 5] = (words[v >>> 5]! | (1 << (v & 31))) | 0
    }
    return vectors.length === 0 ? EMPTY : build(words)
  },
  has(s: VectorSet, v: number): boolean {
    return ((s.words[v >>> 5]! >>> (v & 31)) & 1) === 1
  },
  add(s: VectorSet, v: number): VectorSet {
    checkVector(v)
    const i = v >>> 5
    return withWord(s, i, (s.words[i]! | (1 << (v & 31))) | 0)
  },
  remove(s: VectorSet, v: number): VectorSet {
    checkVector(v)
    const i = v >>> 5
    return withWord(s, i, (s.words[i]! & ~(1 << (v & 31))) | 0)
  },
  /** Highest set vector, or -1 when empty: at most 8 word reads. */
  highest(s: VectorSet): number {
    const w = s.words
    for (let i = 7; i >= 0; i--) {
      const x = w[i]!
      if (x !== 0) return (i << 5) + 31 - Math.clz32(x)
    }
    return -1
  },
  isEmpty(s: VectorSet): boolean {
    const w = s.words
    return (w[0]! | w[1]! | w[2]! | w[3]! | w[4]! | w[5]! | w[6]! | w[7]!) === 0
  },
  /** Members in ascending order (display, tests). */
  toArray(s: VectorSet): number[] {
    const out: number[] = []
    for (let i = 0; i < 8; i++) {
      let x = s.words[i]! >>> 0
      while (x !== 0) {
        const b = 31 - Math.clz32(x & -x)
        out.push((i << 5) + b)
        x = (x & (x - 1)) >>> 0
      }
    }
    return out
  },
  size(s: VectorSet): number {
    let n = 0
    for (let i = 0; i < 8; i++) {
      let x = s.words[i]! >>> 0
      while (x !== 0) {
        x = (x & (x - 1)) >>> 0
        n++
      }
    }
    return n
  },
  equals(a: VectorSet, b: VectorSet): boolean {
    if (a === b) return true
    for (let i = 0; i < 8; i++) if (a.words[i] !== b.words[i]) return false
    return true
  },
}
