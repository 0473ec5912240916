/** `virq models`, `virq check`, `virq check-all`, `virq minimize`. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { check, type CheckOptions, type CheckResult, type Strategy, type Trace } from '../checker/engine/explore.js'
import { minimize } from '../checker/engine/minimize.js'
import { createPool, type PoolModel } from '../checker/runtime/pool.js'
import { checkParallel, parallelApplies } from '../checker/runtime/parallel.js'
import { readCheckpoint, writeCheckpoint } from '../checker/runtime/snapshot.js'
import { buildModel, models, ModelError, type AnySpec } from '../models/registry.js'
import { EXIT, UsageError, type Command } from './command.js'
import { decodeToken, encodeToken, itf, resultJson, timeline, tokenTrace } from './format.js'

type E = { readonly _tag: string }

/** Parse `--flag value`, `--flag=value`, `--bool`, and positionals. */
export const parseArgs = (args: ReadonlyArray<string>, valued: ReadonlyArray<string>, bools: ReadonlyArray<string>, cmd: string) => {
  const flags: Record<string, string[]> = {}
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (!a.startsWith('--')) { positional.push(a); continue }
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
    if (bools.includes(name)) { (flags[name] ??= []).push('true'); continue }
    if (!valued.includes(name)) throw new UsageError(`unknown option '--${name}' (see 'virq ${cmd} --help')`)
    const v = eq > 0 ? a.slice(eq + 1) : args[++i]
    if (v === undefined) throw new UsageError(`option '--${name}' needs a value`)
    ;(flags[name] ??= []).push(v)
  }
  return { flags, positional }
}

const int = (v: string | undefined, name: string, min = 0): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${v}'`)
  return n
}

const paramsOf = (list: ReadonlyArray<string> = []): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const kv of list) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new UsageError(`--param expects name=value, got '${kv}'`)
    out[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return out
}

const wrap = <T>(f: () => T): T => {
  try {
    return f()
  } catch (e) {
    if (e instanceof ModelError || e instanceof RangeError) throw new UsageError(e.message)
    throw e
  }
}

const fmtInt = (n: number): string => n.toLocaleString('en-US')

/**
 * The progress line. With a bound (--max-states, --timeout) it ends with the ETA to the nearer bound:
 * states left at the current distinct-states rate, or time left. An unbounded exhaustive run has no ETA
 * (the state space's size is what it computes).
 */
export const progressLine = (p: { distinct: number; generated: number; depth: number; queued: number; elapsedMs: number }, rssMiB: number, bounds: { maxStates?: number; timeoutMs?: number } = {}): string => {
  const rate = p.elapsedMs > 0 ? Math.round((p.distinct / p.elapsedMs) * 1000) : 0
  const etas: number[] = []
  if (bounds.maxStates !== undefined && rate > 0) etas.push(Math.max(0, bounds.maxStates - p.distinct) / rate)
  if (bounds.timeoutMs !== undefined) etas.push(Math.max(0, bounds.timeoutMs - p.elapsedMs) / 1000)
  const eta = etas.length ? `, ETA ≤ ${Math.ceil(Math.min(...etas))} s (bound)` : ''
  return `  … ${(p.elapsedMs / 1000).toFixed(0)} s: ${fmtInt(p.distinct)} distinct, ${fmtInt(p.generated)} generated, depth ${p.depth}, frontier ${fmtInt(p.queued)}, ${fmtInt(rate)} states/s, RSS ${rssMiB} MiB${eta}`
}
const progressPrinter = (enabled: boolean, bounds: { maxStates?: number; timeoutMs?: number } = {}) => (p: { distinct: number; generated: number; depth: number; queued: number; elapsedMs: number }): void => {
  if (!enabled) return
  process.stderr.write(progressLine(p, Math.round(process.memoryUsage().rss / 2 ** 20), bounds) + '\n')
}

/** Run a check with Ctrl-C handling: the first SIGINT stops cleanly and returns the partial result. */
const runCheck = async (spec: AnySpec, opts: CheckOptions, shared?: { readonly workers: number; readonly model: PoolModel }): Promise<CheckResult<E>> => {
  const ac = new AbortController()
  const onInt = (): void => {
    process.stderr.write('\nvirq: interrupted, finishing with a partial result (Ctrl-C again to quit at once)\n')
    ac.abort()
    process.removeListener('SIGINT', onInt)
  }
  process.on('SIGINT', onInt)
  try {
    return await (shared ? checkParallel(spec, shared.model, shared.workers, { ...opts, signal: ac.signal }) : check(spec, { ...opts, signal: ac.signal }))
  } finally {
    process.removeListener('SIGINT', onInt)
  }
}

const printResult = (r: CheckResult<E>, spec: AnySpec, token: (t: Trace<E>) => string): void => {
  const out = (s: string): void => void process.stdout.write(s + '\n')
  out(`model ${r.model} (${r.strategy}): ${r.status.toUpperCase()}${r.reason ? ` — ${r.reason}` : ''}`)
  out(`  ${fmtInt(r.distinct)} distinct states, ${fmtInt(r.generated)} generated, depth ${r.maxDepth}, ${(r.elapsedMs / 1000).toFixed(2)} s` +
    (r.distinct > 0 && r.elapsedMs > 0 ? `, ${fmtInt(Math.round((r.distinct / r.elapsedMs) * 1000))} distinct/s` : '') +
    (r.bytesPerState ? `, ${r.bytesPerState} bytes/state, fingerprint collision probability ≤ ${r.collisionProbability!.toExponential(1)}` : ''))
  for (const p of spec.properties) {
    const v = r.violations.find((x) => x.property === p.name)
    const sw = r.sometimes.find((x) => x.property === p.name)
    const ev = r.eventually.find((x) => x.property === p.name)
    const verdict = v ? 'VIOLATED' : p.expectation === 'sometimes' ? (sw?.reached ? 'reached' : 'NOT REACHED') : p.expectation === 'eventually' && !ev?.checked ? (ev?.reason ?? 'not checked (needs a complete BFS)') : r.status === 'ok' ? 'holds' : 'no violation found'
    out(`  ${p.expectation.padEnd(10)} ${p.name.padEnd(42)} ${verdict}`)
  }
  for (const p of spec.stepProperties ?? []) {
    const v = r.violations.find((x) => x.property === p.name)
    out(`  ${'always'.padEnd(10)} ${p.name.padEnd(42)} ${v ? 'VIOLATED' : r.status === 'ok' ? 'holds' : 'no violation found'}`)
  }
  const dl = r.violations.find((x) => x.kind === 'deadlock')
  if (dl) out(`  ${'always'.padEnd(10)} ${'deadlock-free'.padEnd(42)} VIOLATED`)
  for (const v of r.violations) {
    out(`\n${v.message} — counterexample of ${v.trace.events.length} events${v.trace.loopStart !== undefined ? ` (a lasso: the cycle starts after step ${v.trace.loopStart})` : ''}:`)
    out(timeline(spec, v.trace))
    out(`  replay: virq check ${r.model} --replay ${token(v.trace)}`)
  }
}

const CHECK_USAGE = `usage: virq check <model> [options]

Explore every interleaving of <model> (see 'virq models') and check its properties.

options:
  --param name=value   set a model parameter (repeatable)
  --bug ID             check a bug variant of the model
  --strategy S         bfs (default: shortest counterexamples, checks eventually), dfs, random
  --max-states N       stop after N distinct states (result: incomplete, exit 3)
  --max-depth N        do not expand states deeper than N
  --timeout S          stop after S seconds
  --workers N          BFS in N worker threads (default 1); results are identical for any N. Models with a
                       state codec (twophase) share the frontier and visited set: ~1.7x on 2 cores (npm run bench);
                       the others only parallelize reduce (the merge pool), which rarely pays on 2 cores.
  --seed N             random strategy: seed (default 1)
  --walks N            random strategy: number of walks (default 10000)
  --walk-length N      random strategy: events per walk (default 100)
  --all                report the first violation of every property, not only the first one
  --minimize           shrink each counterexample (useful with dfs/random)
  --checkpoint DIR     when the run stops early (Ctrl-C, --timeout), save it to DIR/virq-checkpoint.json (BFS)
  --resume DIR         continue a checkpointed run; no state explored before the checkpoint is re-generated
  --json               machine-readable result on stdout
  --itf FILE           write the first counterexample as ITF JSON
  --replay TOKEN       re-execute a counterexample token and print its timeline
  --replay-itf FILE    read an ITF trace (as --itf writes it) back and check it against the model step by step
  --progress           print progress on stderr every 2 s (default when stderr is a terminal)

exit: 0 all properties hold, 1 a property is violated, 2 usage error, 3 incomplete (bound hit or Ctrl-C)`

export const checkCommand: Command = {
  name: 'check',
  summary: 'model-check a model: every interleaving, shortest counterexamples',
  usage: CHECK_USAGE,
  run: async (args) => {
    const { flags, positional } = parseArgs(args, ['param', 'bug', 'strategy', 'max-states', 'max-depth', 'timeout', 'seed', 'walks', 'walk-length', 'itf', 'replay', 'workers', 'checkpoint', 'resume', 'replay-itf'], ['json', 'progress', 'all', 'minimize'], 'check')
    const token = flags.replay?.[0]
    const decoded = token ? wrap(() => decodeToken(token)) : undefined
    const resumeDir = flags.resume?.[0]
    const resumed = resumeDir ? wrap(() => { try { return readCheckpoint(resumeDir) } catch (e) { throw new UsageError((e as Error).message) } }) : undefined
    const id = positional[0] ?? decoded?.m ?? resumed?.meta.model
    if (!id) throw new UsageError("missing <model> (see 'virq models')")
    if (positional.length > 1) throw new UsageError(`unexpected argument '${positional[1]}'`)
    const bug = flags.bug?.[0] ?? decoded?.b ?? resumed?.meta.bug
    const { params, spec } = wrap(() => buildModel(id, decoded && !flags.param ? decoded.p : resumed && !flags.param ? resumed.meta.params : paramsOf(flags.param), bug))
    if (resumed && (resumed.meta.model !== id || JSON.stringify(resumed.meta.params) !== JSON.stringify(params) || resumed.meta.bug !== bug))
      throw new UsageError(`the checkpoint in ${resumeDir} is of ${resumed.meta.model} ${JSON.stringify(resumed.meta.params)}${resumed.meta.bug ? ` bug ${resumed.meta.bug}` : ''}, not of this run`)
    const tok = (t: Trace<E>): string => encodeToken(id, params, bug, spec, t)
    const itfFile = flags['replay-itf']?.[0]
    if (itfFile) {
      const { readItf } = await import('./format.js')
      const r = wrap(() => { try { return readItf(spec, itfFile) } catch (e) { throw new UsageError((e as Error).message) } })
      process.stdout.write(`${itfFile}: ${r.trace.events.length} events; every action is enabled in turn and every state equals the model's\n${timeline(spec, r.trace)}\n`)
      return EXIT.ok
    }
    if (decoded) {
      if (decoded.m !== id) throw new UsageError(`the token is for model '${decoded.m}', not '${id}'`)
      const t = wrap(() => tokenTrace(spec, decoded))
      process.stdout.write(`replay of ${id} ${JSON.stringify(params)}${bug ? ` bug ${bug}` : ''}: ${t.events.length} events, all enabled in turn\n${timeline(spec, t)}\n`)
      return EXIT.ok
    }
    const strategy = (flags.strategy?.[0] ?? 'bfs') as Strategy
    if (!['bfs', 'dfs', 'random'].includes(strategy)) throw new UsageError(`--strategy must be bfs, dfs or random, got '${strategy}'`)
    const timeout = int(flags.timeout?.[0], 'timeout', 1)
    const opts: CheckOptions = {
      strategy,
      ...(flags['max-states'] ? { maxStates: int(flags['max-states'][0], 'max-states', 1)! } : {}),
      ...(flags['max-depth'] ? { maxDepth: int(flags['max-depth'][0], 'max-depth', 0)! } : {}),
      ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      ...(flags.seed ? { seed: int(flags.seed[0], 'seed')! } : {}),
      ...(flags.walks ? { walks: int(flags.walks[0], 'walks', 1)! } : {}),
      ...(flags['walk-length'] ? { walkLength: int(flags['walk-length'][0], 'walk-length', 1)! } : {}),
      stopOnViolation: !flags.all,
      ...(resumed ? { resume: resumed.snapshot } : {}),
      ...(flags.checkpoint?.[0] ? { onSnapshot: (snap) => {
        const f = writeCheckpoint(flags.checkpoint![0]!, { model: id, params, ...(bug ? { bug } : {}) }, snap)
        process.stderr.write(`virq: checkpoint of ${snap.parent.length.toLocaleString('en-US')} states written to ${f}; continue with --resume ${flags.checkpoint![0]}\n`)
      } } : {}),
      onProgress: progressPrinter(Boolean(flags.progress) || (process.stderr.isTTY ?? false), {
        ...(flags['max-states'] ? { maxStates: int(flags['max-states'][0], 'max-states', 1)! } : {}),
        ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      }),
      progressEveryMs: 1000,
    }
    const workers = int(flags.workers?.[0], 'workers', 1) ?? 1
    if (workers > 16) throw new UsageError('--workers must be at most 16')
    const poolModel: PoolModel = { model: id, params, ...(bug ? { bug } : {}) }
    // Models with a state codec share the frontier and the visited set between workers (a real speed-up);
    // the others, and runs that need parent columns or liveness edges, use the merge pool.
    const shared = workers > 1 && parallelApplies(spec, { ...opts, strategy }) ? { workers, model: poolModel } : undefined
    const pool = workers > 1 && strategy === 'bfs' && !shared ? createPool(workers, poolModel) : undefined
    let r: CheckResult<E>
    try {
      r = await runCheck(spec, pool ? { ...opts, pool } : opts, shared)
    } finally {
      await pool?.close()
    }
    if (flags.minimize) r = { ...r, violations: r.violations.map((v) => ({ ...v, trace: minimize(spec, v.trace, v.property, v.kind) })) }
    if (flags.itf?.[0] && r.violations[0]) writeFileSync(flags.itf[0], JSON.stringify(itf(spec, r.violations[0].trace, r.violations[0], params, bug), null, 1) + '\n')
    if (r.resumedFrom !== undefined && !flags.json)
      process.stdout.write(`resumed: ${r.resumedFrom.toLocaleString('en-US')} states restored from the checkpoint (not re-generated), ${(r.distinct - r.resumedFrom).toLocaleString('en-US')} new in this run\n`)
    if (flags.json) process.stdout.write(JSON.stringify({ params, ...(bug ? { bug } : {}), ...(resultJson(r, spec, tok) as object) }, null, 1) + '\n')
    else printResult(r, spec, tok)
    // An exhaustive run that never reached a sometimes-witness has found an over-constrained model.
    const unreached = r.status === 'ok' ? r.sometimes.filter((x) => !x.reached) : []
    if (unreached.length && !flags.json) process.stdout.write(`sometimes-witness never reached in an exhaustive run (the model is over-constrained): ${unreached.map((x) => x.property).join(', ')}\n`)
    return r.status === 'violated' || unreached.length ? EXIT.finding : r.status === 'ok' ? EXIT.ok : EXIT.incomplete
  },
}

export const minimizeCommand: Command = {
  name: 'minimize',
  summary: 'shrink a counterexample (a replay token) to the shortest trace that still fails',
  usage: `usage: virq minimize <replay-token> [--json]

Re-executes the counterexample, finds the property it violates, and removes events
(delta debugging) while every remaining event stays enabled and the same property
still fails. Prints the minimized timeline and its replay token.
exit: 0 minimized, 2 bad token or the token's trace violates nothing`,
  run: async (args) => {
    const { flags, positional } = parseArgs(args, [], ['json'], 'minimize')
    const token = positional[0]
    if (!token) throw new UsageError('missing <replay-token>')
    const t = wrap(() => decodeToken(token))
    const { params, spec } = wrap(() => buildModel(t.m, t.p, t.b))
    const trace = wrap(() => tokenTrace(spec, t))
    // Which property does it violate? Check each always/step property and deadlock along the trace.
    const { failsAt } = await import('../checker/engine/minimize.js')
    const candidates: [string, 'invariant' | 'step' | 'deadlock'][] = [
      ...spec.properties.filter((p) => p.expectation === 'always').map((p) => [p.name, 'invariant'] as [string, 'invariant']),
      ...(spec.stepProperties ?? []).map((p) => [p.name, 'step'] as [string, 'step']),
      ['deadlock', 'deadlock'],
    ]
    const hit = candidates.find(([name, kind]) => failsAt(spec, trace.init, trace.events, name, kind) >= 0)
    if (!hit) throw new UsageError('the trace violates no always-property (lassos for eventually-properties are minimal by construction)')
    const m = minimize(spec, trace, hit[0], hit[1])
    const tok = encodeToken(t.m, params, t.b, spec, m)
    if (flags.json) process.stdout.write(JSON.stringify({ property: hit[0], before: trace.events.length, after: m.events.length, events: m.events.map((e) => spec.formatEvent?.(e) ?? e._tag), replay: tok }, null, 1) + '\n')
    else process.stdout.write(`${hit[0]}: ${trace.events.length} → ${m.events.length} events\n${timeline(spec, m)}\n  replay: virq check ${t.m} --replay ${tok}\n`)
    return EXIT.ok
  },
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the models, their parameters and bug variants',
  usage: 'usage: virq models [--json]',
  run: async (args) => {
    const { flags } = parseArgs(args, [], ['json'], 'models')
    if (flags.json) {
      const props = (id: string) => {
        const { spec } = buildModel(id, {})
        return [...spec.properties.map((p) => ({ name: p.name, expectation: p.expectation, description: p.description, source: p.source })),
          ...(spec.stepProperties ?? []).map((p) => ({ name: p.name, expectation: 'always' as const, kind: 'step', description: p.description, source: p.source }))]
      }
      process.stdout.write(JSON.stringify(models.map((m) => ({ id: m.id, description: m.description, params: m.params, properties: props(m.id), bugs: m.bugs })), null, 1) + '\n')
      return EXIT.ok
    }
    for (const m of models) {
      process.stdout.write(`${m.id}\n  ${m.description}\n`)
      for (const p of m.params) process.stdout.write(`  --param ${`${p.name}=N`.padEnd(12)} ${p.description} (default ${p.default}, ${p.min}..${p.max})\n`)
      for (const b of m.bugs) process.stdout.write(`  --bug ${b.id.padEnd(14)} ${b.description}${b.commit ? ` [${b.commit}]` : ''}\n`)
      const { spec } = buildModel(m.id, {})
      process.stdout.write(`  properties: ${[...spec.properties.map((p) => `${p.name} (${p.expectation})`), ...(spec.stepProperties ?? []).map((p) => `${p.name} (always, step)`)].join(', ')}\n`)
      process.stdout.write('\n')
    }
    return EXIT.ok
  },
}

export const checkAllCommand: Command = {
  name: 'check-all',
  summary: 'check every model at its defaults (and every bug variant) and print a summary table',
  usage: `usage: virq check-all [--timeout S] [--json]

Checks each registered model at its default parameters with BFS, and each bug
variant, expecting the fixed model to satisfy every property and each bug variant
to violate one, then replays the committed real KVM captures (test/fixtures/captures;
not in --json), which must all conform. exit: 0 as expected, 1 otherwise, 3 if a check was incomplete`,
  run: async (args) => {
    const { flags } = parseArgs(args, ['timeout'], ['json'], 'check-all')
    const timeout = int(flags.timeout?.[0], 'timeout', 1) ?? 600
    const rows: { model: string; variant: string; status: string; distinct: number; generated: number; depth: number; seconds: number; detail: string; expected: boolean }[] = []
    for (const m of models) {
      for (const bug of [undefined, ...m.bugs.map((b) => b.id)]) {
        const { spec } = buildModel(m.id, {}, bug)
        process.stderr.write(`checking ${m.id}${bug ? ` --bug ${bug}` : ''} …\n`)
        const want = bug ? m.expectedViolations?.[bug] : undefined
        const r = await runCheck(spec, { timeoutMs: timeout * 1000, onProgress: progressPrinter(process.stderr.isTTY ?? false), ...(want ? { stopOnViolation: false } : {}) })
        const unreached = r.sometimes.filter((s) => !s.reached).map((s) => s.property)
        const detail = r.violations.length > 0
          ? `violates ${r.violations.map((v) => `${v.property} (${v.trace.events.length} events)`).join(', ')}`
          : `${spec.properties.length + (spec.stepProperties?.length ?? 0)} properties hold${unreached.length ? `; sometimes not reached: ${unreached.join(', ')}` : ''}`
        // A bug variant must violate exactly the properties its documentation names (all of them, when they are listed).
        const violated = new Set(r.violations.map((v) => v.property))
        const expected = bug
          ? r.status === 'violated' && (want === undefined || (want.every((p) => violated.has(p)) && violated.size === want.length))
          : r.status === 'ok' && unreached.length === 0
        rows.push({ model: m.id, variant: bug ?? '(fixed)', status: r.status, distinct: r.distinct, generated: r.generated, depth: r.maxDepth, seconds: r.elapsedMs / 1000, detail, expected })
        if (r.reason === 'interrupted') break
      }
    }
    if (flags.json) process.stdout.write(JSON.stringify(rows, null, 1) + '\n')
    else {
      const head = ['model', 'variant', 'result', 'distinct', 'generated', 'depth', 'time', 'details']
      const body = rows.map((r) => [r.model, r.variant, (r.expected ? '' : '✗ ') + r.status, fmtInt(r.distinct), fmtInt(r.generated), String(r.depth), `${r.seconds.toFixed(1)} s`, r.detail])
      const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
      const line = (cells: string[]): string => cells.map((c, i) => (i >= 3 && i <= 6 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ')
      process.stdout.write(line(head) + '\n' + w.map((x) => '-'.repeat(x)).join('  ') + '\n' + body.map(line).join('\n') + '\n')
    }
    // The committed real KVM captures (test/fixtures/captures, docs/capture.md) must all conform.
    const capDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'captures')
    const caps = existsSync(capDir) ? readdirSync(capDir).filter((f) => f.endsWith('.trace')).sort() : []
    const replays: { file: string; result: string; checks: number }[] = []
    if (caps.length > 0) {
      const { replayFile } = await import('./replay.js')
      for (const f of caps) {
        const r = await replayFile(join(capDir, f))
        replays.push({ file: f, result: r.result?.result ?? `error: ${r.error}`, checks: Object.values(r.result?.rulesChecked ?? {}).reduce((a, b) => a + b, 0) })
      }
      if (!flags.json) {
        process.stdout.write(`\nreal KVM captures (test/fixtures/captures), replayed:\n`)
        for (const r of replays) process.stdout.write(`  ${r.file.padEnd(40)} ${r.result.padEnd(10)} ${r.checks} rule checks\n`)
      }
    }
    if (rows.some((r) => r.status === 'incomplete')) return EXIT.incomplete
    return rows.every((r) => r.expected) && replays.every((r) => r.result === 'conforms') ? EXIT.ok : EXIT.finding
  },
}
