/**
 * A worker of the parallel BFS (checker/runtime/parallel.ts). Every level's frontier is an array of
 * encoded states in shared memory (the model's `codec`); workers take chunks of it by compare-and-swap
 * of a shared cursor, so the work is balanced whatever the graph looks like. Each successor's
 * fingerprint is inserted into the shared table; the worker that inserted it first keeps it (encoded,
 * locally) for the next level, which the coordinator assembles at the end of the level. Workers check
 * always-, step- and sometimes-properties and deadlocks and report only flags and counts: the
 * coordinator re-runs the deterministic sequential search to produce a counterexample.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { buildModel } from '../../models/registry.js'
import type { Hashed } from '../../model/core/hash.js'
import { insert, type Slots } from './sharedTable.js'

export type ToWorker =
  | { readonly cmd: 'table'; readonly slots: SharedArrayBuffer; readonly capacity: number }
  /** A new level: its encoded states and its length; ctl[0] is the shared cursor. */
  | { readonly cmd: 'level'; readonly states: SharedArrayBuffer; readonly count: number; readonly ctl: SharedArrayBuffer }
  /** Expand chunks below `end`; stop claiming once this round's insertions could pass `maxFresh`. */
  | { readonly cmd: 'round'; readonly end: number; readonly maxFresh: number; readonly cutoff: boolean }
  /** How many next-level states this worker holds (reply: number). */
  | { readonly cmd: 'count' }
  /** Copy them into `into` at state offset `at`, and forget them. */
  | { readonly cmd: 'flush'; readonly into: SharedArrayBuffer; readonly at: number }

export interface RoundResult {
  readonly degree: number
  readonly expanded: number
  readonly generated: number
  readonly fresh: number
  readonly inv: number
  readonly step: number
  readonly some: number
  readonly dead: boolean
  /** At the depth bound: a state with enabled events was not expanded. */
  readonly cut: boolean
}

import { CHUNK } from './sharedTable.js'

const { model, params, bug } = workerData as { model: string; params: Record<string, number>; bug?: string }
const { spec } = buildModel(model, params, bug)
const codec = spec.codec!
const W = codec.words
const canon = spec.representative ?? ((s: Hashed) => s)
const fp = spec.fingerprint ?? ((s: Hashed) => s)
const always = spec.properties.filter((p) => p.expectation === 'always')
const sometimes = spec.properties.filter((p) => p.expectation === 'sometimes')
const steps = spec.stepProperties ?? []
let t: Slots = new Int32Array(0), mask = 0
let cur: Slots = new Int32Array(0), count = 0, ctl: Slots = new Int32Array(1)
let next = new Int32Array(1 << 16), nextLen = 0 // encoded next-level states, in words
let degree = 1 // the largest out-degree seen
let found = 0 // sometimes-properties this worker has seen hold

const keep = (n: Hashed): void => {
  if (nextLen + W > next.length) { const b = new Int32Array(next.length * 2); b.set(next); next = b }
  codec.encode(n, next, nextLen)
  nextLen += W
}

parentPort!.on('message', (m: ToWorker) => {
  switch (m.cmd) {
    case 'table':
      t = new Int32Array(m.slots); mask = m.capacity - 1
      parentPort!.postMessage(0)
      return
    case 'level':
      cur = new Int32Array(m.states); count = m.count; ctl = new Int32Array(m.ctl)
      parentPort!.postMessage(0)
      return
    case 'count':
      parentPort!.postMessage(nextLen / W)
      return
    case 'flush':
      new Int32Array(m.into).set(next.subarray(0, nextLen), m.at * W)
      nextLen = 0
      if (next.length > 1 << 20) next = new Int32Array(1 << 16)
      parentPort!.postMessage(0)
      return
    case 'round': {
      let expanded = 0, generated = 0, fresh = 0, inv = 0, step = 0, dead = false, cut = false
      const end = Math.min(m.end, count)
      for (;;) {
        if (fresh + CHUNK * degree > m.maxFresh) break
        const c = Atomics.load(ctl, 0)
        if (c >= end) break
        const hi = Math.min(c + CHUNK, end)
        if (Atomics.compareExchange(ctl, 0, c, hi) !== c) continue
        for (let i = c; i < hi; i++) {
          const s = codec.decode(cur, i * W) // already canonical: it was stored after canon
          expanded++
          const en = spec.enabled(s)
          if (en.length > degree) degree = en.length
          if (en.length === 0 && !(spec.isTerminal?.(s) ?? false)) dead = true
          if (m.cutoff) { if (en.length > 0) cut = true; continue }
          for (let k = 0; k < en.length; k++) {
            const e = en[k]!
            const n = canon(spec.reduce(s, e))
            generated++
            for (let j = 0; j < steps.length; j++) if (!steps[j]!.holdsStep(s, e, n)) step |= 1 << j
            const h = fp(n)
            if (!insert(t, mask, h.h1, h.h2)) continue
            fresh++
            keep(n)
            for (let j = 0; j < always.length; j++) if (!always[j]!.holds(n)) inv |= 1 << j
            for (let j = 0; j < sometimes.length; j++) if (!((found >>> j) & 1) && sometimes[j]!.holds(n)) found |= 1 << j
          }
        }
      }
      const r: RoundResult = { degree, expanded, generated, fresh, inv, step, some: found, dead, cut }
      parentPort!.postMessage(r)
    }
  }
})
