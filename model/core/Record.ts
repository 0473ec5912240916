/**
 * Hashed immutable records: the node type of the persistent state.
 *
 * `recordType(name, keys)` returns a constructor and a field updater for one
 * record shape. `make` hashes all fields once; `set` and `update` return the
 * same object when nothing changes, and otherwise copy the record (sharing
 * every child) and adjust the cached hash incrementally for the changed
 * fields only.
 */
import { contrib1, contrib2, hashStats, hashString, salt1, salt2, type Hashed, type HashValue } from './hash.js'

/** A record type whose fields are all hashable values. */
export type Fields<T> = { readonly [K in keyof T]: HashValue }

export interface RecordType<T extends Fields<T>> {
  readonly name: string
  readonly keys: ReadonlyArray<keyof T & string>
  make(fields: T): T & Hashed
  set<K extends keyof T & string>(r: T & Hashed, key: K, value: T[K]): T & Hashed
  update(r: T & Hashed, patch: Partial<T>): T & Hashed
}

export const recordType = <T extends Fields<T>>(name: string, keys: ReadonlyArray<keyof T & string>): RecordType<T> => {
  const typeSalt = hashString(name)
  const s1: Record<string, number> = Object.create(null)
  const s2: Record<string, number> = Object.create(null)
  keys.forEach((k, i) => {
    s1[k] = salt1(typeSalt, i)
    s2[k] = salt2(typeSalt, i)
  })
  const base1 = salt1(typeSalt, -7)
  const base2 = salt2(typeSalt, -7)

  // Generated copiers (one object literal per record type), so every record of a type has one hidden
  // class and a copy is a single allocation with no per-key lookups: `update` and `set` are the
  // checker's hot path (the profile of twophase rms=8 put 30 % of the time in the generic copy loop).
  const lit = (value: (k: string) => string): string =>
    `return {${keys.map((k) => `${JSON.stringify(k)}: ${value(k)}`).join(', ')}, h1: h1, h2: h2}`
  const prop = (obj: string, k: string): string => `${obj}[${JSON.stringify(k)}]`
  const fromFields = new Function('f', 'h1', 'h2', lit((k) => prop('f', k))) as (f: T, h1: number, h2: number) => T & Hashed
  const withField = new Function('r', 'key', 'v', 'h1', 'h2', lit((k) => `key === ${JSON.stringify(k)} ? v : ${prop('r', k)}`)) as
    (r: T & Hashed, key: string, v: unknown, h1: number, h2: number) => T & Hashed
  const withPatch = new Function('r', 'p', 'h1', 'h2', lit((k) => `${prop('p', k)} !== undefined || ${JSON.stringify(k)} in p ? ${prop('p', k)} : ${prop('r', k)}`)) as
    (r: T & Hashed, p: Partial<T>, h1: number, h2: number) => T & Hashed

  const make = (fields: T): T & Hashed => {
    let h1 = base1
    let h2 = base2
    for (const k of keys) {
      const v = fields[k] as HashValue
      h1 = (h1 + contrib1(s1[k]!, v)) | 0
      h2 = (h2 + contrib2(s2[k]!, v)) | 0
    }
    hashStats.computations++
    return fromFields(fields, h1, h2)
  }

  const update = (r: T & Hashed, patch: Partial<T>): T & Hashed => {
    let h1 = r.h1
    let h2 = r.h2
    let changed = false
    for (const k in patch) {
      const v = patch[k] as HashValue
      const old = r[k] as HashValue
      if (v === old || !(k in s1)) continue
      changed = true
      h1 = (h1 - contrib1(s1[k]!, old) + contrib1(s1[k]!, v)) | 0
      h2 = (h2 - contrib2(s2[k]!, old) + contrib2(s2[k]!, v)) | 0
    }
    if (!changed) return r
    hashStats.computations++
    return withPatch(r, patch, h1, h2)
  }

  const set = <K extends keyof T & string>(r: T & Hashed, key: K, value: T[K]): T & Hashed => {
    const old = r[key] as HashValue
    if (old === value) return r
    const v = value as HashValue
    if (!(key in s1)) return r
    hashStats.computations++
    return withField(r, key, value,
      (r.h1 - contrib1(s1[key]!, old) + contrib1(s1[key]!, v)) | 0,
      (r.h2 - contrib2(s2[key]!, old) + contrib2(s2[key]!, v)) | 0)
  }

  return { name, keys, make, set, update }
}
