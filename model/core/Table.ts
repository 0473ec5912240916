/**
 * Table: a fixed-length immutable array of hashed values (per-pin and
 * per-vCPU tables). Tables in this model are small (at most 24 IOAPIC pins,
 * 16 PIC lines, 8 vCPUs), so an update copies the spine (one array of
 * pointers) and shares every element; a trie would cost more per access at
 * this size. The hash is the Zobrist sum of the elements' hashes salted by
 * index, adjusted in O(1) per update. `set` of an identical value returns
 * the same table.
 */
import { contrib1, contrib2, hashStats, hashString, salt1, salt2, type Hashed, type HashValue } from './hash.js'

export interface Table<T extends HashValue> extends Hashed {
  readonly items: ReadonlyArray<T>
}

const TSALT = hashString('Table')
const S1: number[] = []
const S2: number[] = []
const s1 = (i: number): number => S1[i] ?? (S1[i] = salt1(TSALT, i))
const s2 = (i: number): number => S2[i] ?? (S2[i] = salt2(TSALT, i))

export const Table = {
  of<T extends HashValue>(items: ReadonlyArray<T>): Table<T> {
    let h1 = salt1(TSALT, -1 - items.length)
    let h2 = salt2(TSALT, -1 - items.length)
    for (let i = 0; i < items.length; i++) {
      h1 = (h1 + contrib1(s1(i), items[i])) | 0
      h2 = (h2 + contrib2(s2(i), items[i])) | 0
    }
    hashStats.computations++
    return { items: items.slice(), h1, h2 }
  },
  fill<T extends HashValue>(n: number, f: (i: number) => T): Table<T> {
    return Table.of(Array.from({ length: n }, (_, i) => f(i)))
  },
  get<T extends HashValue>(t: Table<T>, i: number): T {
    if (i < 0 || i >= t.items.length) throw new RangeError(`Table index ${i} out of range 0..${t.items.length - 1}`)
    return t.items[i] as T
  },
  set<T extends HashValue>(t: Table<T>, i: number, v: T): Table<T> {
    const old = Table.get(t, i)
    if (old === v) return t
    const items = t.items.slice()
    items[i] = v
    hashStats.computations++
    return {
      items,
      h1: (t.h1 - contrib1(s1(i), old) + contrib1(s1(i), v)) | 0,
      h2: (t.h2 - contrib2(s2(i), old) + contrib2(s2(i), v)) | 0,
    }
  },
  modify<T extends HashValue>(t: Table<T>, i: number, f: (v: T) => T): Table<T> {
    return Table.set(t, i, f(Table.get(t, i)))
  },
  size<T extends HashValue>(t: Table<T>): number {
    return t.items.length
  },
}
