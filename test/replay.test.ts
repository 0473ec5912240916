// Replay validation against real traces, and mutation tests: each mutation makes the trace say something
// the kernel's rules forbid (the comment says which rule and why), and the validator must report it at the
// mutated line with that rule.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseFtraceText } from '../traces/ftrace.js'
import { Validator, type Verdict } from '../traces/validate.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/traces/${name}`, import.meta.url))
const hostText = readFileSync(fixture('host-pic-edge-2-interrupts.trace'), 'utf8')

const validate = (text: string, file = 'x.trace'): Verdict => {
  const v = new Validator(file)
  const r = parseFtraceText(text, { file })
  assert.equal(r.error, undefined, JSON.stringify(r.error))
  for (const o of r.observations) v.observe(o)
  return v.end()
}

/** Replace the n-th (0-based) line containing `find` by applying `edit`; returns the text and the 1-based line. */
const mutate = (text: string, find: string, edit: (line: string) => string, nth = 0): { text: string; line: number } => {
  const lines = text.split('\n')
  let seen = 0
  const i = lines.findIndex((l) => l.includes(find) && seen++ === nth)
  assert.ok(i >= 0, `no line with ${find}`)
  lines[i] = edit(lines[i]!)
  return { text: lines.join('\n'), line: i + 1 }
}

test('the host capture (PIC edge, two interrupts) is explained, and every PIC rule was exercised', () => {
  const v = validate(hostText)
  assert.equal(v.verdict, 'explained')
  for (const rule of ['pic-trigger-matches-elcr', 'pic-mask-matches-imr', 'pic-coalesced-iff-irr-pending', 'pic-ack-follows-isr-clear', 'ioapic-edge-coalesced-iff-irr-set'])
    assert.ok((v.rulesChecked[rule] ?? 0) > 0, `${rule} never checked`)
})

test('mutation: pin 0 reported level although the guest wrote ELCR = 0 (port 0x4d0) → pic-trigger-matches-elcr', () => {
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => l.replace('(edge)', '(level)'))
  const v = validate(m.text)
  assert.equal(v.verdict, 'not-explained')
  assert.equal(v.contradiction!.rule, 'pic-trigger-matches-elcr')
  assert.equal(v.contradiction!.line, m.line)
})

test('mutation: pin 0 reported masked although OCW1 wrote IMR = 0xfe (pin 0 unmasked) → pic-mask-matches-imr', () => {
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => l.replace('(edge)', '(edge|masked)'), 1)
  const v = validate(m.text)
  assert.equal(v.contradiction?.rule, 'pic-mask-matches-imr')
  assert.equal(v.contradiction!.line, m.line)
})

test('mutation: a rising edge on an idle pin reported coalesced (pic_set_irq1 returns 1 there) → pic-coalesced-iff-irr-pending', () => {
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => `${l} (coalesced)`, 2)
  const v = validate(m.text)
  assert.equal(v.contradiction?.rule, 'pic-coalesced-iff-irr-pending')
  assert.equal(v.contradiction!.line, m.line)
})

test('mutation: the EOI acks IRQ 3, but the only in-service IRQ was 0 (pic_clear_isr runs the notifier of the bit it clears) → pic-ack-follows-isr-clear', () => {
  const m = mutate(hostText, 'kvm_ack_irq: irqchip PIC master pin 0', (l) => l.replace('pin 0', 'pin 3'))
  const v = validate(m.text)
  assert.equal(v.contradiction?.rule, 'pic-ack-follows-isr-clear')
  assert.equal(v.contradiction!.line, m.line)
})

test('mutation: the IOAPIC reports a rising edge of GSI 0 as coalesced (ioapic_set_irq: old IRR clear) → ioapic-edge-coalesced-iff-irr-set', () => {
  const m = mutate(hostText, 'kvm_ioapic_set_irq: pin 0', (l) => `${l} (coalesced)`)
  const v = validate(m.text)
  assert.equal(v.contradiction?.rule, 'ioapic-edge-coalesced-iff-irr-set')
  assert.equal(v.contradiction!.line, m.line)
})

test('public excerpts: 02 and 06 are explained (edge serial IRQs, no contradiction); 14 (names only) is unsupported', () => {
  assert.equal(validate(readFileSync(fixture('02-pic-noapic-serial-irq-perf.trace'), 'utf8')).verdict, 'explained')
  assert.equal(validate(readFileSync(fixture('06-microkvm-uart-gsi4-ioapic.trace'), 'utf8')).verdict, 'explained')
})

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))
test('virq replay: exit 0 explained, 1 not explained with file:line and rule, 2 for a malformed line naming file:line, unsupported for names only', () => {
  const ok = spawnSync(process.execPath, [cli, 'replay', fixture('host-pic-edge-2-interrupts.trace')], { encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /EXPLAINED/)
  const dir = mkdtempSync(join(tmpdir(), 'virq-'))
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => l.replace('(edge)', '(level)'))
  writeFileSync(join(dir, 'bad.trace'), m.text)
  const bad = spawnSync(process.execPath, [cli, 'replay', join(dir, 'bad.trace')], { encoding: 'utf8' })
  assert.equal(bad.status, 1)
  assert.match(bad.stdout, new RegExp(`bad\\.trace:${m.line}: pic-trigger-matches-elcr`))
  const broken = mutate(hostText, 'kvm_set_irq: gsi 0 level 1', (l) => l.replace('gsi 0 level 1 source 0', 'gsi zero level'))
  writeFileSync(join(dir, 'broken.trace'), broken.text)
  const br = spawnSync(process.execPath, [cli, 'replay', join(dir, 'broken.trace')], { encoding: 'utf8' })
  assert.equal(br.status, 2)
  assert.match(br.stderr, new RegExp(`broken\\.trace:${broken.line}`))
  assert.doesNotMatch(br.stderr, /at .*\.js:\d+/)
  const names = spawnSync(process.execPath, [cli, 'replay', fixture('14-arm64-vtimer-wfx-vgic-event-names-only.trace')], { encoding: 'utf8' })
  assert.equal(names.status, 0)
  assert.match(names.stdout, /UNSUPPORTED/)
  const missing = spawnSync(process.execPath, [cli, 'replay', join(dir, 'nope.trace')], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
})
