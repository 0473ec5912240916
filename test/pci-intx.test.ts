// pci-intx: one interrupt from the device to the guest EOI, the lazy masking of 07700a94b00a, the fixed model's
// verdicts, and each bug variant with a counterexample derived by hand from its scenario.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { check, replayTrace } from '../checker/engine/explore.js'
import { buildPci, hostLine, pciParams, type PciEvent, type PciParams, type PciState, type PciVariant } from '../models/pci-intx.js'
import { buildModel, models } from '../models/registry.js'

const defaults = Object.fromEntries(pciParams.map((p) => [p.name, p.default])) as unknown as PciParams
const model = (variant: PciVariant = 'fixed', p: Partial<PciParams> = {}) => buildPci({ ...defaults, ...p }, variant)
const run = (spec: ReturnType<typeof model>, events: PciEvent[]): PciState[] => {
  const r = replayTrace(spec, { init: 0, events })
  assert.ok(r.ok, `event ${r.ok ? '' : r.step + 1} (${JSON.stringify(events[r.ok ? 0 : r.step])}) is not enabled`)
  return r.states
}
const E = (...tags: string[]): PciEvent[] => tags.map((t) => (t.startsWith('GuestMask') ? { _tag: 'GuestMask', masked: t.endsWith('1') } : { _tag: t }) as PciEvent)

test('one interrupt, device to EOI (legacy path): masked at the device by the hard IRQ, injected by the thread, unmasked by the ack notifier', () => {
  const st = run(model(), E('DevAssert', 'HostIrq', 'Thread', 'GuestTake', 'GuestService', 'GuestEoi', 'AckLower', 'AckUnmask', 'EoiFinish'))
  assert.equal(hostLine(st[1]!), true, 'PCI 2.3: a pending status with INTx enabled asserts the line')
  // pci_check_and_mask_intx: the status is pending, so INTX_DISABLE is set and the line drops.
  assert.deepEqual([st[2]!.cmdDisable, st[2]!.hostMasked, st[2]!.threadPending, hostLine(st[2]!)], [true, true, true, false])
  assert.deepEqual([st[3]!.bits, st[3]!.irr, st[3]!.remoteIrr, st[3]!.lapic], [2, true, true, true], 'kvm_set_irq(source, gsi, 1) delivers the level pin')
  assert.equal(st[5]!.status, false, 'the guest driver cleared the condition')
  assert.deepEqual([st[7]!.bits, st[7]!.irr, st[7]!.remoteIrr], [0, false, true], 'the notifier lowers the source while remote IRR is still set')
  // pci_check_and_unmask_intx: no status pending, so INTX_DISABLE is cleared and host_irq_disabled = false.
  assert.deepEqual([st[8]!.cmdDisable, st[8]!.hostMasked], [false, false])
  assert.deepEqual([st[9]!.remoteIrr, st[9]!.lapic], [false, false], 'nothing to redeliver')
})

test('reassert: a second interrupt pending at the EOI keeps the device masked, re-raises the line, and EoiFinish redelivers it', () => {
  const st = run(model(), E('DevAssert', 'HostIrq', 'Thread', 'GuestTake', 'GuestService', 'DevAssert', 'GuestEoi', 'AckLower', 'AckUnmask', 'EoiFinish'))
  const unmask = st[9]!
  assert.deepEqual([unmask.cmdDisable, unmask.hostMasked, unmask.bits, unmask.irr], [true, true, 2, true], 'pci_check_and_unmask_intx declines; reassert')
  assert.deepEqual([st[10]!.remoteIrr, st[10]!.lapic], [true, true], '__kvm_ioapic_update_eoi re-services the still-high pin')
})

test('lazy masking: an interrupt while the guest has INTx masked is masked at the device and not injected; the VMM unmask lets it through', () => {
  const spec = model()
  const st = run(spec, E('GuestMask1', 'VmmSetIntxMask', 'VmmWriteCommand', 'GuestMask0', 'VmmSetIntxMask', 'DevAssert'))
  // The guest masked: the VMM wrote INTX_DISABLE physically, so the device does not assert the line...
  assert.equal(st[3]!.cmdDisable, true)
  assert.equal(st[5]!.maskIntx, false)
  assert.equal(hostLine(st[6]!), false, 'INTX_DISABLE still set physically: the pending status does not assert L')
  assert.ok(!spec.enabled(st[6]!).some((e) => e._tag === 'HostIrq'))
  // ...until the unmask's physical COMMAND write, after which the interrupt is taken and injected.
  const on = run(spec, E('GuestMask1', 'VmmSetIntxMask', 'VmmWriteCommand', 'GuestMask0', 'VmmSetIntxMask', 'DevAssert', 'VmmWriteCommand', 'HostIrq', 'Thread'))
  assert.deepEqual([on[9]!.bits, on[9]!.lapic], [2, true])
  const st2 = run(spec, E('GuestMask1', 'VmmSetIntxMask', 'DevAssert', 'HostIrq', 'Thread'))
  // Masked in the kernel but not yet at the device: the interrupt arrives, the hard IRQ masks it, the thread suppresses the raise.
  assert.deepEqual([st2[4]!.hostMasked, st2[4]!.cmdDisable, st2[5]!.bits], [true, true, 0])
  assert.ok(spec.properties.find((p) => p.name === 'unintended-interrupt-suppressed')!.holds(st2[5]!))
})

test('the fixed model holds exhaustively at the defaults and at larger bounds, both paths', async () => {
  for (const p of [{}, { dev: 3, mask: 2 }, { other: 2, emu: 2 }, { path: 1, mask: 0 }] as Partial<PciParams>[]) {
    const r = await check(model('fixed', p), { stopOnViolation: false })
    assert.equal(r.status, 'ok', `${JSON.stringify(p)}: ${r.violations.map((v) => v.property).join(', ')}`)
    assert.ok(r.eventually.every((x) => x.checked))
    if (!p.path) assert.ok(r.sometimes.every((x) => x.reached), JSON.stringify(r.sometimes))
  }
})

// Hand-derived shortest counterexamples:
// - set-mask-tests-ioctl-flags, balanced-irq-enable: host_irq_disabled must be true (DevAssert, HostIrq: 2) when the
//   guest's unmask reaches the ioctl, which needs a mask first; the VMM finishes each config write (two operations)
//   before the guest writes again: GuestMask, VmmSetIntxMask, VmmWriteCommand, GuestMask, VmmSetIntxMask (5): 7.
// - pre-1a577b72475d, ioapic-level-is-or-of-sources: one source lowers while another raises, the lower reading the
//   bitmap's OR before the raise sets its bit and applying it last. The cheapest lowering is the guest's mask
//   (GuestMask, VmmSetIntxMask: 2), the cheapest raise the emulated device (EmuRaise: 1), then the two applies: 5.
// - path=1 (VFIO), no-injection-while-guest-masked: a first interrupt delivered (DevAssert, HostIrq, Thread: 3) and
//   handled up to its EOI (GuestTake, GuestService, GuestEoi: 3) with a second one raised after the service (1); the
//   resampler lowers and the unmask handler finds it pending (AckLower, AckUnmask: 2) and re-signals the trigger,
//   which raises the level again under remote IRR (Thread: 1); the guest masks through VFIO (2); the IOAPIC's EOI
//   finish sees IRR and redelivers (1): 13.
for (const [variant, property, length, p] of [
  ['set-mask-tests-ioctl-flags', 'balanced-irq-enable', 7, {}],
  ['pre-1a577b72475d', 'ioapic-level-is-or-of-sources', 5, {}],
  ['fixed', 'no-injection-while-guest-masked', 13, { path: 1 }],
] as [PciVariant, string, number, Partial<PciParams>][]) {
  test(`${variant}${p.path ? ' (VFIO path)' : ''} violates ${property} in ${length} events, and the counterexample replays`, async () => {
    const spec = model(variant, p)
    const r = await check(spec, { stopOnViolation: false })
    const v = r.violations.find((x) => x.property === property)
    assert.ok(v, `not violated: ${r.violations.map((x) => x.property)}`)
    assert.equal(v.trace.events.length, length)
    const re = replayTrace(spec, v.trace)
    assert.ok(re.ok)
    const last = re.states[re.states.length - 1]!
    const sp = spec.properties.find((x) => x.name === property)
    if (sp) assert.equal(sp.holds(last), false)
    else assert.equal(spec.stepProperties!.find((x) => x.name === property)!.holdsStep(re.states[re.states.length - 2]!, v.trace.events[length - 1]!, last), false)
  })
}

test('vmm-command-before-set-mask strands an interrupt: it ends with the device pending, masked at the device, unmasked for the guest, and nothing enabled', async () => {
  const spec = model('vmm-command-before-set-mask')
  const r = await check(spec, { stopOnViolation: false })
  const v = r.violations.find((x) => x.property === 'interrupts-eventually-serviced')
  assert.ok(v)
  assert.equal(v.trace.loopStart, undefined, 'a dead end, not a cycle')
  const re = replayTrace(spec, v.trace)
  assert.ok(re.ok)
  const end = re.states[re.states.length - 1]!
  assert.deepEqual([end.status, end.cmdDisable, end.hostMasked, end.maskIntx, end.guestMasked, end.bits & 2], [true, true, true, false, false, 0])
  assert.equal(spec.enabled(end).length, 0)
  // The same interleaving with api.txt's order (set-mask first) is not stranded: the fixed model holds.
  assert.equal((await check(model('fixed'))).status, 'ok')
})

test('check-all expectations: each pci-intx bug variant violates exactly the listed properties', async () => {
  const m = models.find((x) => x.id === 'pci-intx')!
  assert.deepEqual(m.bugs.map((b) => b.id).sort(), Object.keys(m.expectedViolations!).sort())
  for (const b of m.bugs) {
    const { spec } = buildModel('pci-intx', {}, b.id)
    const r = await check(spec, { stopOnViolation: false })
    assert.deepEqual(r.violations.map((x) => x.property).sort(), [...m.expectedViolations![b.id]!].sort(), b.id)
  }
})
