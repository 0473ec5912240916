/**
 * Parallel breadth-first search: worker threads share one visited set (checker/runtime/sharedTable.ts)
 * and each expands its own part of every level, so the coordinator does no per-state work. This is what
 * gives a speed-up on two cores; the merge pool (pool.ts) keeps the visited set in the main thread and
 * only parallelizes `reduce`, which helps models whose steps are expensive and no others.
 *
 * Results do not depend on the number of workers or on scheduling:
 * - a level is finished by every worker before the next begins, so the depth of each state is its BFS
 *   distance; the distinct states are the reachable set and "generated" is the initial states plus the
 *   sum of the out-degrees of the expanded states: both are sums over sets, independent of order;
 * - workers report only flags (which property failed, which witness held, a deadlock). When any is
 *   raised, the coordinator re-runs the sequential BFS (checker/engine/explore.ts), which stops at the
 *   first violation in canonical BFS order: the violation, its shortest counterexample and the counts
 *   printed are exactly those of a one-worker run (the re-run costs at most what the sequential search
 *   would have cost).
 * What it does not do (the caller falls back to the merge pool): eventually-properties (they need the
 * edge list), --max-states, --checkpoint/--resume (they need the parent columns). No parent pointers are
 * kept at all: 12 bytes per table slot, at most 50 % load, plus the frontier's states.
 * Sometimes-witnesses are reported as reached or not; their witness traces come from a sequential run.
 */
import { Worker } from 'node:worker_threads'
import type { Hashed } from '../../model/core/hash.js'
import type { ModelSpec } from '../ModelSpec.js'
import { check, type CheckOptions, type CheckResult } from '../engine/explore.js'
import type { PoolModel } from './pool.js'
import { CHUNK, createTable, grow, insert, type SharedTable } from './sharedTable.js'
import type { RoundResult, ToWorker } from './parallelWorker.js'

/** Whether a run with these options can use the shared-memory search (else the merge pool is used). */
export const parallelApplies = <S extends Hashed, E extends { readonly _tag: string }>(spec: ModelSpec<S, E>, opts: CheckOptions): boolean =>
  spec.codec !== undefined && (opts.strategy ?? 'bfs') === 'bfs' && !spec.properties.some((p) => p.expectation === 'eventually') &&
  opts.maxStates === undefined && opts.resume === undefined && opts.onSnapshot === undefined

/** States per worker per round: the coordinator checks progress, limits and table room between rounds. */
const ROUND = 16 * CHUNK

export const checkParallel = async <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>, m: PoolModel, workers: number, opts: CheckOptions = {},
): Promise<CheckResult<E>> => {
  const t0 = Date.now()
  const codec = spec.codec
  if (!codec) throw new RangeError(`model ${spec.id} has no state codec: use the merge pool`)
  const canon = spec.representative ?? ((s: S) => s)
  const fp = spec.fingerprint ?? ((s: S) => s as Hashed)
  const maxDepth = opts.maxDepth ?? Infinity
  const deadline = opts.timeoutMs !== undefined ? t0 + opts.timeoutMs : Infinity
  const ws = Array.from({ length: workers }, () => new Worker(new URL('./parallelWorker.js', import.meta.url), { workerData: m, resourceLimits: { maxYoungGenerationSizeMb: 96 } }))
  const call = <R>(w: Worker, msg: ToWorker): Promise<R> =>
    new Promise((resolve, reject) => {
      const onMsg = (r: R): void => { w.off('error', onErr); resolve(r) }
      const onErr = (e: Error): void => { w.off('message', onMsg); reject(e) }
      w.once('message', onMsg)
      w.once('error', onErr)
      w.postMessage(msg)
    })
  const all = <R>(msg: (i: number) => ToWorker): Promise<R[]> => Promise.all(ws.map((w, i) => call<R>(w, msg(i))))
  let table: SharedTable = createTable(1 << 20)
  const share = (): Promise<unknown[]> => all(() => ({ cmd: 'table', slots: table.slots, capacity: table.capacity }))
  let n = 0 // distinct states: the sum of what every thread inserted
  let degree = 1
  const sequential = async (): Promise<CheckResult<E>> => {
    await Promise.all(ws.map((w) => w.terminate()))
    return check(spec, opts)
  }
  try {
    await share()
    // Level 0: the coordinator inserts, checks and encodes the initial states.
    const inits = spec.initStates().map(canon)
    const always = spec.properties.filter((p) => p.expectation === 'always')
    const sometimes = spec.properties.filter((p) => p.expectation === 'sometimes')
    let some = 0, raised = false
    const level0: S[] = []
    for (const s of inits) {
      const h = fp(s)
      if (!insert(new Int32Array(table.slots), table.capacity - 1, h.h1, h.h2)) continue
      n++
      level0.push(s)
      if (always.some((p) => !p.holds(s))) raised = true
      sometimes.forEach((p, k) => { if (p.holds(s)) some |= 1 << k })
    }
    if (raised) return await sequential()
    let states = new SharedArrayBuffer(Math.max(1, level0.length) * codec.words * 4)
    level0.forEach((s, i) => codec.encode(s, new Int32Array(states), i * codec.words))
    let count = level0.length
    const ctl = new SharedArrayBuffer(4)
    const cursor = new Int32Array(ctl)
    let generated = inits.length, depth = 0, cut = false, stopReason: string | undefined
    let lastProgress = t0
    for (;;) {
      Atomics.store(cursor, 0, 0)
      await all(() => ({ cmd: 'level', states, count, ctl }))
      const cutoff = depth >= maxDepth
      while (Atomics.load(cursor, 0) < count) {
        const maxFresh = ROUND * degree
        while (2 * (n + workers * maxFresh) > table.capacity && table.capacity < 2 ** 29) { table = grow(table); await share() }
        const end = Math.min(count, Atomics.load(cursor, 0) + workers * ROUND)
        const rs = await all<RoundResult>(() => ({ cmd: 'round', end, maxFresh, cutoff }))
        for (const r of rs) {
          generated += r.generated
          n += r.fresh
          some |= r.some
          if (r.degree > degree) degree = r.degree
          if (r.inv !== 0 || r.step !== 0 || (r.dead && (opts.deadlock ?? true))) raised = true
          if (r.cut) cut = true
        }
        if (raised) return await sequential()
        const now = Date.now()
        if (opts.onProgress && now - lastProgress >= (opts.progressEveryMs ?? 2000)) {
          lastProgress = now
          opts.onProgress({ distinct: n, generated, depth, queued: count - Atomics.load(cursor, 0), elapsedMs: now - t0 })
        }
        if (opts.signal?.aborted) { stopReason = 'interrupted'; break }
        if (now > deadline) { stopReason = `time limit ${opts.timeoutMs} ms reached`; break }
      }
      if (stopReason || cutoff) break
      // Assemble the next level from what each worker kept, in worker order (the order does not matter:
      // the level is a set, and every count is a sum over it).
      const counts = await all<number>(() => ({ cmd: 'count' }))
      const total = counts.reduce((a, b) => a + b, 0)
      if (total === 0) break
      states = new SharedArrayBuffer(total * codec.words * 4)
      let at = 0
      await all((i) => { const msg: ToWorker = { cmd: 'flush', into: states, at }; at += counts[i]!; return msg })
      count = total
      depth++
    }
    const status = stopReason || cut ? 'incomplete' : 'ok'
    const reason = stopReason ?? (cut ? `depth limit ${maxDepth} cut off states` : undefined)
    return {
      model: spec.id, strategy: 'bfs', status, ...(reason ? { reason } : {}),
      distinct: n, generated, maxDepth: depth, elapsedMs: Date.now() - t0,
      bytesPerState: n > 0 ? Math.round((table.capacity * 12) / n) : 0,
      collisionProbability: (n * Math.max(0, generated - n)) / 2 ** 64,
      violations: [],
      sometimes: sometimes.map((p, k) => ({ property: p.name, reached: ((some >>> k) & 1) === 1 })),
      eventually: [],
    }
  } finally {
    await Promise.all(ws.map((w) => w.terminate()))
  }
}
