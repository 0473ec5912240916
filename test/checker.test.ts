// Checker tests: exact reference counts, shortest counterexamples, fairness, minimization, tokens, CLI exit codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { check, replayTrace } from '../checker/engine/explore.js'
import { minimize } from '../checker/engine/minimize.js'
import type { ModelSpec } from '../checker/ModelSpec.js'
import { recordType } from '../model/core/Record.js'
import type { Hashed } from '../model/core/hash.js'
import { twoPhase } from '../models/twophase.js'
import { buildModel } from '../models/registry.js'
import { decodeToken, encodeToken, tokenTrace } from '../cli/format.js'

// TLC and SPIN reference counts for TwoPhase (shared/bench/README.md B1, measured independently of virq).
for (const [n, distinct, generated] of [[3, 288, 1146], [5, 8832, 58146], [7, 296448, 2744706]] as const) {
  test(`twophase rms=${n}: ${distinct} distinct and ${generated} generated states, as TLC reports`, async () => {
    const r = await check(twoPhase(n))
    assert.equal(r.status, 'ok')
    assert.equal(r.distinct, distinct)
    assert.equal(r.generated, generated)
  })
}

// A counter 0..9 with Inc and Reset; the invariant "x ≠ 6" fails, and the shortest way there is six Incs.
interface C { readonly x: number }
const CR = recordType<C>('Counter', ['x'])
type CE = { readonly _tag: 'Inc' } | { readonly _tag: 'Reset' }
const counter = (bad = 6): ModelSpec<C & Hashed, CE> => ({
  id: 'counter',
  initStates: () => [CR.make({ x: 0 })],
  enabled: (s) => [...(s.x > 0 ? [{ _tag: 'Reset' } as const] : []), ...(s.x < 9 ? [{ _tag: 'Inc' } as const] : [])],
  reduce: (s, e) => CR.set(s, 'x', e._tag === 'Inc' ? s.x + 1 : 0),
  properties: [
    { name: 'not-bad', expectation: 'always', description: '', source: 'test', holds: (s) => s.x !== bad },
    { name: 'reaches-3', expectation: 'sometimes', description: '', source: 'test', holds: (s) => s.x === 3 },
  ],
  isTerminal: () => true,
})

test('BFS finds the shortest counterexample (six Incs to reach x = 6)', async () => {
  const r = await check(counter())
  assert.equal(r.status, 'violated')
  assert.deepEqual(r.violations[0]!.trace.events.map((e) => e._tag), Array(6).fill('Inc'))
  assert.equal(r.sometimes[0]!.reached, true)
  assert.equal(r.sometimes[0]!.trace!.events.length, 3)
})

test('the fixed counter (bad value out of range) holds with all 10 states explored', async () => {
  const r = await check(counter(42))
  assert.equal(r.status, 'ok')
  assert.equal(r.distinct, 10)
})

test('DFS and random walks find the violation too; minimize shrinks their traces to the six Incs, and is idempotent', async () => {
  for (const strategy of ['dfs', 'random'] as const) {
    const r = await check(counter(), { strategy, seed: 7 })
    assert.equal(r.status, 'violated', strategy)
    const v = r.violations[0]!
    assert.ok(replayTrace(counter(), v.trace).ok)
    const m = minimize(counter(), v.trace, v.property, v.kind)
    assert.ok(m.events.length <= v.trace.events.length)
    // The demonstration: a random-walk counterexample at least 3x the shortest (6) shrinks to it.
    if (strategy === 'random') assert.ok(v.trace.events.length >= 18, `random walk of ${v.trace.events.length} events`)
    assert.deepEqual(m.events.map((e) => e._tag), Array(6).fill('Inc'))
    assert.deepEqual(minimize(counter(), m, v.property, v.kind), m)
  }
})

test('random walks are deterministic for a seed', async () => {
  const a = await check(counter(), { strategy: 'random', seed: 3 })
  const b = await check(counter(), { strategy: 'random', seed: 3 })
  assert.deepEqual(a.violations, b.violations)
})

test('a state limit makes the result incomplete', async () => {
  const r = await check(twoPhase(5), { maxStates: 100 })
  assert.equal(r.status, 'incomplete')
  assert.match(r.reason ?? '', /state limit/)
})

// Liveness: a worker may spin forever before finishing. "eventually done" fails without fairness (the spin
// self-loop is a lasso) and holds when Finish is weakly fair (on the spin loop Finish stays enabled, so a fair
// behaviour must take it). A deadlock before done also violates it.
interface W { readonly done: boolean; readonly stuck: boolean }
const WR = recordType<W>('Worker', ['done', 'stuck'])
type WE = { readonly _tag: 'Spin' } | { readonly _tag: 'Finish' } | { readonly _tag: 'Jam' }
const worker = (fair: boolean, jam = false): ModelSpec<W & Hashed, WE> => ({
  id: 'worker',
  initStates: () => [WR.make({ done: false, stuck: false })],
  enabled: (s) => (s.done || s.stuck ? [] : [{ _tag: 'Spin' }, { _tag: 'Finish' }, ...(jam ? [{ _tag: 'Jam' } as const] : [])]),
  reduce: (s, e) => (e._tag === 'Finish' ? WR.set(s, 'done', true) : e._tag === 'Jam' ? WR.set(s, 'stuck', true) : s),
  properties: [{ name: 'eventually-done', expectation: 'eventually', description: '', source: 'test', holds: (s) => s.done }],
  isTerminal: () => true,
  fairness: (e) => (fair ? e._tag : undefined),
})

test('eventually: an unfair spin loop is a lasso counterexample; weak fairness on Finish rules it out', async () => {
  const unfair = await check(worker(false))
  assert.equal(unfair.status, 'violated')
  const v = unfair.violations[0]!
  assert.equal(v.kind, 'eventually')
  assert.equal(v.trace.loopStart, 0)
  assert.deepEqual(v.trace.events.map((e) => e._tag), ['Spin'])
  const fair = await check(worker(true))
  assert.equal(fair.status, 'ok')
  assert.deepEqual(fair.eventually, [{ property: 'eventually-done', checked: true }])
})

test('eventually: stopping in a state where the property never held is a violation even under fairness', async () => {
  const r = await check(worker(true, true))
  assert.equal(r.status, 'violated')
  assert.deepEqual(r.violations[0]!.trace.events.map((e) => e._tag), ['Jam'])
  assert.equal(r.violations[0]!.trace.loopStart, undefined)
})

test('deadlock: a dead state that the model does not accept as terminal is reported', async () => {
  const spec = { ...counter(42), isTerminal: () => false, enabled: (s: C & Hashed) => (s.x < 2 ? [{ _tag: 'Inc' as const }] : []) }
  const r = await check(spec)
  assert.equal(r.violations[0]!.kind, 'deadlock')
  assert.equal(r.violations[0]!.trace.events.length, 2)
})

test('replay tokens round-trip and re-derive the same events', async () => {
  const { params, spec } = buildModel('twophase', { rms: 3 })
  const r = await check(spec, { strategy: 'random', seed: 1, walks: 1, walkLength: 12 })
  const t = r.sometimes.find((x) => x.trace)?.trace ?? { init: 0, events: spec.enabled(spec.initStates()[0]!).slice(0, 1) }
  const tok = encodeToken('twophase', params, undefined, spec, t)
  const back = tokenTrace(spec, decodeToken(tok))
  assert.deepEqual(back.events, t.events)
  assert.throws(() => decodeToken('nonsense'), /not a virq replay token/)
})

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))
const virq = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

test('CLI: exit 0 when properties hold, 2 with a one-line message for a bad parameter, 3 when a bound stops it', () => {
  const ok = virq('check', 'twophase', '--param', 'rms=3', '--json')
  assert.equal(ok.status, 0, ok.stderr)
  assert.equal(JSON.parse(ok.stdout).distinct, 288)
  const bad = virq('check', 'twophase', '--param', 'rmz=3')
  assert.equal(bad.status, 2)
  assert.equal(bad.stderr.trim(), "virq check: unknown parameter 'rmz' for model 'twophase' (known: rms, symmetry)")
  const range = virq('check', 'twophase', '--param', 'rms=99')
  assert.equal(range.status, 2)
  assert.match(range.stderr, /must be in 1\.\.14/)
  assert.doesNotMatch(bad.stderr + range.stderr, /at .*\.js:\d+/)
  const inc = virq('check', 'twophase', '--max-states', '10')
  assert.equal(inc.status, 3)
  assert.equal(virq('nope').status, 2)
  assert.equal(virq('check', '--help').status, 0)
})

// Symmetry: with RM symmetry the checker explores one state per orbit of the RM permutation group. The
// expected orbit count is computed here by brute force, independently of the model's sorting
// representative: enumerate the full state space and identify states equal under any of the n! renamings.
test('ITF read-back: a trace written as ITF is re-checked step by step; a tampered state or action is rejected naming the step', async () => {
  const { itf } = await import('../cli/format.js')
  const { writeFileSync, mkdtempSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const { spec } = buildModel('twophase', { rms: 3 })
  // A deterministic 8-step walk: always the last enabled event.
  let s = spec.initStates()[0]!
  const events: { _tag: string }[] = []
  for (let i = 0; i < 8; i++) { const en = spec.enabled(s); if (!en.length) break; events.push(en[en.length - 1]!); s = spec.reduce(s, en[en.length - 1]!) }
  const doc = itf(spec, { init: 0, events }, { property: 'p', kind: 'always', message: 'test', trace: { init: 0, events } } as never) as { states: { action?: unknown; state: Record<string, unknown> }[] }
  const dir = mkdtempSync(join(tmpdir(), 'virq-itf-'))
  const good = join(dir, 'good.itf.json')
  writeFileSync(good, JSON.stringify(doc))
  const ok = virq('check', 'twophase', '--replay-itf', good)
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, new RegExp(`${events.length} events`))
  // Tamper with the state after step 5: the read-back must stop there.
  const bad = structuredClone(doc)
  bad.states[5]!.state = { ...bad.states[5]!.state, tmPrepared: 'tampered' }
  writeFileSync(join(dir, 'bad.itf.json'), JSON.stringify(bad))
  const r = virq('check', 'twophase', '--replay-itf', join(dir, 'bad.itf.json'))
  assert.equal(r.status, 2)
  assert.match(r.stderr, /step 5: the state after .* differs/)
  // An action that is not enabled at step 1.
  const act = structuredClone(doc)
  act.states[1]!.action = { _tag: 'NoSuchAction' }
  writeFileSync(join(dir, 'act.itf.json'), JSON.stringify(act))
  const a = virq('check', 'twophase', '--replay-itf', join(dir, 'act.itf.json'))
  assert.equal(a.status, 2)
  assert.match(a.stderr, /step 1: action .*NoSuchAction.* is not enabled/)
  writeFileSync(join(dir, 'junk.json'), '{"states": 3')
  assert.equal(virq('check', 'twophase', '--replay-itf', join(dir, 'junk.json')).status, 2)
})

test('symmetry: twophase with RM symmetry explores exactly one state per orbit (orbits counted by brute force over all permutations)', async () => {
  const n = 4
  const full = twoPhase(n)
  // enumerate all reachable states of the unreduced model
  const init = full.initStates()[0]!
  const seen = new Map<string, typeof init>([[`${init.h1}:${init.h2}`, init]])
  const queue = [init]
  for (let i = 0; i < queue.length; i++)
    for (const e of full.enabled(queue[i]!)) {
      const t = full.reduce(queue[i]!, e)
      const k = `${t.h1}:${t.h2}`
      if (!seen.has(k)) { seen.set(k, t); queue.push(t) }
    }
  const perms = (a: number[]): number[][] => (a.length <= 1 ? [a] : a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p])))
  const rename = (s: typeof init, p: number[]): string => {
    const rm = p.map((from) => (s.rm >>> (2 * from)) & 3)
    const prep = p.map((from) => (s.tmPrepared >>> from) & 1)
    const msg = p.map((from) => (s.msgs >>> from) & 1)
    return `${s.tm}|${rm}|${prep}|${msg}|${s.msgs >>> n}`
  }
  const all = perms([...Array(n).keys()])
  const orbits = new Set([...seen.values()].map((s) => all.map((p) => rename(s, p)).sort()[0]))
  const reduced = await check(twoPhase(n, { symmetry: true }))
  assert.equal(reduced.status, 'ok')
  assert.equal(reduced.distinct, orbits.size)
  assert.ok(reduced.distinct < seen.size)
})

test('workers: 1 and 2 worker threads give identical results (counts, depth, sometimes traces, liveness), also when a bound stops the run', async () => {
  const { createPool } = await import('../checker/runtime/pool.js')
  for (const [model, params, extra] of [['twophase', { rms: 5 }, {}], ['x86-irqchip', { vcpus: 1, msis: 0, ipis: 0, irqfd: 0 }, {}], ['twophase', { rms: 6 }, { maxStates: 5000 }]] as const) {
    const { spec, params: p } = buildModel(model, params)
    const one = await check(spec, extra)
    const pool = createPool(2, { model, params: p }, 64)
    const two = await check(spec, { ...extra, pool })
    await pool.close()
    assert.deepEqual({ ...two, elapsedMs: 0 }, { ...one, elapsedMs: 0 }, model)
  }
})

test('checkpoint and resume: a run interrupted at its first progress report and resumed from the snapshot ends exactly as an uninterrupted run, re-generating nothing', async () => {
  for (const [model, params] of [['twophase', { rms: 6 }], ['x86-irqchip', { vcpus: 1, msis: 2 }]] as const) {
    const { spec } = buildModel(model, params)
    const full = await check(spec)
    const ac = new AbortController()
    let snap: import('../checker/engine/explore.js').Snapshot | undefined
    const part = await check(spec, { signal: ac.signal, progressEveryMs: 0, onProgress: () => ac.abort(), onSnapshot: (x) => { snap = x } })
    assert.equal(part.status, 'incomplete')
    assert.ok(snap && snap.parent.length === part.distinct && part.distinct < full.distinct)
    const rest = await check(spec, { resume: snap })
    assert.equal(rest.resumedFrom, part.distinct)
    assert.deepEqual({ ...rest, elapsedMs: 0, resumedFrom: undefined }, { ...full, elapsedMs: 0, resumedFrom: undefined })
  }
})

test('CLI --checkpoint/--resume: twophase rms=8 stopped by --timeout 1 resumes to the exact TLC counts', async () => {
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = join(mkdtempSync(join(tmpdir(), 'virq-cp-')), 'cp')
  const first = virq('check', 'twophase', '--param', 'rms=8', '--timeout', '1', '--checkpoint', dir, '--json')
  assert.equal(first.status, 3, first.stderr)
  assert.match(first.stderr, /checkpoint of [\d,]+ states written/)
  const second = virq('check', 'twophase', '--resume', dir, '--json')
  assert.equal(second.status, 0, second.stderr)
  const r = JSON.parse(second.stdout)
  assert.equal(r.distinctStates, 1745408)
  assert.equal(r.generatedStates, 18507778)
  assert.ok(r.resumedFrom > 0)
  const wrong = virq('check', 'twophase', '--param', 'rms=7', '--resume', dir)
  assert.equal(wrong.status, 2)
})

test('timeline: each step lists exactly the fields it changed', async () => {
  const { stateDiff, timeline } = await import('../cli/format.js')
  const a = CR.make({ x: 1 })
  assert.equal(stateDiff(a, CR.set(a, 'x', 2)), 'x: 1 → 2')
  assert.equal(stateDiff(a, a), '')
  const t = timeline(counter() as never, { init: 0, events: [{ _tag: 'Inc' }, { _tag: 'Inc' }] })
  assert.match(t, /1 +\{"_tag":"Inc"\}\n +x: 0 → 1\n +2 +\{"_tag":"Inc"\}\n +x: 1 → 2/)
})

test('virq models --json lists every model with parameters (default, range), properties and bug variants', () => {
  const r = virq('models', '--json')
  assert.equal(r.status, 0, r.stderr)
  const list = JSON.parse(r.stdout) as { id: string; params: { name: string; default: number; min: number; max: number }[]; properties: { name: string; expectation: string; source: string }[]; bugs: unknown[] }[]
  const tp = list.find((m) => m.id === 'twophase')!
  assert.deepEqual(tp.params.map((p) => p.name), ['rms', 'symmetry'])
  assert.deepEqual(tp.properties.map((p) => p.name), ['consistent', 'type-ok', 'all-committed-reachable'])
  const x86 = list.find((m) => m.id === 'x86-irqchip')!
  assert.ok(x86.properties.some((p) => p.name === 'eoi-clears-highest-isr' && p.source.length > 0))
  assert.ok(x86.params.every((p) => p.min <= p.default && p.default <= p.max))
})

// A graph on which a depth-bounded DFS with a visited set would wrongly say "no violation": the long branch
// (explored first) reaches X at the depth bound and marks it visited; the short branch then skips X, so the
// violation two steps from the root is never expanded. The checker must not call that run "ok".
interface G { readonly at: number }
const GR = recordType<G>('Graph', ['at'])
type GE = { readonly _tag: 'Go'; readonly to: number }
// short: 0 -> 5 -> 10 (X); long: 0 -> 1 -> 2 -> 3 -> 10 (X); 10 -> 99 (bad). DFS pops the long branch first
// (the last pushed), reaches X at depth 4 = the bound, so X is visited but not expanded; 5 then skips X.
const edges: Record<number, number[]> = { 0: [5, 1], 5: [10], 1: [2], 2: [3], 3: [10], 10: [99], 99: [] }
const graph: ModelSpec<G & Hashed, GE> = {
  id: 'graph',
  initStates: () => [GR.make({ at: 0 })],
  enabled: (s) => (edges[s.at] ?? []).map((to) => ({ _tag: 'Go', to })),
  reduce: (s, e) => GR.set(s, 'at', e.to),
  properties: [{ name: 'not-bad', expectation: 'always', description: '', source: 'test', holds: (s) => s.at !== 99 }],
  isTerminal: () => true,
}

test('depth bounds: a bounded DFS that misses a shallow violation reports incomplete, never ok; BFS with the same bound finds it at depth 3', async () => {
  const dfs = await check(graph, { strategy: 'dfs', maxDepth: 4 })
  assert.equal(dfs.violations.length, 0, 'the long branch hid X from the short one')
  assert.equal(dfs.status, 'incomplete')
  const bfs = await check(graph, { strategy: 'bfs', maxDepth: 4 })
  assert.equal(bfs.status, 'violated')
  assert.deepEqual(bfs.violations[0]!.trace.events.map((e) => e.to), [5, 10, 99])
  const full = await check(graph, { strategy: 'dfs' })
  assert.equal(full.status, 'violated')
})

test('progress line: the ETA is given only under a bound, from the distinct-states rate or the time left, whichever is nearer', async () => {
  const { progressLine } = await import('../cli/check.js')
  const p = { distinct: 1000, generated: 3000, depth: 4, queued: 10, elapsedMs: 2000 } // 500 distinct/s
  assert.doesNotMatch(progressLine(p, 100), /ETA/)
  assert.match(progressLine(p, 100, { maxStates: 6000 }), /ETA ≤ 10 s/) // 5000 states left at 500/s
  assert.match(progressLine(p, 100, { maxStates: 6000, timeoutMs: 5000 }), /ETA ≤ 3 s/) // 3 s of the timeout left
  assert.match(progressLine(p, 100), /1,000 distinct, 3,000 generated, depth 4, frontier 10, 500 states\/s, RSS 100 MiB$/)
})

test('parallel BFS over a shared frontier and visited set: 1 and 2 workers give exactly the sequential counts, depth, sometimes verdicts and bound; a violation gives the sequential counterexample', async () => {
  const { checkParallel } = await import('../checker/runtime/parallel.js')
  const strip = (r: import('../checker/engine/explore.js').CheckResult<unknown>) => ({
    status: r.status, reason: r.reason, distinct: r.distinct, generated: r.generated, maxDepth: r.maxDepth,
    sometimes: r.sometimes.map((x) => [x.property, x.reached]), violations: r.violations.map((v) => [v.property, v.trace]),
  })
  const cases: [Record<string, number>, string | undefined, { maxDepth?: number }][] = [
    [{ rms: 5 }, undefined, {}], [{ rms: 6, symmetry: 1 }, undefined, {}], [{ rms: 6 }, undefined, { maxDepth: 7 }], [{ rms: 5 }, 'tm-commits-early', {}],
  ]
  for (const [params, bug, extra] of cases) {
    const { spec, params: p } = buildModel('twophase', params, bug)
    const seq = strip(await check(spec, extra))
    for (const w of [1, 2]) assert.deepEqual(strip(await checkParallel(spec, { model: 'twophase', params: p, ...(bug ? { bug } : {}) }, w, extra)), seq, `${JSON.stringify(params)} ${bug ?? ''} workers=${w}`)
  }
  // The reference counts of ../shared/bench/README.md B1 (TLC and SPIN agree on them).
  const { spec } = buildModel('twophase', { rms: 7 })
  assert.equal((await checkParallel(spec, { model: 'twophase', params: { rms: 7, symmetry: 0 } }, 2)).distinct, 296_448)
})

test('twophase state codec: decode(encode(s)) is s, hash included, for every reachable state of 4 RMs', () => {
  const spec = twoPhase(4)
  const codec = spec.codec!
  const seen = new Map<string, ReturnType<typeof spec.reduce>>()
  const queue = spec.initStates().slice()
  for (let i = 0; i < queue.length; i++) for (const e of spec.enabled(queue[i]!)) { const n = spec.reduce(queue[i]!, e); const k = `${n.h1}:${n.h2}`; if (!seen.has(k)) { seen.set(k, n); queue.push(n) } }
  const buf = new Int32Array(codec.words)
  for (const s of queue) {
    codec.encode(s, buf, 0)
    const d = codec.decode(buf, 0)
    assert.deepEqual({ ...d }, { ...s })
  }
  assert.ok(queue.length > 100)
})

test('an encoded frontier (model codec) changes nothing: BFS and DFS counts, depth and counterexamples equal those of the same model without its codec', async () => {
  for (const bug of [undefined, 'tm-commits-early'] as const) {
    const withCodec = twoPhase(6, bug ? { bug } : {})
    const { codec: _codec, ...plain } = withCodec
    for (const strategy of ['bfs', 'dfs'] as const) {
      const a = await check(withCodec, { strategy })
      const b = await check(plain, { strategy })
      assert.deepEqual({ ...a, elapsedMs: 0 }, { ...b, elapsedMs: 0 }, `${strategy} ${bug ?? ''}`)
    }
  }
})
