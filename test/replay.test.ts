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
  assert.equal(v.verdict, 'conforms')
  for (const rule of ['pic-trigger-matches-elcr', 'pic-mask-matches-imr', 'pic-coalesced-iff-irr-pending', 'pic-ack-follows-isr-clear', 'ioapic-edge-coalesced-iff-irr-set'])
    assert.ok((v.rulesChecked[rule] ?? 0) > 0, `${rule} never checked`)
})

test('mutation: pin 0 reported level although the guest wrote ELCR = 0 (port 0x4d0) → pic-trigger-matches-elcr', () => {
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => l.replace('(edge)', '(level)'))
  const v = validate(m.text)
  assert.equal(v.verdict, 'diverges')
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

test('public excerpts: 02 and 06 conform (edge serial IRQs, no contradiction); 14 (names only) has nothing to check', () => {
  assert.equal(validate(readFileSync(fixture('02-pic-noapic-serial-irq-perf.trace'), 'utf8')).verdict, 'conforms')
  assert.equal(validate(readFileSync(fixture('06-microkvm-uart-gsi4-ioapic.trace'), 'utf8')).verdict, 'conforms')
})

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))
test('virq replay: exit 0 conforms, 1 diverges with file:line and rule, 2 for a malformed line naming file:line, 3 nothing to check for names only', () => {
  const ok = spawnSync(process.execPath, [cli, 'replay', fixture('host-pic-edge-2-interrupts.trace')], { encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /CONFORMS/)
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
  assert.equal(names.status, 3)
  assert.match(names.stdout, /NOTHING-TO-CHECK/)
  const missing = spawnSync(process.execPath, [cli, 'replay', join(dir, 'nope.trace')], { encoding: 'utf8' })
  assert.equal(missing.status, 2)
})

// virq's JSONL: each ftrace record becomes {"event","fields","ts","cpu","pid","task"}. The conversion here is written
// independently of the parser (a regex over the ftrace line layout of the host capture).
const toJsonl = (text: string): { jsonl: string; lineOf: Map<number, number> } => {
  const out: string[] = []
  const lineOf = new Map<number, number>()
  text.split('\n').forEach((l, i) => {
    const m = /^\s*(.+)-(\d+)\s+\[(\d+)\]\s+(?:\S+\s+)?(\d+\.\d+):\s+(?:kvm:)?(\w+):\s?(.*)$/.exec(l)
    if (!m) return
    out.push(JSON.stringify({ event: m[5], fields: m[6], ts: Number(m[4]), cpu: Number(m[3]), pid: Number(m[2]), task: m[1]!.trim() }))
    lineOf.set(i + 1, out.length)
  })
  return { jsonl: out.join('\n') + '\n', lineOf }
}

const virq = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

test('JSONL: the host capture as virq JSONL conforms like its ftrace text; a mutation diverges at the same event; bad JSON is exit 2 with file:line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'virq-jsonl-'))
  const { jsonl, lineOf } = toJsonl(hostText)
  const file = join(dir, 'host.jsonl')
  writeFileSync(file, jsonl)
  const ft = JSON.parse(virq('replay', '--json', fixture('host-pic-edge-2-interrupts.trace')).stdout)
  const r = virq('replay', '--json', file)
  assert.equal(r.status, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.deepEqual([j.format, j.result], ['jsonl', 'conforms'])
  assert.equal(j.observationsUsed, ft.observationsUsed, 'the same observations as the ftrace text')
  assert.deepEqual(j.rulesChecked, ft.rulesChecked)
  // The ELCR mutation of the ftrace test, applied to the JSONL: diverges at that record's JSONL line.
  const m = mutate(hostText, 'kvm_pic_set_irq: chip 0 pin 0 (edge)', (l) => l.replace('(edge)', '(level)'))
  const mj = toJsonl(m.text)
  writeFileSync(join(dir, 'bad.jsonl'), mj.jsonl)
  const bad = virq('replay', '--json', join(dir, 'bad.jsonl'))
  assert.equal(bad.status, 1)
  const bj = JSON.parse(bad.stdout)
  assert.equal(bj.result, 'diverges')
  assert.equal(bj.line, mj.lineOf.get(m.line))
  assert.match(bj.reason, /^pic-trigger-matches-elcr/)
  // Not JSON on line 3: exit 2 naming the file and line, no stack trace.
  const lines = jsonl.split('\n')
  lines[2] = '{"event": "kvm_set_irq", "fields": '
  writeFileSync(join(dir, 'broken.jsonl'), lines.join('\n'))
  const br = virq('replay', join(dir, 'broken.jsonl'))
  assert.equal(br.status, 2)
  assert.match(br.stderr, /broken\.jsonl:3: HVT020/)
  assert.doesNotMatch(br.stderr, /at .*\.js:\d+/)
  // A known event whose fields do not parse: exit 2 by default; --lenient skips and counts it.
  lines[2] = JSON.stringify({ event: 'kvm_set_irq', fields: 'gsi zero level' })
  writeFileSync(join(dir, 'malformed.jsonl'), lines.join('\n'))
  assert.equal(virq('replay', join(dir, 'malformed.jsonl')).status, 2)
  const len = virq('replay', '--lenient', '--json', join(dir, 'malformed.jsonl'))
  assert.equal(JSON.parse(len.stdout).skippedMalformed, 1)
  assert.equal(virq('replay', '--format', 'xml', file).status, 2)
})

test('ITF: a counterexample written by virq check --itf replays as conforming; a tampered state diverges at its line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'virq-itf-'))
  const itfFile = join(dir, 'cex.itf.json')
  const c = virq('check', 'split-irqchip', '--bug', 'naive-ready', '--itf', itfFile)
  assert.equal(c.status, 1, c.stderr)
  const r = virq('replay', '--json', itfFile)
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const j = JSON.parse(r.stdout)
  assert.deepEqual([j.format, j.result], ['itf', 'conforms'])
  const doc = JSON.parse(readFileSync(itfFile, 'utf8'))
  assert.equal(j.eventsRead, doc.states.length - 1)
  // The same trace does not conform to the fixed kernel, which never reports ready=1 with LVT0 masked.
  const fixed = structuredClone(doc)
  delete fixed['#meta'].bug
  writeFileSync(join(dir, 'fixed.itf.json'), JSON.stringify(fixed, null, 1))
  const f = virq('replay', '--json', join(dir, 'fixed.itf.json'))
  assert.equal(f.status, 1)
  assert.match(JSON.parse(f.stdout).reason, new RegExp(`^state ${doc.states.length - 1}: the state after KvmRun`))
  // A tampered last state diverges at the line where that state starts.
  doc.states[doc.states.length - 1].state.vcpus.items[0].ready = !doc.states[doc.states.length - 1].state.vcpus.items[0].ready
  const text = JSON.stringify(doc, null, 1)
  writeFileSync(join(dir, 'tampered.itf.json'), text)
  const t = virq('replay', '--json', join(dir, 'tampered.itf.json'))
  assert.equal(t.status, 1)
  const tj = JSON.parse(t.stdout)
  assert.equal(tj.result, 'diverges')
  const last = doc.states.length - 1
  const expectLine = text.split('\n').findIndex((l) => new RegExp(`"index": ${last}\\b`).test(l)) + 1
  assert.equal(tj.line, expectLine)
  assert.match(tj.reason, new RegExp(`^state ${last}: `))
})

test('mutation: the self IPI of excerpt 01 accepted with another vector (kvm_apic_send_ipi delivers the ICR vector) → ipi-accepted-at-destination', () => {
  const text = readFileSync(fixture('01-svm-idle-hlt-self-ipi.trace'), 'utf8')
  assert.equal(validate(text).verdict, 'conforms')
  assert.equal(validate(text).rulesChecked['ipi-accepted-at-destination'], 2)
  const m = mutate(text, 'kvm_apic_accept_irq: apicid 0 vec 176', (l) => l.replace('vec 176', 'vec 177'))
  const v = validate(m.text)
  assert.deepEqual([v.verdict, v.contradiction?.rule, v.contradiction?.line], ['diverges', 'ipi-accepted-at-destination', m.line])
})

test('mutation: excerpt 09 MSI to APIC 0 accepted by APIC 1 (kvm_set_msi → physical destination) → msi-accepted-at-destination', () => {
  const text = readFileSync(fixture('09-vmx-nested-hyperv-level-irq-eoi-reinjection-loop.trace'), 'utf8')
  assert.equal(validate(text).verdict, 'conforms')
  const m = mutate(text, 'kvm_apic_accept_irq:  apicid 0 vec 96', (l) => l.replace('apicid 0', 'apicid 1'))
  const v = validate(m.text)
  assert.deepEqual([v.verdict, v.contradiction?.rule, v.contradiction?.line], ['diverges', 'msi-accepted-at-destination', m.line])
  // Not a contradiction: an MSI whose next event is not an accept (the destination APIC may be disabled).
  const gone = text.split('\n').filter((l) => !l.includes('kvm_apic_accept_irq:  apicid 0 vec 96')).join('\n')
  assert.equal(validate(gone).verdict, 'conforms')
})

// A level-triggered IOAPIC pin, as ioapic.c prints it (formats of ../shared/traces/host/FORMATS-kvm-pvm-6.18.md):
// delivered (accept before the ioapic line), lowered, raised again while remote IRR is set (coalesced), EOI + ack.
// GSI 10 is routed to the IOAPIC only here (as a VMM may route it), and every kvm_set_irq traces its IOAPIC set.
const LEVEL = [
  ' CPU 0/KVM-100 [000] ..... 1.000001: kvm_set_irq: gsi 10 level 1 source 0',
  ' CPU 0/KVM-100 [000] ..... 1.000002: kvm_apic_accept_irq: apicid 0 vec 81 (Fixed|level)',
  ' CPU 0/KVM-100 [000] ..... 1.000003: kvm_ioapic_set_irq: pin 10 dst 0 vec 81 (Fixed|physical|level)',
  ' CPU 0/KVM-100 [000] ..... 1.000004: kvm_set_irq: gsi 10 level 0 source 0',
  ' CPU 0/KVM-100 [000] ..... 1.000004: kvm_ioapic_set_irq: pin 10 dst 0 vec 81 (Fixed|physical|level)',
  ' CPU 0/KVM-100 [000] ..... 1.000005: kvm_set_irq: gsi 10 level 1 source 0',
  ' CPU 0/KVM-100 [000] ..... 1.000006: kvm_ioapic_set_irq: pin 10 dst 0 vec 81 (Fixed|physical|level) (coalesced)',
  ' CPU 0/KVM-100 [000] ..... 1.000007: kvm_eoi: apicid 0 vector 81',
  ' CPU 0/KVM-100 [000] ..... 1.000008: kvm_ack_irq: irqchip IOAPIC pin 10',
  ' CPU 0/KVM-100 [000] ..... 1.000009: kvm_set_irq: gsi 10 level 0 source 0',
  ' CPU 0/KVM-100 [000] ..... 1.000009: kvm_ioapic_set_irq: pin 10 dst 0 vec 81 (Fixed|physical|level)',
  ' CPU 0/KVM-100 [000] ..... 1.000010: kvm_set_irq: gsi 10 level 1 source 0',
  ' CPU 0/KVM-100 [000] ..... 1.000011: kvm_apic_accept_irq: apicid 0 vec 81 (Fixed|level)',
  ' CPU 0/KVM-100 [000] ..... 1.000012: kvm_ioapic_set_irq: pin 10 dst 0 vec 81 (Fixed|physical|level)',
].join('\n') + '\n'

test('IOAPIC level pin: a second assert before the EOI is not delivered (remote IRR), printed coalesced (before 7d2253684dd1) or not (since); after the ack it may be delivered', () => {
  const v = validate(LEVEL)
  assert.equal(v.verdict, 'conforms', JSON.stringify(v.contradiction))
  assert.equal(v.rulesChecked['ioapic-level-not-redelivered-while-remote-irr'], 1)
  // Kernels since 7d2253684dd1 print the refused assert without (coalesced): still no delivery, so it conforms.
  const modern = mutate(LEVEL, '(Fixed|physical|level) (coalesced)', (l) => l.replace(' (coalesced)', ''))
  assert.equal(validate(modern.text).verdict, 'conforms')
  // A delivery (an accept of vector 81 inside that fan-out, line 7) while remote IRR is set is impossible on any kernel.
  const lines = LEVEL.split('\n')
  const k = lines.findIndex((l) => l.includes('(coalesced)'))
  const again = [...lines.slice(0, k), lines[1]!, lines[k]!.replace(' (coalesced)', ''), ...lines.slice(k + 1)].join('\n')
  const bad = validate(again)
  assert.deepEqual([bad.verdict, bad.contradiction?.rule, bad.contradiction?.line], ['diverges', 'ioapic-level-not-redelivered-while-remote-irr', 8])
  // Removing the ack (line 9) leaves remote IRR set, so the delivery on line 14 (13 once the ack is gone) becomes impossible.
  const noAck = LEVEL.split('\n').filter((l) => !l.includes('kvm_ack_irq')).join('\n')
  const na = validate(noAck)
  assert.deepEqual([na.verdict, na.contradiction?.rule, na.contradiction?.line], ['diverges', 'ioapic-level-not-redelivered-while-remote-irr', 13])
})

test('routing fan-out: a kvm_set_irq whose kvm_ioapic_set_irq or kvm_pic_set_irq is missing, duplicated or names another pin diverges there', () => {
  // host capture: GSI 0 traces kvm_ioapic_set_irq pin 0 then kvm_pic_set_irq chip 0 pin 0 (irq_comm.c kvm_set_irq walks the routes).
  const lines = hostText.split('\n')
  const pics = lines.flatMap((l, k) => (l.includes('kvm_pic_set_irq: chip 0 pin 0 (edge)') ? [k] : []))
  const i = pics[1]!
  const removed = [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n')
  const r = validate(removed)
  // The fan-out is per thread: the contradiction is the next event of the same thread (pid 22388), reached without the PIC set.
  const rl = removed.split('\n')
  const nextSame = rl.findIndex((l, k) => k >= i && /-22388 /.test(l) && /: kvm_/.test(l)) + 1
  assert.deepEqual([r.verdict, r.contradiction?.rule, r.contradiction?.line], ['diverges', 'set-irq-fans-out-as-routed', nextSame])
  // Removing it from the FIRST fan-out of GSI 0 is possible (a routing without the PIC) until the second
  // fan-out shows the PIC after all: rejected there, at the first event that contradicts the learned routing.
  const first = [...lines.slice(0, pics[0]!), ...lines.slice(pics[0]! + 1)].join('\n')
  const f = validate(first)
  assert.deepEqual([f.verdict, f.contradiction?.rule, f.contradiction?.line], ['diverges', 'set-irq-fans-out-as-routed', pics[1]!])
  const other = mutate(hostText, 'kvm_ioapic_set_irq: pin 0 dst 0', (l) => l.replace('pin 0 dst', 'pin 3 dst'), 1)
  const o = validate(other.text)
  assert.deepEqual([o.verdict, o.contradiction?.rule, o.contradiction?.line], ['diverges', 'set-irq-fans-out-as-routed', other.line])
  // A blank line between records marks a joined excerpt: the routing learned before it is forgotten.
  const joined = [...lines.slice(0, i + 1), '', ...lines.slice(i + 1)].join('\n')
  assert.equal(validate(joined).verdict, 'conforms')
})
