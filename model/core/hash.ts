/**
 * 64-bit structural hashing for the persistent delivery core.
 *
 * Every node of the model state (a vector set, a device record, a table of
 * pins or vCPUs, the system itself) carries its hash in two 32-bit lanes,
 * `h1` and `h2`, computed once when the node is built. A node's hash is a sum
 * over its fields of `mix(fieldSalt, fieldHash)` (Zobrist-style): replacing a
 * field subtracts the old contribution and adds the new one, so an update
 * re-hashes only the nodes on the path from the changed field to the root,
 * each in O(1), and never re-hashes unchanged children.
 *
 * Math.imul and 32-bit integer arithmetic only: the result is the same on any
 * machine and any JavaScript engine.
 */

/** A node with a cached 64-bit hash (two 32-bit lanes). */
export interface Hashed {
  readonly h1: number
  readonly h2: number
}

/**
 * Instrumentation: how many node hashes have been computed. It never feeds
 * back into the model; tests and benchmarks read it to show that a one-field
 * change re-hashes only the path to that field.
 */
export const hashStats: { computations: number } = { computations: 0 }

/** murmur3 finaliser: a bijection on 32-bit integers with full avalanche. */
export const fmix32 = (x: number): number => {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x | 0
}

/** FNV-1a over a string's UTF-16 code units (tags and small enums in state). */
export const hashString = (s: string): number => {
  let h = 0x811c9dc5 | 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

/** Per-position salts, derived from a type name and a field index. */
export const salt1 = (typeSalt: number, index: number): number =>
  fmix32((typeSalt ^ Math.imul(index + 1, 0x9e3779b1)) | 0)
export const salt2 = (typeSalt: number, index: number): number =>
  fmix32((Math.imul(typeSalt, 0x27d4eb2f) + Math.imul(index + 1, 0x165667b1)) | 0)

/** A value that may be stored in a hashed node. */
export type HashValue = number | boolean | string | undefined | Hashed

const UNDEF1 = 0x2545f491
const UNDEF2 = 0x6c8e9cf5 | 0

/** Lane 1 of a field value's hash. */
export const valueH1 = (v: HashValue): number => {
  switch (typeof v) {
    case 'number':
      return fmix32((v | 0) ^ 0x3c6ef372 ^ (v === (v | 0) ? 0 : fmix32(Math.floor(v * 4096) | 0)))
    case 'boolean':
      return v ? 0x1b873593 : 0x0cc9e2d5
    case 'string':
      return hashString(v)
    case 'undefined':
      return UNDEF1
    default:
      return v.h1
  }
}

/** Lane 2 of a field value's hash (independent of lane 1). */
export const valueH2 = (v: HashValue): number => {
  switch (typeof v) {
    case 'number':
      return fmix32(Math.imul((v | 0) + 0x7f4a7c15, 0x2c1b3c6d))
    case 'boolean':
      return v ? 0x61c88647 : 0x4f1bbcdd
    case 'string':
      return fmix32(Math.imul(hashString(v), 0x5bd1e995) ^ s2tag)
    case 'undefined':
      return UNDEF2
    default:
      return v.h2
  }
}
const s2tag = 0x68e31da4

/** Contribution of a field value at a salted position, lane 1. */
export const contrib1 = (salt: number, v: HashValue): number => fmix32(valueH1(v) ^ salt)
/** Contribution of a field value at a salted position, lane 2. */
export const contrib2 = (salt: number, v: HashValue): number => fmix32((valueH2(v) + salt) | 0)

/** The 64-bit hash of a node as a 16-hex-digit string (for display and JSON). */
export const hashHex = (n: Hashed): string =>
  (n.h1 >>> 0).toString(16).padStart(8, '0') + (n.h2 >>> 0).toString(16).padStart(8, '0')
