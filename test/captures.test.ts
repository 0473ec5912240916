// Real KVM captures recorded by the capture harness (native/virq-vmm; test/fixtures/captures/README.md
// says where and how). Every one must conform, and what the guest program did must be visible in it:
// the expected counts below come from native/guest.S (how many interrupts each scenario takes), not
// from the validator's output. Mutations of each make one event impossible and must be rejected there.
// The last test re-records a scenario where /dev/kvm exists and skips, saying why, where it does not.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { FtraceParser, parseFtraceText } from '../traces/ftrace.js'
import { fullyObservedFromHeader, Validator, type Verdict } from '../traces/validate.js'
import { captureUnavailable } from '../cli/capture.js'

const dir = fileURLToPath(new URL('../../test/fixtures/captures/', import.meta.url))
const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url))
const read = (name: string): string => readFileSync(join(dir, name), 'utf8')

const validate = (text: string): Verdict => {
  const fo = fullyObservedFromHeader(text.slice(0, 4096))
  const v = new Validator('capture', fo ? { fullyObserved: fo } : {})
  const p = new FtraceParser({ file: 'capture', onUnknown: (e, l) => v.unknownEvent(e, l) }, (o) => v.observe(o))
  p.pushText(text)
  const r = p.end()
  assert.equal(r.error, undefined, JSON.stringify(r.error))
  return v.end(r.summary.linesRead)
}
const count = (text: string, re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length

/** Interrupts each guest takes (native/guest.S), per vCPU thread name. */
const INJECTIONS: Record<string, Record<string, number>> = {
  'pic-edge.trace': { 'CPU 0/KVM': 3 },
  'pic-level.trace': { 'CPU 0/KVM': 3 }, // 1 service, then 2 (the line stays high across one EOI)
  'split-irqchip.trace': { 'CPU 0/KVM': 3 },
  'ioapic-level.trace': { 'CPU 0/KVM': 3 },
  'msi.trace': { 'CPU 0/KVM': 3 },
  // 3 round trips, a self IPI, an all-but-self IPI that the AP answers: BSP 3 + 1 + 1, AP 3 + 1
  'ipi.trace': { 'CPU 0/KVM': 5, 'CPU 1/KVM': 4 },
  'irqfd-resample.trace': { 'CPU 0/KVM': 3 },
}

const files = readdirSync(dir).filter((f) => f.endsWith('.trace')).sort()

test('every committed capture conforms, checks at least one rule, and records its kernel and event formats', () => {
  assert.ok(files.length >= 8, `captures: ${files.join(', ')}`)
  for (const f of files) {
    const text = read(f)
    const v = validate(text)
    assert.equal(v.verdict, 'conforms', `${f}: ${JSON.stringify(v.contradiction)}`)
    assert.ok(Object.values(v.rulesChecked).reduce((a, b) => a + b, 0) > 0, `${f}: no rule checked`)
    assert.match(text, /^# virq capture: kernel Linux \S+ x86_64; vendor module kvm_\w+/m, f)
    assert.match(text, /^# format: name: kvm_set_irq$/m, f)
  }
})

test('each capture shows the injections its guest program takes, on the right vCPU', () => {
  for (const [f, perVcpu] of Object.entries(INJECTIONS)) {
    const text = read(f)
    for (const [task, n] of Object.entries(perVcpu))
      // first injections only: on SVM an injection cancelled by a late exit is traced again with
      // `[reinjected]` (svm.c svm_complete_interrupts → kvm_queue_interrupt(…, false) → reinjection)
      assert.equal(count(text, new RegExp(`^\\s*${task.replace('/', '\\/')}-\\d+ .*kvm_inj_virq: IRQ 0x[0-9a-f]+$`)), n, `${f} ${task}`)
  }
})

test('split irqchip capture: three KVM_INTERRUPT ioctls, each consumed by one injection; without one, the injection is impossible', () => {
  const text = read('split-irqchip.trace')
  assert.equal(count(text, /sys_ioctl\(fd: \d+, cmd: 4004ae86,/), 3) // KVM_INTERRUPT = _IOW(0xae, 0x86, 4)
  assert.match(text, /kvm_userspace_exit: reason KVM_EXIT_IRQ_WINDOW_OPEN \(7\)/) // the first request waits for the window
  const v = validate(text)
  assert.equal(v.rulesChecked['split-extint-injected-after-kvm-interrupt'], 3)
  const lines = text.split('\n')
  const ioctls = lines.flatMap((l, i) => (/cmd: 4004ae86,/.test(l) ? [i] : []))
  const cut = [...lines.slice(0, ioctls[1]!), ...lines.slice(ioctls[1]! + 1)]
  const secondInj = cut.findIndex((l, i) => i > ioctls[1]! - 1 && l.includes('kvm_inj_virq'))
  const bad = validate(cut.join('\n'))
  assert.deepEqual([bad.verdict, bad.contradiction?.rule, bad.contradiction?.line], ['diverges', 'split-extint-injected-after-kvm-interrupt', secondInj + 1])
})

test('PIC level capture: the slave EOI acks IRQ 10 (pic_clear_isr prints the IRQ number); an ack of IRQ 11 is impossible', () => {
  const text = read('pic-level.trace')
  const lines = text.split('\n')
  const i = lines.findIndex((l) => l.includes('kvm_ack_irq: irqchip PIC slave pin 10'))
  assert.ok(i >= 0)
  lines[i] = lines[i]!.replace('pin 10', 'pin 11')
  const bad = validate(lines.join('\n'))
  // Either rule says it: the ack must name an IRQ the write cleared (pic-ack-follows-isr-clear), and in this
  // fully observed capture the write clears IRQ 10 in every possible PIC state (pic-isr-clear-traces-ack).
  assert.equal(bad.verdict, 'diverges')
  assert.ok(['pic-ack-follows-isr-clear', 'pic-isr-clear-traces-ack'].includes(bad.contradiction!.rule), bad.contradiction!.rule)
  assert.equal(bad.contradiction?.line, i + 1)
})

test('irqfd race capture: a re-trigger while remote IRR is set is refused (not coalesced on 6.1); an accept there is impossible', () => {
  const text = read('irqfd-resample-retrigger-race.trace')
  const v = validate(text)
  assert.equal(v.rulesChecked['ioapic-level-not-redelivered-while-remote-irr'], 1)
  const lines = text.split('\n')
  // line 125: kworker/0's kvm_ioapic_set_irq for the second trigger, before the guest's EOI
  assert.match(lines[124]!, /kworker\/0:2-53 .*kvm_ioapic_set_irq: pin 11 dst 0 vec 69 \(Fixed\|physical\|level\)$/)
  const accept = lines[124]!.replace(/kvm_ioapic_set_irq: .*/, 'kvm_apic_accept_irq: apicid 0 vec 69 (Fixed|level)')
  const bad = validate([...lines.slice(0, 124), accept, ...lines.slice(124)].join('\n'))
  assert.deepEqual([bad.verdict, bad.contradiction?.rule, bad.contradiction?.line], ['diverges', 'ioapic-level-not-redelivered-while-remote-irr', 126])
})

test('IPI capture: a fixed physical IPI accepted by the wrong APIC is impossible', () => {
  const text = read('ipi.trace')
  const lines = text.split('\n')
  const i = lines.findIndex((l) => /kvm_apic_ipi: .*\(Fixed\|physical\|assert\|edge\|dst\)/.test(l))
  assert.ok(i >= 0)
  const j = lines.findIndex((l, k) => k > i && l.includes('kvm_apic_accept_irq'))
  lines[j] = lines[j]!.replace(/apicid (\d+)/, (_, a: string) => `apicid ${a === '0' ? 1 : 0}`)
  const bad = validate(lines.join('\n'))
  assert.deepEqual([bad.verdict, bad.contradiction?.rule, bad.contradiction?.line], ['diverges', 'ipi-accepted-at-destination', j + 1])
})

test('virq capture: records pic-edge on /dev/kvm and it conforms (skips where it cannot record, saying why)', (t) => {
  const why = captureUnavailable()
  const out = join(mkdtempSync(join(tmpdir(), 'virq-cap-')), 'pic-edge.trace')
  const r = spawnSync(process.execPath, [cli, 'capture', 'pic-edge', '-o', out], { encoding: 'utf8' })
  if (why) {
    // The command itself must refuse cleanly with exit 3 and the same reason.
    assert.equal(r.status, 3, r.stderr)
    assert.match(r.stderr, /cannot record here: /)
    t.skip(`cannot record a capture here: ${why}`)
    return
  }
  assert.equal(r.status, 0, r.stderr + r.stdout)
  assert.ok(existsSync(out))
  assert.match(r.stdout, /CONFORMS/)
  const text = readFileSync(out, 'utf8')
  // Backend-neutral evidence of the guest program (kvm_pvm traces no kvm_inj_virq or kvm_entry):
  // three pulses = six kvm_set_irq on GSI 0, and one non-specific EOI per interrupt = three acks of IRQ 0.
  assert.equal(count(text, /kvm_set_irq: gsi 0 level [01] source 0$/), 6)
  assert.equal(count(text, /kvm_ack_irq: irqchip PIC master pin 0$/), 3)
  assert.equal(validate(text).verdict, 'conforms')
})

/** `text` with physical line `n` (1-based) removed or replaced; the 1-based line of the next record of the same thread after it. */
const edit = (text: string, n: number, replacement?: string): string => {
  const lines = text.split('\n')
  return [...lines.slice(0, n - 1), ...(replacement === undefined ? [] : [replacement]), ...lines.slice(n)].join('\n')
}
const lineOf = (text: string, re: RegExp, nth = 0): number => text.split('\n').flatMap((l, i) => (re.test(l) ? [i + 1] : []))[nth]!
/** The 1-based line, in `text`, of the first record after line `n` on the same thread (task-pid) as line `n`. */
const nextOnThread = (text: string, n: number): number => {
  const lines = text.split('\n')
  const task = lines[n - 1]!.trim().split(/\s+\[\d+\]/)[0]!
  return n + 1 + lines.slice(n).findIndex((l) => l.trim().startsWith(task) && !l.startsWith('#'))
}

test('fully observed captures: removing an effect the kernel traces synchronously is rejected where it is missing', () => {
  // Each row: the capture, the record removed, the rule, and the kernel reason the next record of that
  // thread is impossible without it.
  const rows: Array<[file: string, re: RegExp, rule: string, why: string, span?: number]> = [
    // i8259.c pic_clear_isr → kvm_notify_acked_irq: the guest's non-specific EOI (OCW2 0x20) acks IRQ 0.
    ['pic-edge.trace', /kvm_ack_irq: irqchip PIC master pin 0/, 'pic-isr-clear-traces-ack', 'the EOI write clears IRQ 0 in service'],
    // lapic.c apic_set_eoi → kvm_ioapic_send_eoi → ioapic.c kvm_ioapic_update_eoi_one: the EOI of 64 acks pin 10.
    ['ioapic-level.trace', /kvm_ack_irq: irqchip IOAPIC pin 10/, 'eoi-acks-ioapic-pins', 'pin 10 (level, vector 64, destination 0)'],
    // eventfd.c irqfd_resampler_ack lowers the resample source on every ack of GSI 11.
    // (The whole fan-out removed: its kvm_set_irq and the IOAPIC and PIC sets it traces.)
    ['irqfd-resample.trace', /CPU 0\/KVM-\d+ .*kvm_set_irq: gsi 11 level 0 source 1/, 'ack-runs-resampler', 'the resampler on GSI 11', 3],
    // irq_comm.c: kvm_set_ioapic_irq runs only as a routing entry of kvm_set_irq, which traces first.
    ['irqfd-resample.trace', /CPU 0\/KVM-\d+ .*kvm_set_irq: gsi 11 level 0 source 1/, 'set-irq-fans-out-as-routed', 'the IOAPIC set of the resampler\'s kvm_set_irq'],
  ]
  for (const [f, re, rule, why, span = 1] of rows) {
    const text = read(f)
    const n = lineOf(text, re)
    let cut = text
    for (let i = 0; i < span; i++) cut = edit(cut, n)
    const next = nextOnThread(text, n + span - 1) - span // the lines removed are gone
    const v = validate(cut)
    assert.deepEqual([v.verdict, v.contradiction?.rule, v.contradiction?.line], ['diverges', rule, next], `${f} line ${n} (${why}): ${JSON.stringify(v.contradiction)}`)
  }
})

test('pic-edge capture: the injected vector is the one the 8259 hands out at INTA (irq_base 0x20 + IRQ 0), not another', () => {
  // x86.c kvm_cpu_get_interrupt → kvm_cpu_get_extint → i8259.c kvm_pic_read_irq: the only INTA, at injection.
  const text = read('pic-edge.trace')
  const n = lineOf(text, /kvm_inj_virq: IRQ 0x20$/)
  const v = validate(edit(text, n, text.split('\n')[n - 1]!.replace('IRQ 0x20', 'IRQ 0x21')))
  assert.deepEqual([v.verdict, v.contradiction?.rule, v.contradiction?.line], ['diverges', 'pic-inta-yields-vector', n], JSON.stringify(v.contradiction))
  assert.match(v.contradiction!.expected, /0x20/)
})
