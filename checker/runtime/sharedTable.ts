/**
 * The visited set shared by the worker threads of the parallel BFS (checker/runtime/parallel.ts): an
 * open-addressing table of 64-bit fingerprints in a SharedArrayBuffer, inserted lock-free.
 *
 * Slot j is t[3j] = h1, t[3j+1] = h2, t[3j+2] = tag (0 empty, -1 being written, 1 full). A thread
 * claims an empty slot by compare-and-swap of the tag 0 → -1, writes the fingerprint, then publishes it
 * with an atomic store of 1; a reader that meets -1 waits for the publish before comparing. Atomics are
 * sequentially consistent, so the plain writes before the publishing store are visible to any thread
 * whose atomic load reads it (ECMAScript memory model, "synchronizes-with"). There is no shared entry
 * counter (one cache line written by every insert of every thread would serialize them): each thread
 * counts what it inserted. The table never grows while threads insert: the coordinator grows it between
 * rounds (`grow`) and bounds what a round may insert.
 */
export interface SharedTable {
  readonly slots: SharedArrayBuffer
  readonly capacity: number
}
export type Slots = Int32Array<ArrayBufferLike>

export const createTable = (capacity: number): SharedTable => ({
  slots: new SharedArrayBuffer(capacity * 12),
  capacity,
})

/** Insert (h1, h2); true if it was absent (this thread added it), false if present. */
export const insert = (t: Slots, mask: number, h1: number, h2: number): boolean => {
  let i = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask
  for (;;) {
    const o = i * 3
    let tag = Atomics.load(t, o + 2)
    if (tag === 0) {
      if (Atomics.compareExchange(t, o + 2, 0, -1) === 0) {
        t[o] = h1
        t[o + 1] = h2
        Atomics.store(t, o + 2, 1)
        return true
      }
      tag = Atomics.load(t, o + 2)
    }
    while (tag === -1) tag = Atomics.load(t, o + 2)
    if (t[o] === h1 && t[o + 1] === h2) return false
    i = (i + 1) & mask
  }
}

/** A table of twice the capacity holding every entry of `old` (no thread may insert meanwhile). */
export const grow = (old: SharedTable): SharedTable => {
  const next = createTable(old.capacity * 2)
  const a = new Int32Array(old.slots), b = new Int32Array(next.slots)
  const mask = next.capacity - 1
  for (let o = 0; o < a.length; o += 3) if (a[o + 2] === 1) insert(b, mask, a[o]!, a[o + 1]!)
  return next
}

/** States a worker claims at a time from a level's shared frontier. */
export const CHUNK = 256
