// The validator's mutation sweep (traces/mutants.ts) on the real captures. Two properties hold by
// construction of a sound validator, independently of how many mutants it catches:
// 1. the prefix before a mutation is the original trace, which conforms, so no mutant may be rejected
//    at a line before the first one it touched;
// 2. mutants that break the routing fan-out must all be rejected: irq_comm.c kvm_set_irq traces each
//    route's set (kvm_pic_set_irq for every GSI below 16, kvm_ioapic_set_irq for the IOAPIC pin) exactly
//    once, in route order, so removing or duplicating a kvm_ioapic_set_irq, or changing the chip of a
//    kvm_pic_set_irq (its first number; the routing learned from the first kvm_set_irq of the GSI),
//    makes that line impossible.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mutants } from '../traces/mutants.js'

const dir = fileURLToPath(new URL('../../test/fixtures/captures/', import.meta.url))
const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))
const captures = readdirSync(dir).filter((f) => f.endsWith('.trace')).sort()
const sweeps = new Map(captures.map((f) => [f, mutants(readFileSync(join(dir, f), 'utf8'))]))

test('no mutant of any real capture is rejected before the line it touches', () => {
  for (const [f, ms] of sweeps) {
    assert.ok(ms.length > 100, f)
    const early = ms.filter((m) => m.verdict === 'diverges' && (m.divergedAt ?? 0) < m.firstTouched)
    assert.deepEqual(early, [], f)
  }
})

test('every removal and duplication of a kvm_ioapic_set_irq, and every alteration of a kvm_pic_set_irq, is rejected at that line', () => {
  for (const [f, ms] of sweeps) {
    for (const m of ms) {
      const fanout = (m.event === 'kvm_ioapic_set_irq' && (m.kind === 'remove' || m.kind === 'duplicate')) || (m.event === 'kvm_pic_set_irq' && m.kind === 'alter')
      if (!fanout) continue
      assert.equal(m.verdict, 'diverges', `${f}: ${m.kind} of ${m.event} at line ${m.line}`)
      assert.ok(m.divergedAt! >= m.firstTouched, `${f}: ${JSON.stringify(m)}`)
    }
  }
})

test('virq mutants: exit 0 and a per-kind table on a conforming capture; exit 1 on a trace that does not conform; exit 2 on a missing file', () => {
  const ok = spawnSync(process.execPath, [cli, 'mutants', join(dir, 'msi.trace')], { encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /remove +rejected +\d+ +accepted +\d+/)
  const none = spawnSync(process.execPath, [cli, 'mutants', fileURLToPath(new URL('../../test/fixtures/traces/14-arm64-vtimer-wfx-vgic-event-names-only.trace', import.meta.url))], { encoding: 'utf8' })
  assert.equal(none.status, 1)
  assert.match(none.stderr, /does not conform/)
  const missing = spawnSync(process.execPath, [cli, 'mutants', '/nonexistent.trace'], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /\/nonexistent.trace: no such file/)
})
