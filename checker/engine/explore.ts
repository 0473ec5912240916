/**
 * Explicit-state exploration: BFS (shortest counterexamples), DFS and seeded
 * random walks over a ModelSpec, checking always-properties on states and
 * transitions, deadlocks, sometimes-witnesses and (after BFS) eventually-
 * properties under weak fairness.
 *
 * States are not kept: each visited state has a dense index, a parent index and
 * the position of the event in `enabled(parent)`; a trace is rebuilt by replaying
 * those positions from the initial state, so memory per state is the fingerprint
 * table slot plus two ints (plus the edge list when eventually-properties exist).
 * Exploration order is fixed by `enabled`'s order, so results are deterministic.
 */
import type { Hashed } from '../../model/core/hash.js'
import type { ModelSpec } from '../ModelSpec.js'
import { FingerprintSet, IntColumn } from './FingerprintSet.js'

export type Strategy = 'bfs' | 'dfs' | 'random'

export interface CheckOptions {
  readonly strategy?: Strategy
  /** Stop (result `incomplete`) after this many distinct states. */
  readonly maxStates?: number
  /** Do not expand states deeper than this (result `incomplete` if any were cut off). */
  readonly maxDepth?: number
  readonly timeoutMs?: number
  /** Random strategy: the seed (default 1) and the number and length of walks. */
  readonly seed?: number
  readonly walks?: number
  readonly walkLength?: number
  /** Report a state with no enabled events that the model does not accept as terminal (default true). */
  readonly deadlock?: boolean
  /** Stop at the first violation (default true); otherwise collect the first of each property. */
  readonly stopOnViolation?: boolean
  readonly onProgress?: (p: Progress) => void
  readonly progressEveryMs?: number
  readonly signal?: AbortSignal
  /** Expand BFS batches in parallel (checker/runtime/pool.ts); results are identical to a sequential run. */
  readonly pool?: ExpansionPool<any>
  /** BFS: continue from a snapshot taken by an earlier, interrupted run of the same model and parameters. */
  readonly resume?: Snapshot
  /** BFS: called with a snapshot when the run stops early at a state boundary (Ctrl-C or the time limit). */
  readonly onSnapshot?: (s: Snapshot) => void
}

/** Everything a BFS needs to continue: the explored graph as index columns, the frontier as indices. */
export interface Snapshot {
  readonly version: 1
  readonly model: string
  readonly generated: number
  readonly maxDepth: number
  readonly cut: boolean
  readonly parent: Int32Array
  readonly via: Int32Array
  readonly depth: Int32Array
  /** (h1, h2) per state index */
  readonly fingerprints: Int32Array
  /** the BFS queue, in order */
  readonly pending: Int32Array
  readonly edges?: { readonly start: Int32Array; readonly to: Int32Array; readonly cls: Int32Array; readonly classes: ReadonlyArray<string> }
  /** sometimes-property → index of the first state that witnessed it */
  readonly sometimes: Readonly<Record<string, number>>
}

/** A pool that expands states elsewhere (worker threads): checker/runtime/pool.ts. */
export interface ExpansionPool<S> {
  readonly batchSize: number
  /** Expand each state (undefined: skip, depth-limited); results in the same order. */
  expand(states: ReadonlyArray<S | undefined>): Promise<ReadonlyArray<Expansion<S> | undefined>>
}

/** One successor: its fingerprint, the state (omitted if the expander knows it was already handed over), flags. */
export interface Successor<S> {
  readonly h1: number
  readonly h2: number
  readonly state: S | undefined
  /** bit i: always-property i fails on the successor (-1: not computed, the checker evaluates it if the state is new) */
  readonly inv: number
  /** bit i: step-property i fails on the transition */
  readonly step: number
  /** bit i: sometimes-property i holds on the successor */
  readonly some: number
  /** the event's fairness class */
  readonly cls: string | undefined
}
export interface Expansion<S> {
  readonly dead: boolean
  readonly succ: ReadonlyArray<Successor<S>>
}

export interface Progress {
  readonly distinct: number
  readonly generated: number
  readonly depth: number
  readonly queued: number
  readonly elapsedMs: number
}

/** A behaviour: the initial state's index in `initStates()` and the events; `loopStart` marks a lasso's cycle. */
export interface Trace<E> {
  readonly init: number
  readonly events: ReadonlyArray<E>
  /** For a lasso: the index in `events` where the repeated cycle begins (the cycle returns to the state before it). */
  readonly loopStart?: number
}

export type ViolationKind = 'invariant' | 'step' | 'deadlock' | 'eventually'

export interface Violation<E> {
  readonly property: string
  readonly kind: ViolationKind
  readonly message: string
  readonly trace: Trace<E>
}

export interface CheckResult<E> {
  readonly model: string
  readonly strategy: Strategy
  /** ok: every property holds on the explored space; violated; incomplete: a bound or interrupt stopped it first. */
  readonly status: 'ok' | 'violated' | 'incomplete'
  readonly reason?: string
  readonly distinct: number
  /** States generated: initial states plus every successor computed (TLC's "states generated"). */
  readonly generated: number
  readonly maxDepth: number
  readonly elapsedMs: number
  readonly violations: ReadonlyArray<Violation<E>>
  readonly sometimes: ReadonlyArray<{ readonly property: string; readonly reached: boolean; readonly trace?: Trace<E> }>
  /** When resumed: distinct states restored from the snapshot (not re-generated). */
  readonly resumedFrom?: number
  /** Bytes the checker holds per distinct state (fingerprint table + parent/event/depth columns + liveness edges). */
  readonly bytesPerState?: number
  /** TLC's optimistic estimate that two distinct states shared a 64-bit fingerprint: n·(generated − n) / 2^64. */
  readonly collisionProbability?: number
  /** Which eventually-properties were checked (needs a complete BFS) and how. */
  readonly eventually: ReadonlyArray<{ readonly property: string; readonly checked: boolean; readonly reason?: string }>
}

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r))

export const check = async <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>,
  opts: CheckOptions = {},
): Promise<CheckResult<E>> => {
  const strategy = opts.strategy ?? 'bfs'
  return strategy === 'random' ? randomWalks(spec, opts) : exhaustive(spec, opts, strategy)
}

const fp = <S extends Hashed, E extends { readonly _tag: string }>(spec: ModelSpec<S, E>) => {
  const rep = spec.representative
  const f = spec.fingerprint
  return (s: S): Hashed => (f ? f(rep ? rep(s) : s) : rep ? rep(s) : s)
}

const stateFlags = <S, E>(ctx: Ctx<S, E>, s: S): { inv: number; some: number } => {
  let inv = 0
  let some = 0
  ctx.always.forEach((p, i) => { if (!p.holds(s)) inv |= 1 << i })
  let i = 0
  for (const w of ctx.sometimes.values()) { if (w.holds(s)) some |= 1 << i; i++ }
  return { inv, some }
}

/** The expansion of one state: what both the sequential loop and the worker threads compute. */
export const expander = <S extends Hashed, E extends { readonly _tag: string }>(spec: ModelSpec<S, E>, sent?: { has(h1: number, h2: number): boolean; add(h1: number, h2: number): void }, lazy = false) => {
  const ctx = context(spec)
  const fingerprint = fp(spec)
  const canon = spec.representative ?? ((s: S) => s)
  if (ctx.always.length > 31 || ctx.steps.length > 31 || ctx.sometimes.size > 31) throw new RangeError('at most 31 properties of each kind')
  return (s: S): Expansion<S> => {
    const en = spec.enabled(s)
    const succ: Successor<S>[] = []
    for (const e of en) {
      const n = canon(spec.reduce(s, e))
      let step = 0
      ctx.steps.forEach((p, i) => { if (!p.holdsStep(s, e, n)) step |= 1 << i })
      const h = fingerprint(n)
      const omit = sent ? sent.has(h.h1, h.h2) : false
      if (sent && !omit) sent.add(h.h1, h.h2)
      const f = omit || lazy ? { inv: -1, some: -1 } : stateFlags(ctx, n)
      succ.push({ h1: h.h1, h2: h.h2, state: omit ? undefined : n, inv: f.inv, step, some: f.some, cls: spec.fairness?.(e) })
    }
    return { dead: en.length === 0, succ }
  }
}

interface Ctx<S, E> {
  readonly spec: ModelSpec<S & Hashed, E & { readonly _tag: string }>
  readonly always: ReadonlyArray<{ name: string; holds: (s: S) => boolean }>
  readonly steps: ReadonlyArray<{ name: string; holdsStep: (b: S, e: E, a: S) => boolean }>
  readonly sometimes: Map<string, { holds: (s: S) => boolean; trace?: Trace<E>; index?: number }>
}

const context = <S extends Hashed, E extends { readonly _tag: string }>(spec: ModelSpec<S, E>): Ctx<S, E> => ({
  spec,
  always: spec.properties.filter((p) => p.expectation === 'always'),
  steps: spec.stepProperties ?? [],
  sometimes: new Map(spec.properties.filter((p) => p.expectation === 'sometimes').map((p) => [p.name, { holds: p.holds } as { holds: (s: S) => boolean; trace?: Trace<E>; index?: number }])),
})

/** BFS or DFS over the whole reachable space (up to the bounds). */
const exhaustive = async <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>,
  opts: CheckOptions,
  strategy: 'bfs' | 'dfs',
): Promise<CheckResult<E>> => {
  const t0 = Date.now()
  const ctx = context(spec)
  const fingerprint = fp(spec)
  const canon = spec.representative ?? ((s: S) => s)
  const maxStates = opts.maxStates ?? Infinity
  const maxDepth = opts.maxDepth ?? Infinity
  const stopOnViolation = opts.stopOnViolation ?? true
  const checkDeadlock = opts.deadlock ?? true
  const eventuallyProps = spec.properties.filter((p) => p.expectation === 'eventually')
  // Under a symmetry the graph is the quotient: its edges are events of the representative, whose vCPU
  // ids the representative renamed, so a fair lasso there need not be fair (or even a lasso) in the real
  // system. Liveness is therefore not checked with a representative (TLC warns likewise: symmetry and
  // liveness checking are unsound together).
  const symmetryBlocksLiveness = spec.representative !== undefined
  const wantGraph = eventuallyProps.length > 0 && strategy === 'bfs' && !symmetryBlocksLiveness

  const seen = new FingerprintSet()
  const parent = new IntColumn()
  const via = new IntColumn() // position of the event in enabled(parent), or the init index for roots
  const depthOf = new IntColumn()
  // Edge list for the liveness pass: per source state, a range into (edgeTo, edgeClass).
  const edgeStart = new IntColumn()
  const edgeTo = new IntColumn()
  const edgeClass = new IntColumn()
  const classIds = new Map<string, number>()
  const classId = (k: string): number => {
    let id = classIds.get(k)
    if (id === undefined) classIds.set(k, (id = classIds.size))
    return id
  }
  const expandLocal = expander(spec, undefined, true)
  const pool = opts.pool

  const violations: Violation<E>[] = []
  const violated = new Set<string>()
  let generated = 0
  let maxDepthSeen = 0
  let cut = false
  let stopReason: string | undefined

  const traceTo = (index: number): Trace<E> => {
    const path: number[] = []
    let i = index
    while (parent.at(i) >= 0) {
      path.push(via.at(i))
      i = parent.at(i)
    }
    const init = via.at(i)
    path.reverse()
    let s = canon(spec.initStates()[init]!)
    const events: E[] = []
    for (const k of path) {
      const e = spec.enabled(s)[k]!
      events.push(e)
      s = canon(spec.reduce(s, e))
    }
    return { init, events }
  }
  const extend = (t: Trace<E>, e: E): Trace<E> => ({ init: t.init, events: [...t.events, e] })
  const report = (v: Violation<E>): void => {
    if (violated.has(v.property)) return
    violated.add(v.property)
    violations.push(v)
  }
  const sometimesList = [...ctx.sometimes.values()]
  const checkFlags = (inv: number, some: number, index: number): void => {
    if (inv !== 0)
      ctx.always.forEach((p, pi) => {
        if ((inv >>> pi) & 1 && !violated.has(p.name)) report({ property: p.name, kind: 'invariant', message: `invariant ${p.name} violated`, trace: traceTo(index) })
      })
    if (some !== 0) sometimesList.forEach((w, wi) => { if ((some >>> wi) & 1 && !w.trace) { w.trace = traceTo(index); w.index = index } })
  }
  const checkState = (s: S, index: number): void => {
    let inv = 0
    for (let i = 0; i < ctx.always.length; i++) if (!ctx.always[i]!.holds(s)) inv |= 1 << i
    let some = 0
    for (let i = 0; i < sometimesList.length; i++) if (!sometimesList[i]!.trace && sometimesList[i]!.holds(s)) some |= 1 << i
    if (inv !== 0 || some !== 0) checkFlags(inv, some, index)
  }

  // DFS keeps states on its stack; BFS keeps a queue of states for the current and next levels.
  const inits = spec.initStates().map(canon)
  let lastProgress = Date.now()
  const progressEvery = opts.progressEveryMs ?? 2000
  // With a state codec (and no pool) the sequential search keeps the frontier encoded: the queue holds
  // offsets into `cq` instead of objects, so millions of frontier states are not old-generation objects
  // the garbage collector must trace (measured: twophase rms=9, where a level holds ~2 M states).
  const queue: (S | number)[] = []
  const queueIdx: number[] = []
  const codec = opts.pool ? undefined : spec.codec
  const words = codec?.words ?? 0
  let cq = new Int32Array(codec ? words << 16 : 0), cqLen = 0 // in words
  const enqueue = (n: S): void => {
    if (!codec) { queue.push(n); return }
    if (cqLen + words > cq.length) { const b = new Int32Array(cq.length * 2); b.set(cq.subarray(0, cqLen)); cq = b }
    codec.encode(n, cq, cqLen)
    queue.push(cqLen)
    cqLen += words
  }
  const stateAt = (q: S | number): S => (typeof q === 'number' ? codec!.decode(cq, q) : q)
  const resume = opts.resume
  if (resume && strategy === 'bfs') {
    if (resume.model !== spec.id) throw new Error(`the snapshot is of model ${resume.model}, not ${spec.id}`)
    const n = resume.parent.length
    for (let i = 0; i < n; i++) {
      parent.push(resume.parent[i]!)
      via.push(resume.via[i]!)
      depthOf.push(resume.depth[i]!)
      if (seen.add(resume.fingerprints[2 * i]!, resume.fingerprints[2 * i + 1]!, i) >= 0) throw new Error('corrupt snapshot: duplicate fingerprint')
    }
    generated = resume.generated
    maxDepthSeen = resume.maxDepth
    cut = resume.cut
    if (resume.edges && wantGraph) {
      resume.edges.classes.forEach((k) => classId(k))
      for (const x of resume.edges.start) edgeStart.push(x)
      for (const x of resume.edges.to) edgeTo.push(x)
      for (const x of resume.edges.cls) edgeClass.push(x)
    }
    // Rebuild the frontier's states by replaying their paths from the parent pointers (shared prefixes once).
    const memo = new Map<number, S>()
    const stateOf = (i: number): S => {
      const path: number[] = []
      let j = i
      while (!memo.has(j) && parent.at(j) >= 0) { path.push(j); j = parent.at(j) }
      let st = memo.get(j) ?? inits[via.at(j)]!
      memo.set(j, st)
      for (let k = path.length - 1; k >= 0; k--) {
        const idx = path[k]!
        st = canon(spec.reduce(st, spec.enabled(st)[via.at(idx)]!))
        memo.set(idx, st)
      }
      return st
    }
    for (const i of resume.pending) { queue.push(stateOf(i)); queueIdx.push(i) }
    for (const [name, w] of ctx.sometimes) { const i = resume.sometimes[name]; if (i !== undefined) { w.trace = traceTo(i); w.index = i } }
  } else inits.forEach((s, k) => {
    generated++
    const h = fingerprint(s)
    if (seen.add(h.h1, h.h2, parent.length) >= 0) return
    parent.push(-1)
    via.push(k)
    depthOf.push(0)
    queue.push(s)
    queueIdx.push(parent.length - 1)
    checkState(s, parent.length - 1)
  })
  const restored = resume ? resume.parent.length : 0

  let head = 0
  let expanded = 0
  let lastYield = 0
  const deadline = opts.timeoutMs !== undefined ? t0 + opts.timeoutMs : Infinity
  const pending = (): number => (strategy === 'bfs' ? queue.length - head : queue.length)
  while (pending() > 0) {
    if (stopOnViolation && violations.length > 0) break
    if (expanded - lastYield >= 0x4000) {
      lastYield = expanded
      const now = Date.now()
      if (opts.onProgress && now - lastProgress >= progressEvery) {
        lastProgress = now
        opts.onProgress({ distinct: seen.size, generated, depth: maxDepthSeen, queued: pending(), elapsedMs: now - t0 })
      }
      await yieldNow()
      if (opts.signal?.aborted) { stopReason = 'interrupted'; break }
      if (now > deadline) { stopReason = `time limit ${opts.timeoutMs} ms reached`; break }
    }
    if (!pool) {
      // One worker: expand the next state in place. The same steps as the batch path below, without the
      // intermediate successor objects (they were a quarter of the time of twophase rms=8, mostly GC).
      let s: S, index: number
      if (strategy === 'bfs') {
        s = stateAt(queue[head]!)
        index = queueIdx[head]!
        queue[head] = undefined as unknown as S
        head++
        if (head > 65536 && head * 2 > queue.length) {
          queue.splice(0, head)
          queueIdx.splice(0, head)
          head = 0
          // Drop the encoded states before the first live one (offsets grow along the queue).
          const first = queue.find((q) => typeof q === 'number') as number | undefined
          if (first !== undefined && first > 0) {
            cq.copyWithin(0, first, cqLen)
            cqLen -= first
            for (let i = 0; i < queue.length; i++) if (typeof queue[i] === 'number') queue[i] = (queue[i] as number) - first
          }
        }
      } else {
        const q = queue.pop()!
        s = stateAt(q)
        if (typeof q === 'number') cqLen = q // a stack: the popped state was the last one encoded
        index = queueIdx.pop()!
      }
      expanded++
      const d = depthOf.at(index)
      if (d > maxDepthSeen) maxDepthSeen = d
      if (wantGraph) edgeStart.push(edgeTo.length)
      const en = spec.enabled(s)
      if (en.length === 0) {
        if (checkDeadlock && !(spec.isTerminal?.(s) ?? false))
          report({ property: 'deadlock', kind: 'deadlock', message: 'no event is enabled and the state is not an accepted end state', trace: traceTo(index) })
        continue
      }
      if (d >= maxDepth) { cut = true; continue }
      for (let k = 0; k < en.length; k++) {
        const e = en[k]!
        const n = canon(spec.reduce(s, e))
        generated++
        for (let pi = 0; pi < ctx.steps.length; pi++) {
          const p = ctx.steps[pi]!
          if (!p.holdsStep(s, e, n) && !violated.has(p.name))
            report({ property: p.name, kind: 'step', message: `step property ${p.name} violated by ${spec.formatEvent?.(e) ?? e._tag}`, trace: extend(traceTo(index), e) })
        }
        const h = fingerprint(n)
        const newIndex = parent.length
        const old = seen.add(h.h1, h.h2, newIndex)
        if (wantGraph) {
          edgeTo.push(old >= 0 ? old : newIndex)
          const cls = spec.fairness?.(e)
          edgeClass.push(cls === undefined ? -1 : classId(cls))
        }
        if (old >= 0) continue
        parent.push(index)
        via.push(k)
        depthOf.push(d + 1)
        enqueue(n)
        queueIdx.push(newIndex)
        checkState(n, newIndex)
        if (seen.size >= maxStates) { stopReason = `state limit ${maxStates} reached`; break }
      }
      if (stopReason) break
      continue
    }
    // Take the next batch of states; a pool expands them in parallel, the results are merged in queue order,
    // so every count, index and counterexample is the one a sequential run produces.
    const batch: { s: S; index: number }[] = []
    const want = strategy === 'bfs' && pool ? Math.min(pending(), pool.batchSize) : 1
    for (let b = 0; b < want; b++) {
      if (strategy === 'bfs') {
        batch.push({ s: queue[head] as S, index: queueIdx[head]! })
        queue[head] = undefined as unknown as S
        head++
      } else batch.push({ s: queue.pop() as S, index: queueIdx.pop()! })
    }
    if (strategy === 'bfs' && head > 65536 && head * 2 > queue.length) {
      queue.splice(0, head)
      queueIdx.splice(0, head)
      head = 0
    }
    expanded += batch.length
    const expansions = pool
      ? await pool.expand(batch.map((b) => (depthOf.at(b.index) >= maxDepth ? undefined : b.s)))
      : batch.map((b) => (depthOf.at(b.index) >= maxDepth && spec.enabled(b.s).length > 0 ? undefined : expandLocal(b.s)))
    for (let bi = 0; bi < batch.length; bi++) {
      if (stopOnViolation && violations.length > 0) break
      const { s, index } = batch[bi]!
      const x = expansions[bi]
      const d = depthOf.at(index)
      if (d > maxDepthSeen) maxDepthSeen = d
      if (wantGraph) edgeStart.push(edgeTo.length)
      if (x === undefined) { cut = true; continue }
      if (x.dead) {
        if (checkDeadlock && !(spec.isTerminal?.(s) ?? false))
          report({ property: 'deadlock', kind: 'deadlock', message: 'no event is enabled and the state is not an accepted end state', trace: traceTo(index) })
        continue
      }
      if (d >= maxDepth) { cut = true; continue }
      for (let k = 0; k < x.succ.length; k++) {
        const y = x.succ[k]!
        generated++
        if (y.step !== 0)
          ctx.steps.forEach((p, pi) => {
            if ((y.step >>> pi) & 1 && !violated.has(p.name)) {
              const e = spec.enabled(s)[k]!
              report({ property: p.name, kind: 'step', message: `step property ${p.name} violated by ${spec.formatEvent?.(e) ?? e._tag}`, trace: extend(traceTo(index), e) })
            }
          })
        const newIndex = parent.length
        const old = seen.add(y.h1, y.h2, newIndex)
        if (wantGraph) {
          edgeTo.push(old >= 0 ? old : newIndex)
          edgeClass.push(y.cls === undefined ? -1 : classId(y.cls))
        }
        if (old >= 0) continue
        if (y.state === undefined) throw new Error('internal: a worker withheld a state the checker has not seen')
        parent.push(index)
        via.push(k)
        depthOf.push(d + 1)
        queue.push(y.state)
        queueIdx.push(newIndex)
        if (y.inv === -1) checkState(y.state, newIndex)
        else checkFlags(y.inv, y.some, newIndex)
        if (seen.size >= maxStates) { stopReason = `state limit ${maxStates} reached`; break }
      }
      if (stopReason) break
    }
    if (stopReason) break
  }
  const complete = !stopReason && !cut && !(stopOnViolation && violations.length > 0)
  // A stop at the top of the loop (Ctrl-C, time limit) is at a state boundary: everything before head is done.
  if (opts.onSnapshot && strategy === 'bfs' && stopReason && !stopReason.startsWith('state limit') && violations.length === 0) {
    const n = parent.length
    const fps = new Int32Array(2 * n)
    seen.forEach((h1, h2, i) => { fps[2 * i] = h1; fps[2 * i + 1] = h2 })
    opts.onSnapshot({
      version: 1, model: spec.id, generated, maxDepth: maxDepthSeen, cut,
      parent: parent.data.slice(0, n), via: via.data.slice(0, n), depth: depthOf.data.slice(0, n), fingerprints: fps,
      pending: Int32Array.from(queueIdx.slice(head)),
      ...(wantGraph ? { edges: { start: edgeStart.data.slice(0, edgeStart.length), to: edgeTo.data.slice(0, edgeTo.length), cls: edgeClass.data.slice(0, edgeClass.length), classes: [...classIds.keys()] } } : {}),
      sometimes: Object.fromEntries([...ctx.sometimes].flatMap(([k, w]) => (w.index !== undefined ? [[k, w.index]] : []))),
    })
  }
  const eventually: { property: string; checked: boolean; reason?: string }[] = []
  if (wantGraph && complete) {
    // BFS pops states in index order, so edgeStart[i] belongs to state i.
    edgeStart.push(edgeTo.length)
    const graph = { edgeStart, edgeTo, edgeClass, n: seen.size }
    for (const p of eventuallyProps) {
      const v = await livenessViolation(spec, graph, p, traceTo)
      eventually.push({ property: p.name, checked: true })
      if (v) report(v)
    }
  } else
    for (const p of eventuallyProps)
      eventually.push({ property: p.name, checked: false, ...(symmetryBlocksLiveness ? { reason: 'not checked: symmetry reduction is on (liveness over the quotient graph is unsound); run with symmetry=0' } : {}) })

  const status = violations.length > 0 ? 'violated' : complete ? 'ok' : 'incomplete'
  const n = seen.size
  const bytes = seen.bytes + (parent.data.length + via.data.length + depthOf.data.length) * 4 +
    (wantGraph ? (edgeStart.data.length + edgeTo.data.length + edgeClass.data.length) * 4 : 0)
  const reason = stopReason ?? (cut ? `depth limit ${maxDepth} cut off states` : undefined)
  return {
    model: spec.id,
    strategy,
    status,
    ...(reason && status !== 'violated' ? { reason } : {}),
    distinct: seen.size,
    generated,
    maxDepth: maxDepthSeen,
    elapsedMs: Date.now() - t0,
    bytesPerState: n > 0 ? Math.round(bytes / n) : 0,
    ...(resume ? { resumedFrom: restored } : {}),
    collisionProbability: (n * Math.max(0, generated - n)) / 2 ** 64,
    violations,
    sometimes: [...ctx.sometimes].map(([property, w]) => (w.trace ? { property, reached: true, trace: w.trace } : { property, reached: false })),
    eventually,
  }
}

interface Graph { edgeStart: IntColumn; edgeTo: IntColumn; edgeClass: IntColumn; n: number }

/**
 * `eventually P` under weak fairness fails iff some behaviour never reaches P and is fair:
 * either it ends in a state with no enabled event (stuttering forever there), or it ends in a
 * cycle on which every fairness class that is enabled in all the cycle's states is also taken.
 * Within the ¬P states reachable from a ¬P initial state through ¬P states, a strongly connected
 * component C contains such a cycle iff every class enabled in all states of C labels some edge
 * inside C (the cycle through every edge of C is then fair; otherwise any cycle in C leaves that
 * class enabled and untaken). The lasso: a BFS path to C, then a cycle through one edge of each
 * required class.
 */
const livenessViolation = async <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>,
  g: Graph,
  p: { name: string; holds: (s: S) => boolean },
  traceTo: (i: number) => Trace<E>,
): Promise<Violation<E> | undefined> => {
  const { n } = g
  // Recompute each state's P value and its state, walking the BFS tree in index order (states are not stored).
  const bad = new Uint8Array(n)
  // Replay: a state's value is reduce(parent, enabled(parent)[via]); the edge list gives the same order.
  const states: (S | undefined)[] = new Array(n)
  const canon = spec.representative ?? ((s: S) => s)
  const inits = spec.initStates().map(canon)
  // roots are the first indices; every other state is first reached as an edge target of a lower index
  let filled = 0
  for (let i = 0; i < n && i < inits.length; i++) { states[i] = inits[i]; filled++ }
  for (let i = 0; i < n; i++) {
    const s = states[i]!
    bad[i] = p.holds(s) ? 0 : 1
    const a = g.edgeStart.at(i)
    const b = g.edgeStart.at(i + 1)
    if (a === b) continue
    const en = spec.enabled(s)
    for (let k = 0; k < en.length && a + k < b; k++) {
      const t = g.edgeTo.at(a + k)
      if (states[t] === undefined) { states[t] = canon(spec.reduce(s, en[k]!)); filled++ }
    }
    if ((i & 0x3fff) === 0) await yieldNow()
  }
  void filled
  // Reachability within ¬P from ¬P roots.
  const inBad = new Uint8Array(n)
  const stack: number[] = []
  for (let i = 0; i < Math.min(inits.length, n); i++) if (bad[i]) { inBad[i] = 1; stack.push(i) }
  while (stack.length) {
    const i = stack.pop()!
    for (let e = g.edgeStart.at(i); e < g.edgeStart.at(i + 1); e++) {
      const t = g.edgeTo.at(e)
      if (bad[t] && !inBad[t]) { inBad[t] = 1; stack.push(t) }
    }
  }
  // Deadlocks inside ¬P.
  for (let i = 0; i < n; i++)
    if (inBad[i] && g.edgeStart.at(i) === g.edgeStart.at(i + 1) && !(spec.isTerminal?.(states[i]!) === false))
      return { property: p.name, kind: 'eventually', message: `${p.name}: a behaviour stops in a state where it never held`, trace: traceTo(i) }
  // Tarjan's SCCs (iterative) on the ¬P subgraph.
  const index = new Int32Array(n).fill(-1)
  const low = new Int32Array(n)
  const onStack = new Uint8Array(n)
  const sccStack: number[] = []
  let counter = 0
  let best: { len: number; trace: Trace<E> } | undefined
  for (let root = 0; root < n; root++) {
    if (!inBad[root] || index[root] !== -1) continue
    const work: [number, number][] = [[root, g.edgeStart.at(root)]]
    index[root] = low[root] = counter++
    sccStack.push(root); onStack[root] = 1
    while (work.length) {
      const top = work[work.length - 1]!
      const [v, e] = top
      if (e < g.edgeStart.at(v + 1)) {
        top[1] = e + 1
        const w = g.edgeTo.at(e)
        if (!inBad[w]) continue
        if (index[w] === -1) {
          index[w] = low[w] = counter++
          sccStack.push(w); onStack[w] = 1
          work.push([w, g.edgeStart.at(w)])
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!)
        continue
      }
      work.pop()
      if (work.length) { const u = work[work.length - 1]![0]; low[u] = Math.min(low[u]!, low[v]!) }
      if (low[v] !== index[v]) continue
      const comp: number[] = []
      let w: number
      do { w = sccStack.pop()!; onStack[w] = 0; comp.push(w) } while (w !== v)
      const lasso = fairCycle(spec, g, comp, states)
      if (lasso) {
        // Keep the shortest lasso over every fair SCC: the BFS prefix to the SCC's shallowest state plus its cycle.
        const prefix = traceTo(lasso.entry)
        const len = prefix.events.length + lasso.cycle.length
        if (!best || len < best.len) best = { len, trace: { init: prefix.init, events: [...prefix.events, ...lasso.cycle], loopStart: prefix.events.length } }
      }
    }
    if ((root & 0x3fff) === 0) await yieldNow()
  }
  return best && {
    property: p.name, kind: 'eventually',
    message: `${p.name}: a fair cycle never reaches it (every continuously enabled fair event is taken on the cycle)`,
    trace: best.trace,
  }
}

const fairCycle = <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>, g: Graph, comp: number[], states: (S | undefined)[],
): { entry: number; cycle: E[] } | undefined => {
  const inC = new Set(comp)
  const internal: number[] = [] // edge ids inside C
  for (const v of comp) for (let e = g.edgeStart.at(v); e < g.edgeStart.at(v + 1); e++) if (inC.has(g.edgeTo.at(e))) internal.push(e)
  if (internal.length === 0) return undefined // a single state without a self-loop is not a cycle
  // Classes enabled in every state of C.
  let always: Set<number> | undefined
  for (const v of comp) {
    const here = new Set<number>()
    for (let e = g.edgeStart.at(v); e < g.edgeStart.at(v + 1); e++) if (g.edgeClass.at(e) >= 0) here.add(g.edgeClass.at(e))
    always = always ? new Set([...always].filter((c) => here.has(c))) : here
  }
  const taken = new Set(internal.map((e) => g.edgeClass.at(e)))
  for (const c of always ?? []) if (!taken.has(c)) return undefined
  // Build the cycle: from the entry (lowest index = closest to the roots in BFS order), visit one edge of each required class, return.
  const entry = Math.min(...comp)
  const src = new Map<number, number>() // edge id -> source state
  for (const v of comp) for (let e = g.edgeStart.at(v); e < g.edgeStart.at(v + 1); e++) src.set(e, v)
  const required = [...(always ?? [])].sort((a, b) => a - b).map((c) => internal.find((e) => g.edgeClass.at(e) === c)!)
  const pathEdges = (from: number, to: number): number[] => {
    if (from === to) return []
    const prev = new Map<number, number>([[from, -1]])
    const q = [from]
    for (let h = 0; h < q.length; h++) {
      const v = q[h]!
      for (let e = g.edgeStart.at(v); e < g.edgeStart.at(v + 1); e++) {
        const t = g.edgeTo.at(e)
        if (!inC.has(t) || prev.has(t)) continue
        prev.set(t, e)
        if (t === to) {
          const out: number[] = []
          let x = t
          while (x !== from) { const pe = prev.get(x)!; out.push(pe); x = src.get(pe)! }
          return out.reverse()
        }
        q.push(t)
      }
    }
    return []
  }
  const edges: number[] = []
  let at = entry
  for (const e of required) { edges.push(...pathEdges(at, src.get(e)!), e); at = g.edgeTo.at(e) }
  if (edges.length === 0 || at !== entry) {
    if (edges.length === 0) { const e = internal.find((x) => src.get(x) === entry) ?? internal[0]!; edges.push(...pathEdges(entry, src.get(e)!), e); at = g.edgeTo.at(e) }
    edges.push(...pathEdges(at, entry))
  }
  const cycle: E[] = []
  for (const e of edges) {
    const v = src.get(e)!
    const k = e - g.edgeStart.at(v)
    cycle.push(spec.enabled(states[v]!)[k]!)
  }
  return { entry, cycle }
}

/** Seeded random walks (simulation): finds always/step/deadlock violations and sometimes-witnesses; never proves. */
const randomWalks = async <S extends Hashed, E extends { readonly _tag: string }>(spec: ModelSpec<S, E>, opts: CheckOptions): Promise<CheckResult<E>> => {
  const t0 = Date.now()
  const ctx = context(spec)
  const walks = opts.walks ?? 10_000
  const len = opts.walkLength ?? 100
  let x = (opts.seed ?? 1) >>> 0
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return Math.floor((x / 4294967296) * n)
  }
  const inits = spec.initStates()
  const violations: Violation<E>[] = []
  const violated = new Set<string>()
  let generated = 0
  let maxDepth = 0
  let stopReason: string | undefined
  const deadline = opts.timeoutMs !== undefined ? t0 + opts.timeoutMs : Infinity
  for (let w = 0; w < walks && violations.length === 0; w++) {
    if ((w & 255) === 255) {
      await yieldNow()
      if (opts.signal?.aborted) { stopReason = 'interrupted'; break }
      if (Date.now() > deadline) { stopReason = `time limit ${opts.timeoutMs} ms reached`; break }
      opts.onProgress?.({ distinct: 0, generated, depth: maxDepth, queued: walks - w, elapsedMs: Date.now() - t0 })
    }
    const init = rnd(inits.length)
    let s = inits[init]!
    const events: E[] = []
    const fail = (property: string, kind: ViolationKind, message: string): void => {
      if (violated.has(property)) return
      violated.add(property)
      violations.push({ property, kind, message, trace: { init, events: [...events] } })
    }
    const visit = (st: S): void => {
      for (const p of ctx.always) if (!p.holds(st)) fail(p.name, 'invariant', `invariant ${p.name} violated`)
      for (const [, wit] of ctx.sometimes) if (!wit.trace && wit.holds(st)) wit.trace = { init, events: [...events] }
    }
    generated++
    visit(s)
    for (let d = 0; d < len && violations.length === 0; d++) {
      const en = spec.enabled(s)
      if (en.length === 0) {
        if ((opts.deadlock ?? true) && !(spec.isTerminal?.(s) ?? false)) fail('deadlock', 'deadlock', 'no event is enabled and the state is not an accepted end state')
        break
      }
      const e = en[rnd(en.length)]!
      const n = spec.reduce(s, e)
      generated++
      events.push(e)
      for (const p of ctx.steps) if (!p.holdsStep(s, e, n)) fail(p.name, 'step', `step property ${p.name} violated by ${spec.formatEvent?.(e) ?? e._tag}`)
      s = n
      visit(s)
      if (d + 1 > maxDepth) maxDepth = d + 1
    }
  }
  return {
    model: spec.id,
    strategy: 'random',
    status: violations.length > 0 ? 'violated' : 'incomplete',
    reason: stopReason ?? `random simulation (${walks} walks of ≤ ${len} events) proves nothing about unexplored states`,
    distinct: 0,
    generated,
    maxDepth,
    elapsedMs: Date.now() - t0,
    violations,
    sometimes: [...ctx.sometimes].map(([property, w]) => (w.trace ? { property, reached: true, trace: w.trace } : { property, reached: false })),
    eventually: spec.properties.filter((p) => p.expectation === 'eventually').map((p) => ({ property: p.name, checked: false })),
  }
}

/** Re-execute a trace: every event must be enabled in turn. Returns the states, or the step that is not enabled. */
export const replayTrace = <S extends Hashed, E extends { readonly _tag: string }>(
  spec: ModelSpec<S, E>, t: Trace<E>, eq: (a: E, b: E) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b),
): { ok: true; states: S[] } | { ok: false; step: number; states: S[] } => {
  const canon = spec.representative ?? ((s: S) => s)
  const init = spec.initStates()[t.init]
  if (!init) return { ok: false, step: 0, states: [] }
  const states = [canon(init)]
  for (let i = 0; i < t.events.length; i++) {
    const s = states[i]!
    const e = spec.enabled(s).find((x) => eq(x, t.events[i]!))
    if (!e) return { ok: false, step: i, states }
    states.push(canon(spec.reduce(s, e)))
  }
  return { ok: true, states }
}
