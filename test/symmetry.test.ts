/**
 * AP symmetry of the x86 substrate (models/x86-irqchip.ts `apSymmetry`), tested against facts that do not
 * come from the reduction itself:
 * - canonicity: renaming the APs of a reachable state (the renaming written here, independently: permute
 *   the vCPU and LAPIC tables and give each LAPIC its new index as APIC id) does not change its
 *   representative, and the representative is itself such a renaming (same multiset of APs);
 * - orbit count: the reduced search finds exactly as many states as there are classes of the full state
 *   space under renaming, counted here by a naive BFS of the full space;
 * - verdicts: for random symmetric invariants (they count APs in some condition, so no renaming changes
 *   them), the runs with and without symmetry agree on the verdict and on the length of the shortest
 *   counterexample (a BFS over the quotient preserves distances from the initial state).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { buildX86, apSymmetry, type X86Params } from '../models/x86-irqchip.js'
import { buildModel } from '../models/registry.js'
import { check } from '../checker/engine/explore.js'
import { SystemR, type SystemState } from '../model/System.js'
import { Table } from '../model/core/Table.js'
import { VectorSet } from '../model/core/VectorSet.js'
import { LapicR } from '../model/devices/lapic.js'
import type { StateProperty } from '../invariants/Property.js'

const small: X86Params = { vcpus: 3, edges: 1, levels: 0, msis: 1, ipis: 1, irqfd: 0, cli: 0, layout: 1 }
const key = (s: { h1: number; h2: number }): string => `${s.h1}:${s.h2}`

/** Every reachable state of the full (unreduced) model, by a plain BFS with a Map. */
const reachable = (p: X86Params): SystemState[] => {
  const { system } = buildX86(p)
  const seen = new Map<string, SystemState>([[key(system.initial), system.initial]])
  const queue = [system.initial]
  for (let i = 0; i < queue.length; i++)
    for (const e of system.enabled(queue[i]!)) {
      const n = system.reduce(queue[i]!, e)
      if (!seen.has(key(n))) { seen.set(key(n), n); queue.push(n) }
    }
  return queue
}

/** Rename APs: position j of the result holds AP perm[j-1] of `s`, its LAPIC re-numbered to j. */
const rename = (s: SystemState, perm: number[]): SystemState =>
  SystemR.update(s, {
    vcpus: Table.of([s.vcpus.items[0]!, ...perm.map((i) => s.vcpus.items[i]!)]),
    lapics: Table.of([s.lapics.items[0]!, ...perm.map((i, j) => LapicR.update(s.lapics.items[i]!, { id: j + 1, vcpuId: j + 1 }))]),
  })

const permutations = (xs: number[]): number[][] =>
  xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((r) => [x, ...r]))

const states4 = reachable({ ...small, vcpus: 4, msis: 0, edges: 0 })

test('symmetry: renaming the APs of a reachable state never changes its representative (4 vCPUs, all 6 AP orders)', () => {
  const perms = [[1, 2, 3], [1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]]
  let moved = 0
  fc.assert(fc.property(fc.integer({ min: 0, max: states4.length - 1 }), fc.constantFrom(...perms), (i, perm) => {
    const s = states4[i]!
    const r = apSymmetry(s), rp = apSymmetry(rename(s, perm))
    assert.equal(key(rp), key(r))
    // The representative is a renaming of s: the same APs, each with the id of its new place.
    const apKey = (x: SystemState): string[] => x.vcpus.items.slice(1).map((v, j) => `${key(v)}/${key(LapicR.update(x.lapics.items[j + 1]!, { id: 0, vcpuId: 0 }))}`).sort()
    assert.deepEqual(apKey(r), apKey(s))
    r.lapics.items.forEach((l, j) => assert.equal(l.id, j))
    if (key(r) !== key(s)) moved++
  }), { numRuns: 300, seed: 7 })
  assert.ok(moved > 0, 'some sampled states are not canonical already (otherwise the test shows nothing)')
})

test('symmetry: the reduced search visits exactly one state per class of the full space (3 and 4 vCPUs)', async () => {
  for (const p of [small, { ...small, vcpus: 4, msis: 0, edges: 0 }]) {
    const full = p.vcpus === 4 ? states4 : reachable(p)
    // A class is named by the least hash among all AP renamings of its states (brute force, no apSymmetry).
    const perms = permutations(Array.from({ length: p.vcpus - 1 }, (_, i) => i + 1))
    const classes = new Set(full.map((s) => perms.map((q) => key(rename(s, q))).sort()[0]!))
    const reduced = await check(buildModel('x86-irqchip', { ...p, symmetry: 1 } as unknown as Record<string, number>).spec)
    const plain = await check(buildModel('x86-irqchip', { ...p, symmetry: 0 } as unknown as Record<string, number>).spec)
    assert.equal(plain.distinct, full.length, 'the checker without symmetry finds the naive BFS count')
    assert.equal(reduced.distinct, classes.size)
    assert.ok(reduced.distinct < plain.distinct, `${p.vcpus} vCPUs: the reduction merges states`)
  }
})

test('symmetry: verdicts and shortest counterexample lengths agree with and without symmetry on random symmetric invariants', async () => {
  type Cond = (s: SystemState, i: number) => boolean
  const conds: Record<string, Cond> = {
    halted: (s, i) => s.vcpus.items[i]!.run === 'halted',
    inGuest: (s, i) => s.vcpus.items[i]!.run === 'inGuest',
    handling: (s, i) => s.vcpus.items[i]!.handler >= 0,
    irr71: (s, i) => VectorSet.has(s.lapics.items[i]!.irr, 0x71),
    isr: (s, i) => VectorSet.size(s.lapics.items[i]!.isr) > 0,
    ipiSent: (s, i) => s.vcpus.items[i]!.ipiBudget === 0,
  }
  let violated = 0, held = 0
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...Object.keys(conds)), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }),
    async (c, atMost, ipis, msis, cli) => {
      const p = { ...small, ipis, msis, cli }
      const prop: StateProperty<SystemState> = {
        name: `aps-${c}-at-most-${atMost}`, expectation: 'always', description: 'test invariant', source: 'test',
        holds: (s) => s.vcpus.items.reduce((k, _, i) => k + (i > 0 && conds[c]!(s, i) ? 1 : 0), 0) <= atMost,
      }
      const run = async (symmetry: number) => {
        const spec = buildModel('x86-irqchip', { ...p, symmetry } as unknown as Record<string, number>).spec as unknown as ReturnType<typeof buildX86>['spec']
        return check({ ...spec, properties: [prop] })
      }
      const [a, b] = [await run(0), await run(1)]
      assert.equal(b.status, a.status)
      assert.equal(b.violations[0]?.trace.events.length, a.violations[0]?.trace.events.length)
      if (a.status === 'violated') violated++
      else held++
    }), { numRuns: 24, seed: 11 })
  assert.ok(violated > 0 && held > 0, `both verdicts occur among the sampled invariants (violated ${violated}, held ${held})`)
})

test('symmetry: x86-irqchip refuses symmetry=1 where the APs are not interchangeable, and skips liveness with a reason', async () => {
  assert.throws(() => buildModel('x86-irqchip', { vcpus: 3, symmetry: 1 }), /needs layout=1/)
  const r = await check(buildModel('x86-irqchip', { vcpus: 3, layout: 1, symmetry: 1, levels: 0, irqfd: 0, msis: 0, edges: 0 }).spec)
  const ev = r.eventually.find((e) => e.property === 'all-interrupts-handled')
  assert.equal(ev?.checked, false)
  assert.match(ev?.reason ?? '', /symmetry/)
  const plain = await check(buildModel('x86-irqchip', { vcpus: 3, layout: 1, symmetry: 0, levels: 0, irqfd: 0, msis: 0, edges: 0 }).spec)
  assert.equal(plain.eventually.find((e) => e.property === 'all-interrupts-handled')?.checked, true)
})
