/**
 * Model `pci-intx`: host IRQ sharing for an assigned PCI 2.3 device, torvalds/linux 07700a94b00a "KVM: Allow
 * host IRQ sharing for assigned PCI 2.3 devices" (Jan Kiszka, v3.4; code as in virt/kvm/assigned-dev.c v3.6,
 * arch/x86/kvm/assigned-dev.c v4.x), and its successor, VFIO INTx through an irqfd with a resamplefd
 * (drivers/vfio/pci/vfio_pci_intrs.c, virt/kvm/eventfd.c). Spec: ../shared/spec/x86-split-irqchip-intx-ipiv.md §3.
 *
 * One interrupt, device to EOI (legacy path, `--param path=0`):
 *  1. `DevAssert`: the device sets PCI_STATUS.INTERRUPT; INTx-disable is clear, so it asserts host line L,
 *     which it shares with another host device.
 *  2. `HostIrq`: the hard IRQ runs every handler on L. Ours, kvm_assigned_dev_intx, under intx_lock:
 *     pci_check_and_mask_intx sees the status bit, sets PCI_COMMAND.INTX_DISABLE (L drops), host_irq_disabled
 *     = true, IRQ_WAKE_THREAD. The other device's handler returns IRQ_NONE.
 *  3. `Thread`: kvm_assigned_dev_thread_intx → kvm_assigned_dev_raise_guest_irq: under intx_mask_lock, the guest
 *     has not masked INTx, so kvm_set_irq(source, GSI 10, 1): the IOAPIC's level pin rises, remote IRR is
 *     set and the vector reaches the LAPIC.
 *  4. `GuestTake`, 5. `GuestService` (the driver clears the device's condition through its BAR),
 *  6. `GuestEoi`: __kvm_ioapic_update_eoi drops the IOAPIC lock and runs the ack notifiers for GSI 10:
 *  7. `AckLower`: kvm_assigned_dev_ack_irq: kvm_set_irq(source, 10, 0);
 *  8. `AckUnmask`: under intx_mask_lock and intx_lock, host_irq_disabled: pci_check_and_unmask_intx finds no
 *     pending status and clears INTX_DISABLE; host_irq_disabled = false.
 *  9. `EoiFinish`: the IOAPIC clears remote IRR; the pin is low, so nothing is redelivered.
 * Had the device still been pending at 8, the unmask would have declined, and the notifier re-raised the guest
 * line (reassert); 9 then redelivers it.
 *
 * The guest's mask: the guest writes PCI_COMMAND.INTX_DISABLE in its virtual config space (`GuestMask`); the
 * VMM first calls KVM_ASSIGN_SET_INTX_MASK with the new state (`VmmSetIntxMask`), then writes the physical
 * COMMAND register with the guest-intended bit (`VmmWriteCommand`), in the order Documentation/virtual/kvm/api.txt
 * prescribes. Masking lowers the guest line at once and masks at the device lazily, when an interrupt
 * arrives ("Masking at hardware-level is performed on demand").
 *
 * Other actors: an emulated device of the VMM shares the guest GSI (KVM_IRQ_LINE, source 0): it is what makes
 * the GSI multi-source (1a577b72475d). The other host device shares L and is serviced by its own handler.
 *
 * VFIO path (`--param path=1`): vfio_intx_handler, under irqlock: if not masked and pci_check_and_mask_intx,
 * masked = true and the trigger eventfd is signalled; KVM's irqfd raises the GSI with the irqfd's resample
 * source. The resampler's ack notifier lowers that source and signals the resamplefd; VFIO's unmask handler
 * (vfio_pci_intx_unmask_handler) clears `masked` and runs pci_check_and_unmask_intx; if the device is still
 * pending it re-signals the trigger. The guest's mask goes through VFIO (VFIO_IRQ_SET_ACTION_MASK/UNMASK, or
 * config-space emulation): mask = pci_intx(0) at the device and masked = true, "we always want to mask";
 * unmask = the unmask handler.
 *
 * Abstractions: one vCPU whose LAPIC holds the GSI's vector (the guest takes it when it can; IF is not
 * modelled here, x86-irqchip and split-irqchip cover it); the host line is level-triggered and its hard IRQ
 * runs all shared handlers atomically (they run under the line's descriptor lock); each kernel function runs
 * atomically where it holds a lock the others need, and is split where the kernel drops one (the ack notifier's
 * kvm_set_irq runs outside intx_mask_lock; the IOAPIC lock is dropped around the notifiers).
 *
 * Default bounds and why: the device raises 2 interrupts (the second can arrive while the first is in service:
 * the reassert path), the other host device 1 (the shared line), the emulated device 1 (a second source on the
 * GSI), one guest mask/unmask pair (the lazy masking, and the unmask path of the spec's open question).
 */
import type { Hashed } from '../model/core/hash.js'
import { recordType } from '../model/core/Record.js'
import type { ModelSpec } from '../checker/ModelSpec.js'
import type { StateProperty, StepProperty } from '../invariants/Property.js'

/** Guest-GSI sources (bits of irq_states[gsi]): the VMM's emulated device and the assigned device (or its irqfd). */
const EMU = 1, OURS = 2

interface PciFields {
  // the assigned PCI function
  /** PCI_STATUS.INTERRUPT: the device has an interrupt condition. */
  readonly status: boolean
  /** PCI_COMMAND.INTX_DISABLE, the device-level mask. */
  readonly cmdDisable: boolean
  // kernel, assigned device (legacy) or VFIO context
  /** host_irq_disabled (legacy) / ctx->masked (VFIO): the kernel masked the device for this interrupt. */
  readonly hostMasked: boolean
  /** The threaded handler (legacy) or the irqfd injection (VFIO: the trigger eventfd was signalled) is pending. */
  readonly threadPending: boolean
  /** flags & KVM_DEV_ASSIGN_MASK_INTX: the guest's mask as the kernel knows it (VFIO: virq_disabled). */
  readonly maskIntx: boolean
  // host IRQ line L
  /** disable_irq depth of L (only enable_irq touches it on these paths). */
  readonly lineDepth: number
  /** genirq warned "Unbalanced enable for IRQ" (enable_irq at depth 0). */
  readonly unbalanced: boolean
  readonly otherAsserted: boolean
  // guest interrupt fabric: IOAPIC level pin for the GSI, and the vCPU
  /** irq_states[gsi]: the level of each source. */
  readonly bits: number
  readonly irr: boolean
  readonly remoteIrr: boolean
  /** The vector waits in the LAPIC. */
  readonly lapic: boolean
  /** '' idle; 'handling' in the handler; 'serviced' devices serviced, EOI next. */
  readonly handler: string
  /** The EOI in progress: '' none; 'lower'/'unmask' the ack notifier's two parts; 'finish' remote IRR next. */
  readonly eoi: string
  /** 1a577b72475d variant: per source, the level a kvm_set_irq computed outside the IOAPIC lock and has not applied yet (-1 none); 2 bits per source. */
  readonly inflight: number
  // the VMM's emulated device on the same GSI
  readonly emuPending: boolean
  /** The guest serviced it; the VMM lowers its line next. */
  readonly emuLower: boolean
  // the guest's view of INTx-disable and the VMM's pending config write
  readonly guestMasked: boolean
  /** '' none; 'set-mask' KVM_ASSIGN_SET_INTX_MASK next; 'write-cmd' the physical COMMAND write next (order per variant). */
  readonly vmmOp: string
  readonly vmmSecond: string
  // budgets
  readonly devLeft: number
  readonly otherLeft: number
  readonly emuLeft: number
  readonly maskLeft: number
}
export type PciState = PciFields & Hashed
const R = recordType<PciFields>('PciIntx', ['status', 'cmdDisable', 'hostMasked', 'threadPending', 'maskIntx', 'lineDepth', 'unbalanced', 'otherAsserted',
  'bits', 'irr', 'remoteIrr', 'lapic', 'handler', 'eoi', 'inflight', 'emuPending', 'emuLower', 'guestMasked', 'vmmOp', 'vmmSecond', 'devLeft', 'otherLeft', 'emuLeft', 'maskLeft'])

export type PciEvent =
  | { readonly _tag: 'DevAssert' }
  | { readonly _tag: 'OtherAssert' }
  | { readonly _tag: 'HostIrq' }
  | { readonly _tag: 'Thread' }
  | { readonly _tag: 'IoapicApply'; readonly source: number }
  | { readonly _tag: 'GuestTake' }
  | { readonly _tag: 'GuestService' }
  | { readonly _tag: 'GuestEoi' }
  | { readonly _tag: 'AckLower' }
  | { readonly _tag: 'AckUnmask' }
  | { readonly _tag: 'EoiFinish' }
  | { readonly _tag: 'EmuRaise' }
  | { readonly _tag: 'EmuLower' }
  | { readonly _tag: 'GuestMask'; readonly masked: boolean }
  | { readonly _tag: 'VmmSetIntxMask' }
  | { readonly _tag: 'VmmWriteCommand' }

export interface PciParams {
  readonly path: number
  readonly dev: number
  readonly other: number
  readonly emu: number
  readonly mask: number
}
export const pciParams = [
  { name: 'path', default: 0, min: 0, max: 1, description: '0 = legacy KVM device assignment (07700a94b00a), 1 = VFIO INTx through irqfd + resamplefd (the successor)' },
  { name: 'dev', default: 2, min: 0, max: 3, description: 'interrupts the assigned device raises' },
  { name: 'other', default: 1, min: 0, max: 2, description: 'interrupts of the other host device on the shared host line' },
  { name: 'emu', default: 1, min: 0, max: 2, description: "interrupts of the VMM's emulated device sharing the guest GSI (a second irq source)" },
  { name: 'mask', default: 1, min: 0, max: 2, description: 'INTx mask/unmask pairs the guest writes to its PCI_COMMAND' },
] as const

export type PciVariant = 'fixed' | 'pre-1a577b72475d' | 'set-mask-tests-ioctl-flags' | 'vmm-command-before-set-mask'

export const pciBugs = [
  {
    id: 'pre-1a577b72475d',
    commit: '1a577b72475d',
    description:
      'Before "KVM: fix race with level interrupts" (2012): kvm_set_irq updated the per-source bitmap and computed its OR (kvm_irq_line_state) ' +
      'outside the PIC/IOAPIC lock, then passed that level to kvm_ioapic_set_irq. "CPU 0 clears bit 0. CPU 0 read irq_state as 0. CPU 1 sets ' +
      'level to 1. CPU 1 calls kvm_ioapic_set_irq(1). CPU 0 calls kvm_ioapic_set_irq(0). Now ioapic thinks the level is 0 but irq_state is not ' +
      '0." The fix moved the bitmap into the irqchips (__kvm_irq_line_state under ioapic->lock). Here every kvm_set_irq is two steps: update ' +
      'the bitmap and read its OR, then apply it (IoapicApply).',
  },
  {
    id: 'set-mask-tests-ioctl-flags',
    commit: '07700a94b00a',
    description:
      'The code as 07700a94b00a wrote it (the spec\'s open question): kvm_vm_ioctl_set_pci_irq_mask\'s unmask branch tests the ioctl ' +
      'argument, "} else if (!(assigned_dev->flags & KVM_DEV_ASSIGN_PCI_2_3)) {", not the stored device (match->flags); a VMM that passes ' +
      'only MASK_INTX (QEMU: ".flags = masked ? KVM_DEV_ASSIGN_MASK_INTX : 0", as the spec reads it) takes the non-2.3 branch for a 2.3 ' +
      'device and calls enable_irq on a line nobody disabled. Both lines were read verbatim (kernel virt/kvm/assigned-dev.c; QEMU ' +
      'kvm_device_intx_set_mask). The fixed model tests match->flags; there is no upstream fix (legacy assignment was later removed).',
  },
  {
    id: 'vmm-command-before-set-mask',
    description:
      'No kernel commit: a VMM that writes the physical PCI_COMMAND before KVM_ASSIGN_SET_INTX_MASK, against api.txt ("userspace should ' +
      'precede updating the physical device command register by calling this ioctl"). An interrupt between the two is masked at the device ' +
      'and not injected, and the later unmask ioctl does nothing for a 2.3 device: the interrupt is stranded.',
  },
] as const

export const pciExpected: Record<string, ReadonlyArray<string>> = {
  // The stale IRR also redelivers the GSI after the guest masked it with no source high (a spurious injection).
  'pre-1a577b72475d': ['ioapic-level-is-or-of-sources', 'no-injection-while-guest-masked', 'interrupts-eventually-serviced'],
  'set-mask-tests-ioctl-flags': ['balanced-irq-enable'],
  'vmm-command-before-set-mask': ['interrupts-eventually-serviced'],
}

const inflightOf = (s: PciState, src: number): number => ((s.inflight >> (2 * src)) & 3) - 1
const setInflight = (x: number, src: number, v: number): number => (x & ~(3 << (2 * src))) | ((v + 1) << (2 * src))
/** The host line: the device asserts INTx while it has a condition and INTx is not disabled (PCI 2.3); the other device too. */
export const hostLine = (s: PciState): boolean => (s.status && !s.cmdDisable) || s.otherAsserted

export const buildPci = (p: PciParams, variant: PciVariant = 'fixed'): ModelSpec<PciState, PciEvent> => {
  const vfio = p.path === 1
  const split = variant === 'pre-1a577b72475d'
  const init = R.make({
    status: false, cmdDisable: false, hostMasked: false, threadPending: false, maskIntx: false, lineDepth: 0, unbalanced: false, otherAsserted: false,
    bits: 0, irr: false, remoteIrr: false, lapic: false, handler: '', eoi: '', inflight: setInflight(setInflight(0, 0, -1), 1, -1),
    emuPending: false, emuLower: false, guestMasked: false, vmmOp: '', vmmSecond: '', devLeft: p.dev, otherLeft: p.other, emuLeft: p.emu, maskLeft: 2 * p.mask,
  })
  const srcIdx = (bit: number): number => (bit === EMU ? 0 : 1)
  const free = (s: PciState, bit: number): boolean => inflightOf(s, srcIdx(bit)) < 0

  /** kvm_ioapic_set_irq on a level-triggered, unmasked pin: the level goes to IRR; a rising IRR without remote IRR is serviced. */
  const ioapicSet = (s: PciState, level: boolean): PciState => {
    if (!level) return R.set(s, 'irr', false)
    const t = R.set(s, 'irr', true)
    return t.remoteIrr ? t : R.update(t, { remoteIrr: true, lapic: true })
  }
  /** kvm_set_irq(source, gsi, level): atomic after 1a577b72475d; before it, the OR is read here and applied later. */
  const setIrq = (s: PciState, bit: number, level: boolean): PciState => {
    const bits = level ? s.bits | bit : s.bits & ~bit
    const t = R.set(s, 'bits', bits)
    if (split) return R.set(t, 'inflight', setInflight(t.inflight, srcIdx(bit), bits !== 0 ? 1 : 0))
    return ioapicSet(t, bits !== 0)
  }
  /** pci_check_and_mask_intx / pci_check_and_unmask_intx (drivers/pci/pci.c pci_check_and_set_intx_mask): act only if the status agrees. */
  const checkAndMask = (s: PciState): { ok: boolean; s: PciState } => (s.status ? { ok: true, s: R.set(s, 'cmdDisable', true) } : { ok: false, s })
  const checkAndUnmask = (s: PciState): { ok: boolean; s: PciState } => (!s.status ? { ok: true, s: R.set(s, 'cmdDisable', false) } : { ok: false, s })
  /** enable_irq → __enable_irq: depth 0 is "Unbalanced enable for IRQ %d" (a WARN), otherwise depth-1. */
  const enableIrq = (s: PciState): PciState => (s.lineDepth === 0 ? R.set(s, 'unbalanced', true) : R.set(s, 'lineDepth', s.lineDepth - 1))

  const enabled = (s: PciState): PciEvent[] => {
    const out: PciEvent[] = []
    if (s.devLeft > 0 && !s.status) out.push({ _tag: 'DevAssert' })
    if (s.otherLeft > 0 && !s.otherAsserted) out.push({ _tag: 'OtherAssert' })
    if (hostLine(s) && s.lineDepth === 0) out.push({ _tag: 'HostIrq' })
    if (s.threadPending && free(s, OURS)) out.push({ _tag: 'Thread' })
    for (const src of [0, 1]) if (inflightOf(s, src) >= 0) out.push({ _tag: 'IoapicApply', source: src })
    if (s.lapic && s.handler === '') out.push({ _tag: 'GuestTake' })
    if (s.handler === 'handling') out.push({ _tag: 'GuestService' })
    if (s.handler === 'serviced' && s.eoi === '') out.push({ _tag: 'GuestEoi' })
    if (s.eoi === 'lower' && free(s, OURS)) out.push({ _tag: 'AckLower' })
    if (s.eoi === 'unmask' && free(s, OURS)) out.push({ _tag: 'AckUnmask' })
    if (s.eoi === 'finish') out.push({ _tag: 'EoiFinish' })
    if (s.emuLeft > 0 && !s.emuPending && !s.emuLower && free(s, EMU)) out.push({ _tag: 'EmuRaise' })
    if (s.emuLower && free(s, EMU)) out.push({ _tag: 'EmuLower' })
    if (s.maskLeft > 0 && s.vmmOp === '') out.push({ _tag: 'GuestMask', masked: !s.guestMasked })
    if (s.vmmOp === 'set-mask' && free(s, OURS)) out.push({ _tag: 'VmmSetIntxMask' })
    if (s.vmmOp === 'write-cmd') out.push({ _tag: 'VmmWriteCommand' })
    return out
  }

  const afterVmm = (s: PciState): PciState => R.update(s, { vmmOp: s.vmmSecond, vmmSecond: '' })

  const reduce = (s: PciState, e: PciEvent): PciState => {
    switch (e._tag) {
      case 'DevAssert': return R.update(s, { status: true, devLeft: s.devLeft - 1 })
      case 'OtherAssert': return R.update(s, { otherAsserted: true, otherLeft: s.otherLeft - 1 })
      case 'HostIrq': {
        // Every handler on the shared line: the other device's services it; ours checks its device.
        let t = R.set(s, 'otherAsserted', false)
        if (vfio) {
          // vfio_intx_handler: "} else if (!vdev->ctx[0].masked && pci_check_and_mask_intx(vdev->pdev)) { masked = true; ret = IRQ_HANDLED }"
          if (!t.hostMasked) {
            const m = checkAndMask(t)
            if (m.ok) t = R.update(m.s, { hostMasked: true, threadPending: true })
          }
        } else {
          // kvm_assigned_dev_intx: "if (pci_check_and_mask_intx(assigned_dev->dev)) { assigned_dev->host_irq_disabled = true; ret = IRQ_WAKE_THREAD; }"
          const m = checkAndMask(t)
          if (m.ok) t = R.update(m.s, { hostMasked: true, threadPending: true })
        }
        return t
      }
      case 'Thread': {
        // legacy: kvm_assigned_dev_raise_guest_irq, under intx_mask_lock: "if (!(dev->flags & KVM_DEV_ASSIGN_MASK_INTX)) kvm_set_irq(…, 1)".
        // VFIO: the trigger eventfd → irqfd_inject → kvm_set_irq(resample source, 1); VFIO already tested virq_disabled in
        // vfio_send_intx_eventfd ("if (likely(is_intx(vdev) && !vdev->virq_disabled))").
        const t = R.set(s, 'threadPending', false)
        return t.maskIntx ? t : setIrq(t, OURS, true)
      }
      case 'IoapicApply': {
        const level = inflightOf(s, e.source) === 1
        return ioapicSet(R.set(s, 'inflight', setInflight(s.inflight, e.source, -1)), level)
      }
      case 'GuestTake': return R.update(s, { lapic: false, handler: 'handling' })
      case 'GuestService': {
        // The driver (or drivers, the GSI being shared) clears what is pending: the assigned device through its BAR,
        // the emulated one through the VMM (which then lowers its line).
        let t = R.set(s, 'handler', 'serviced')
        if (t.status) t = R.set(t, 'status', false)
        if (t.emuPending) t = R.update(t, { emuPending: false, emuLower: true })
        return t
      }
      case 'GuestEoi': return R.update(s, { handler: '', eoi: 'lower' })
      case 'AckLower':
        // kvm_assigned_dev_ack_irq / irqfd_resampler_ack: "kvm_set_irq(dev->kvm, dev->irq_source_id, dev->guest_irq, 0, false);"
        return R.set(setIrq(s, OURS, false), 'eoi', 'unmask')
      case 'AckUnmask': {
        let t = R.set(s, 'eoi', 'finish')
        if (vfio) {
          // resamplefd → vfio_pci_intx_unmask_handler: "if (ctx->masked && !vdev->virq_disabled) { if (!pci_check_and_unmask_intx) ret = 1; else ctx->masked = false; }"
          // then "if (ret > 0) eventfd_signal(ctx->trigger)" (the reassert).
          if (t.hostMasked && !t.maskIntx) {
            const u = checkAndUnmask(t)
            t = u.ok ? R.set(u.s, 'hostMasked', false) : R.set(t, 'threadPending', true)
          }
          return t
        }
        // "if (!(dev->flags & KVM_DEV_ASSIGN_MASK_INTX)) { … if (dev->host_irq_disabled) { … else if (!pci_check_and_unmask_intx(dev->dev))
        //  reassert = true; dev->host_irq_disabled = reassert; } … if (reassert) kvm_set_irq(…, 1, false); }"
        if (!t.maskIntx && t.hostMasked) {
          const u = checkAndUnmask(t)
          t = u.ok ? R.set(u.s, 'hostMasked', false) : setIrq(t, OURS, true)
        }
        return t
      }
      case 'EoiFinish': {
        // __kvm_ioapic_update_eoi after the notifiers: "ent->fields.remote_irr = 0; if (!ent->fields.mask && (ioapic->irr & (1 << i))) ioapic_service(ioapic, i, false);"
        const t = R.update(s, { eoi: '', remoteIrr: false })
        return t.irr ? R.update(t, { remoteIrr: true, lapic: true }) : t
      }
      case 'EmuRaise': return setIrq(R.update(s, { emuPending: true, emuLeft: s.emuLeft - 1 }), EMU, true)
      case 'EmuLower': return setIrq(R.set(s, 'emuLower', false), EMU, false)
      case 'GuestMask': {
        const [first, second] = variant === 'vmm-command-before-set-mask' ? ['write-cmd', 'set-mask'] : ['set-mask', 'write-cmd']
        return R.update(s, { guestMasked: e.masked, maskLeft: s.maskLeft - 1, vmmOp: first, vmmSecond: second })
      }
      case 'VmmSetIntxMask': {
        const masked = s.guestMasked
        if (vfio) {
          // VFIO_IRQ_SET_ACTION_MASK → vfio_pci_intx_mask: "pci_intx(pdev, 0)" (always mask at the device), ctx->masked = true;
          // UNMASK → vfio_pci_intx_unmask: virq_disabled = false, then the unmask handler (check_and_unmask, re-signal if pending).
          if (masked) return afterVmm(R.update(s, { maskIntx: true, cmdDisable: true, hostMasked: true }))
          let t = R.set(s, 'maskIntx', false)
          if (t.hostMasked) {
            const u = checkAndUnmask(t)
            t = u.ok ? R.set(u.s, 'hostMasked', false) : R.set(t, 'threadPending', true)
          }
          return afterVmm(t)
        }
        // kvm_vm_ioctl_set_pci_irq_mask, under intx_mask_lock.
        let t = R.set(s, 'maskIntx', masked)
        if (masked) t = setIrq(t, OURS, false) // "kvm_set_irq(match->kvm, match->irq_source_id, match->guest_irq, 0, false);"
        else {
          // "} else if (!(assigned_dev->flags & KVM_DEV_ASSIGN_PCI_2_3)) {": the argument (bug variant, QEMU passes no PCI_2_3)
          // or the device's stored flags (fixed: this device is PCI 2.3, so nothing is done: "Unmasking at device level will be
          // performed by user space").
          const non23 = variant === 'set-mask-tests-ioctl-flags'
          if (non23 && t.hostMasked) t = R.set(enableIrq(t), 'hostMasked', false)
        }
        return afterVmm(t)
      }
      case 'VmmWriteCommand':
        // The VMM writes the guest-intended INTx-disable to the physical COMMAND register (legacy only; VFIO's config
        // emulation routes the bit to the mask/unmask above, so its write is the same operation).
        return afterVmm(vfio ? s : R.set(s, 'cmdDisable', s.guestMasked))
    }
  }

  const noneInflight = (s: PciState): boolean => inflightOf(s, 0) < 0 && inflightOf(s, 1) < 0
  const properties: StateProperty<PciState>[] = [
    // Legacy only: KVM_ASSIGN_SET_INTX_MASK lowers the source at once. VFIO leaves the irqfd source asserted until the
    // guest's EOI (the resampler lowers it), which delivers nothing new: no-injection-while-guest-masked covers both.
    ...(vfio ? [] : [{
      name: 'masked-source-level-low', expectation: 'always' as const,
      source: 'spec §3.5 B-S1; assigned-dev.c kvm_vm_ioctl_set_pci_irq_mask ("kvm_set_irq(match->kvm, match->irq_source_id, match->guest_irq, 0, false)")',
      description: "While the kernel knows the guest has INTx masked, the assigned device's source does not hold the guest line high",
      holds: (s: PciState) => !s.maskIntx || (s.bits & OURS) === 0,
    }]),
    {
      name: 'ioapic-level-is-or-of-sources', expectation: 'always',
      source: '1a577b72475d: "Now ioapic thinks the level is 0 but irq_state is not 0"; ioapic.c kvm_ioapic_set_irq (__kvm_irq_line_state)',
      description: "Whenever no kvm_set_irq is in progress, the IOAPIC pin's IRR equals the OR of every source's level on the GSI",
      holds: (s) => !noneInflight(s) || s.irr === (s.bits !== 0),
    },
    {
      name: 'balanced-irq-enable', expectation: 'always',
      source: 'kernel/irq/manage.c __enable_irq: "WARN(1, KERN_WARNING \"Unbalanced enable for IRQ %d\\n\", …)"; spec §3.4 candidate defect',
      description: 'KVM never enables the host line more often than it disabled it (a PCI 2.3 device is masked at the device, never at the line)',
      holds: (s) => !s.unbalanced,
    },
    {
      name: 'interrupts-eventually-serviced', expectation: 'eventually',
      source: 'spec §3.5 B-L1 and B-S2; 07700a94b00a ("share legacy IRQs of such devices with other host devices")',
      description: "Under weak fairness, every interrupt of the assigned device (while the guest leaves it unmasked), of the emulated device and of the other host device on the shared line is serviced, and the host line ends deasserted with the device's INTx mask following the guest's",
      holds: (s) => s.devLeft === 0 && s.otherLeft === 0 && s.emuLeft === 0 && s.maskLeft === 0 && s.vmmOp === '' &&
        (!s.status || s.guestMasked) && !s.otherAsserted && !s.emuPending && !s.emuLower && !hostLine(s) &&
        s.handler === '' && s.eoi === '' && !s.lapic && !s.threadPending && (s.guestMasked || !s.cmdDisable),
    },
    {
      name: 'unintended-interrupt-suppressed', expectation: 'sometimes',
      source: 'api.txt (07700a94b00a): "It\'s possible the device may generate unintended interrupts, but they will not be injected into the guest" (recalled)',
      description: 'The device interrupts while the guest has INTx masked: the kernel masks it at the device and does not inject it',
      holds: (s) => s.maskIntx && s.hostMasked && s.status && s.cmdDisable && (s.bits & OURS) === 0,
    },
    {
      name: 'reassert-on-ack', expectation: 'sometimes',
      source: 'assigned-dev.c kvm_assigned_dev_ack_irq ("reassert = true"); vfio_pci_intx_unmask_handler ("ret = 1")',
      description: "A guest EOI finds the device still pending: the unmask declines and the guest line is raised again",
      holds: (s) => s.eoi === 'finish' && s.status && s.hostMasked && ((s.bits & OURS) !== 0 || s.threadPending),
    },
  ]
  const stepProperties: StepProperty<PciState, PciEvent>[] = [
    {
      name: 'no-injection-while-guest-masked', expectation: 'always',
      source: 'api.txt (07700a94b00a): "The kernel will not deliver INTx interrupts to the guest between setting and clearing of KVM_ASSIGN_SET_INTX_MASK"',
      description: "While the guest has the device's INTx masked, no delivery of the GSI is caused by the assigned device: every new delivery has another source high",
      holdsStep: (b, _e, a) => !(a.lapic && !b.lapic) || !b.maskIntx || (a.bits & EMU) !== 0,
    },
    {
      name: 'hardirq-quiets-shared-line', expectation: 'always',
      source: '07700a94b00a ("PCI 2.3 allows to generically disable IRQ sources at device level"); assigned-dev.c assigned_device_enable_host_intx ("host devices may suffer from unbounded IRQ latencies")',
      description: 'After the hard IRQ of the shared line, no device asserts it any more: each handler claimed and masked or serviced its device, so the line neither storms nor needs disabling',
      holdsStep: (_b, e, a) => e._tag !== 'HostIrq' || !hostLine(a),
    },
  ]
  return {
    id: 'pci-intx',
    initStates: () => [init],
    enabled,
    reduce,
    properties,
    stepProperties,
    isTerminal: () => true,
    actorOf: (e) => {
      switch (e._tag) {
        case 'DevAssert': return 'device'
        case 'OtherAssert': return 'other'
        case 'HostIrq': case 'Thread': return 'host'
        case 'IoapicApply': case 'AckLower': case 'AckUnmask': case 'EoiFinish': return 'kvm'
        case 'EmuRaise': case 'EmuLower': case 'VmmSetIntxMask': case 'VmmWriteCommand': return 'vmm'
        default: return 'guest'
      }
    },
    formatEvent: (e) => {
      const { _tag, ...rest } = e as PciEvent & Record<string, unknown>
      const parts = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`)
      return parts.length ? `${_tag}(${parts.join(', ')})` : _tag
    },
    fairness: (e) => e._tag + ('source' in e ? `:${e.source}` : ''),
  }
}
