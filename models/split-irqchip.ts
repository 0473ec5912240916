/**
 * Model `split-irqchip`: KVM's split irqchip (LAPICs in the kernel, the 8259 PIC in the VMM) and local
 * (ExtINT) interrupt requests from userspace, torvalds/linux 1c1a9ce973a7 "KVM: x86: Add support for local
 * interrupt requests from userspace" (v4.4), with the later changes to its predicates.
 * Spec: ../shared/spec/x86-split-irqchip-intx-ipiv.md §2 (events A3–A12), §1.4 (the KVM_RUN loop).
 *
 * One interrupt, device to EOI (the fixed kernel, QEMU's protocol, `virq check split-irqchip`):
 *  1. `PicRaise(irq=3)`: the serial port pulses IRQ3 of the VMM's 8259 (model/devices/pic.ts, the same
 *     8259 QEMU and KVM emulate); its INT output rises, so the VMM sets CPU_INTERRUPT_HARD on vCPU 0 and,
 *     vCPU 0's thread being inside KVM_RUN, kicks it with a signal.
 *  2. `KickExit(vcpu=0)`: the signal's IPI takes vCPU 0 out of the guest (EXTERNAL_INTERRUPT exit).
 *  3. `KvmRun(vcpu=0)`: vcpu_run sees the pending signal: KVM_EXIT_INTR; post_kvm_run_save fills
 *     `ready_for_interrupt_injection` (kvm_vcpu_ready_for_interrupt_injection) and `if_flag`.
 *  4. `VmmRun(vcpu=0, inject=true)`: ready=1 and IF=1, so the VMM does the INTA (IRR→ISR, vector 0x23)
 *     and KVM_INTERRUPT{0x23} fills `pending_external_vector`; request_interrupt_window = HARD = 0; KVM_RUN.
 *  5. `KvmRun(vcpu=0)`: the entry (kvm_check_and_inject_events) dequeues the ExtINT
 *     (kvm_cpu_get_extint, LVT0 accepts ExtINT, IF=1) and injects it (`kvm_inj_virq: IRQ 0x23`).
 *  6. `Deliver(vcpu=0)`: the guest vectors through its IDT; the interrupt gate clears IF.
 *  7. `GuestPicEoi(vcpu=0)`: the handler writes a non-specific EOI to port 0x20: a KVM_EXIT_IO to the VMM.
 *  8. `VmmRun(vcpu=0)`: the VMM's PIC clears ISR bit 3 and re-enters; 9. `KvmRun`; 10. `GuestIret`.
 * If IF had been 0 at step 3, ready=0: the VMM sets request_interrupt_window=1, KVM arms interrupt-window
 * exiting, and when the guest sets IF the `WindowExit` is followed by KVM_EXIT_IRQ_WINDOW_OPEN with
 * ready=1, and the VMM injects from there.
 *
 * Actors: the device (PIC inputs), per vCPU the VMM thread (`vmm0`), KVM on that thread (`kvm0`) and the
 * guest (`guest0`). The thread is in exactly one of: userspace (the VMM), KVM_RUN before its first
 * entry, KVM after an exit (the vcpu_run loop's epilogue comes next), the guest.
 *
 * Abstractions (each can only hide bugs of a kind none of the modelled commits is about):
 *  - KVM_REQ_EVENT is taken as set at every entry: events are re-evaluated on each entry.
 *  - kvm_check_and_inject_events with a reinjection pending (can_inject false, -EBUSY, immediate exit)
 *    arms the interrupt window instead of requesting an immediate exit; both end in an exit at the first
 *    point the guest can take an interrupt.
 *  - The guest's LAPIC EOI stays in the guest (APICv virtualizes it; without APICv it is an APIC-write
 *    trap that KVM handles and resumes).
 *  - One LAPIC vector (0x71, fixed IPIs from the last vCPU to vCPU 0), so PPR is "0x71 in service or not".
 *  - A PIC source pulses its line (raise, lower) in one step, as QEMU's qemu_irq_pulse does.
 *  - Exceptions are not modelled, so `!kvm_is_exception_pending` is always true.
 *
 * Default bounds and why: 2 vCPUs (the issue's minimum: vCPU 1 is an AP with LVT0 masked that sends
 * vCPU 0 one IPI, the LAPIC interrupt of the 71cc849b7093 livelock); 2 PIC lines (IRQ3, IRQ4) pulsed once
 * each (the second keeps CPU_INTERRUPT_HARD, hence request_interrupt_window, set while the first is in
 * flight: the 043264d97e9a scenario); one LVT0 mask/unmask pair by the guest on vCPU 0 (the spurious
 * rendezvous of 1c1a9ce973a7, and LVT0 gating); one vectoring exit (an exit during event delivery, A9r:
 * the reinjection 043264d97e9a is about); one CLI/STI section on vCPU 0 (the STI shadow delays the window
 * exit by one instruction); APICv on (the LAPIC vector is delivered by the CPU, so it
 * cannot break the livelock; see the bug list).
 */
import type { Hashed } from '../model/core/hash.js'
import { recordType } from '../model/core/Record.js'
import { Table } from '../model/core/Table.js'
import { initialPic, picAck, picOutput, picWrite, reducePic, type PicState } from '../model/devices/pic.js'
import type { ModelSpec } from '../checker/ModelSpec.js'
import type { StateProperty, StepProperty } from '../invariants/Property.js'

/** Where the vCPU's thread is. */
export type Where = 'user' | 'run' | 'kernel' | 'guest'
/** The exit the VMM is handling (`run->exit_reason`), '' while not in userspace. */
export type ExitReason = '' | 'intr' | 'irq-window-open' | 'io'
/** The guest's interrupt handler phase: '' idle code; 'pic'/'lapic' in a handler before its EOI; '…-eoi' after it, before IRET. */
export type Handler = '' | 'pic' | 'pic-eoi' | 'lapic' | 'lapic-eoi'

interface VcpuFields {
  readonly where: Where
  // kvm_run, as the VMM sees it after the last exit
  readonly exit: ExitReason
  readonly ready: boolean
  readonly ifFlag: boolean
  /** run->request_interrupt_window, written by the VMM before KVM_RUN. */
  readonly reqWin: boolean
  // kernel
  /** pending_external_vector: -1 or the vector KVM_INTERRUPT stored. */
  readonly extint: number
  /** interrupt.injected after a vectoring exit: the vector to reinject, -1 none (kvm_event_needs_reinjection). */
  readonly reinject: number
  /** VMX interrupt-window exiting armed (enable_irq_window; cleared by handle_interrupt_window). */
  readonly window: boolean
  /** A signal (the VMM's kick) is pending on the vCPU thread. */
  readonly signal: boolean
  /** kvm_vcpu_kick pending: an IPI that takes the vCPU out of guest mode (no-APICv IPI delivery). */
  readonly kick: boolean
  /** Event being delivered by this VM entry (-1 none). */
  readonly injecting: number
  // guest
  readonly if: boolean
  /** STI interrupt shadow (blocking by STI). */
  readonly shadow: boolean
  readonly lvt0Masked: boolean
  readonly handler: Handler
  /** LAPIC IRR and ISR bit of vector 0x71. */
  readonly irr: boolean
  readonly isr: boolean
}
export type Vcpu = VcpuFields & Hashed
const VcpuR = recordType<VcpuFields>('SplitVcpu', ['where', 'exit', 'ready', 'ifFlag', 'reqWin', 'extint', 'reinject', 'window', 'signal', 'kick', 'injecting', 'if', 'shadow', 'lvt0Masked', 'handler', 'irr', 'isr'])

interface SplitFields {
  readonly pic: PicState
  readonly vcpus: Table<Vcpu>
  /** Pulses left per PIC line, 2 bits per line (IRQ3 bits 0-1, IRQ4 bits 2-3). */
  readonly raises: number
  /** LVT0 writes the guest on vCPU 0 still makes (mask, unmask, mask, …). */
  readonly lvt0Left: number
  readonly cliLeft: number
  readonly ipisLeft: number
  readonly vectoringLeft: number
  /** ExtINTs lost: acknowledged at the PIC (INTA) and refused by KVM_INTERRUPT with -EEXIST. */
  readonly lost: number
}
export type SplitState = SplitFields & Hashed
const SplitR = recordType<SplitFields>('Split', ['pic', 'vcpus', 'raises', 'lvt0Left', 'cliLeft', 'ipisLeft', 'vectoringLeft', 'lost'])

export type SplitEvent =
  | { readonly _tag: 'PicRaise'; readonly irq: number }
  | { readonly _tag: 'VmmRun'; readonly vcpu: number; readonly inject: boolean }
  | { readonly _tag: 'KvmRun'; readonly vcpu: number }
  | { readonly _tag: 'Deliver'; readonly vcpu: number }
  | { readonly _tag: 'VectoringExit'; readonly vcpu: number }
  | { readonly _tag: 'WindowExit'; readonly vcpu: number }
  | { readonly _tag: 'KickExit'; readonly vcpu: number }
  | { readonly _tag: 'VirtualDeliver'; readonly vcpu: number }
  | { readonly _tag: 'GuestStep'; readonly vcpu: number }
  | { readonly _tag: 'GuestCli'; readonly vcpu: number }
  | { readonly _tag: 'GuestSti'; readonly vcpu: number }
  | { readonly _tag: 'GuestLvt0'; readonly vcpu: number; readonly masked: boolean }
  | { readonly _tag: 'GuestSendIpi'; readonly vcpu: number; readonly to: number }
  | { readonly _tag: 'GuestPicEoi'; readonly vcpu: number }
  | { readonly _tag: 'GuestApicEoi'; readonly vcpu: number }
  | { readonly _tag: 'GuestIret'; readonly vcpu: number }

export interface SplitParams {
  readonly vcpus: number
  readonly pic: number
  readonly raises: number
  readonly lvt0: number
  readonly ipis: number
  readonly vectoring: number
  readonly cli: number
  readonly apicv: number
}

export const splitParams = [
  { name: 'vcpus', default: 2, min: 1, max: 3, description: 'vCPUs; vCPU 0 is the BSP the PIC targets, the others are APs with LVT0 masked' },
  { name: 'pic', default: 2, min: 0, max: 2, description: 'PIC lines with a device (IRQ3, IRQ4)' },
  { name: 'raises', default: 1, min: 1, max: 2, description: 'pulses per PIC line' },
  { name: 'lvt0', default: 1, min: 0, max: 2, description: 'LVT0 mask/unmask pairs the guest on vCPU 0 writes' },
  { name: 'ipis', default: 1, min: 0, max: 2, description: 'fixed IPIs (vector 0x71) the last vCPU sends vCPU 0' },
  { name: 'vectoring', default: 1, min: 0, max: 2, description: 'VM exits during event delivery (IDT-vectoring info valid: the event is reinjected)' },
  { name: 'cli', default: 1, min: 0, max: 2, description: 'CLI/STI sections in the idle code of vCPU 0 (STI opens an interrupt shadow)' },
  { name: 'apicv', default: 1, min: 0, max: 1, description: '1 = APICv: the CPU delivers LAPIC vectors (virtual-interrupt delivery) and KVM does not inject them' },
] as const

/** Kernel (and VMM) versions this model can be: the fixed kernel and one variant per historical predicate. */
export type SplitVariant = 'fixed' | 'naive-ready' | 'pre-71cc849b7093' | 'pre-043264d97e9a' | 'vmm-ignores-ready'

export const splitBugs = [
  {
    id: 'pre-71cc849b7093',
    commit: '71cc849b7093',
    description:
      'v4.4–v5.9 predicates: ready = interrupt_allowed && !kvm_cpu_has_interrupt && !kvm_event_needs_reinjection && kvm_cpu_accept_dm_intr, ' +
      'with kvm_cpu_accept_dm_intr = !lapic_in_kernel || kvm_apic_accept_pic_intr. A pending LAPIC interrupt makes ready false while the armed ' +
      'interrupt window keeps exiting: "The VM loops without any hope of making progress." 71cc849b7093 changed x86.c: ' +
      '"-	return (!lapic_in_kernel(vcpu) || kvm_apic_accept_pic_intr(vcpu));" → "+	if (kvm_cpu_has_extint(vcpu)) return false; ' +
      '+	return (!lapic_in_kernel(vcpu) || kvm_apic_accept_pic_intr(vcpu));" and "-	return kvm_arch_interrupt_allowed(vcpu) && ' +
      '-		!kvm_cpu_has_interrupt(vcpu) && -		!kvm_event_needs_reinjection(vcpu) && -		kvm_cpu_accept_dm_intr(vcpu);" → ' +
      '"+	return kvm_arch_interrupt_allowed(vcpu) && +		kvm_cpu_accept_dm_intr(vcpu);"',
  },
  {
    id: 'pre-043264d97e9a',
    commit: '043264d97e9a',
    description:
      'v5.10–v5.13 predicate (71cc849b7093 dropped the reinjection test): ready = interrupt_allowed && kvm_cpu_accept_dm_intr, so ' +
      'KVM_EXIT_IRQ_WINDOW_OPEN and ready=1 can be reported while an interrupt still waits to be reinjected. 043264d97e9a: ' +
      '"return kvm_arch_interrupt_allowed(vcpu) && -		kvm_cpu_accept_dm_intr(vcpu); +		kvm_cpu_accept_dm_intr(vcpu) && ' +
      '+		!kvm_event_needs_reinjection(vcpu) && +		!vcpu->arch.exception.pending;"',
  },
  {
    id: 'naive-ready',
    description:
      'No kernel had it: ready = RFLAGS.IF, the predicate a VMM author might assume. It ignores the one-slot buffer and LVT0, ' +
      'so the VMM acknowledges a PIC interrupt that KVM_INTERRUPT then refuses (-EEXIST: "interrupt lost"), the reason 1c1a9ce973a7 ' +
      'defines ready as "the CPU/APIC will immediately accept and inject an interrupt".',
  },
  {
    id: 'vmm-ignores-ready',
    description:
      'No kernel commit: a VMM that issues KVM_INTERRUPT whenever its PIC output is high, without waiting for an exit with ' +
      'ready_for_interrupt_injection=1 and if_flag=1 (QEMU kvm_arch_pre_run waits for both). The kernel then refuses the second ' +
      'vector with -EEXIST and the VMM has already acknowledged it.',
  },
] as const

/** Expected violations of each bug variant at default bounds (check-all verifies them). */
export const splitExpected: Record<string, ReadonlyArray<string>> = {
  'pre-71cc849b7093': ['interrupts-eventually-delivered'],
  'pre-043264d97e9a': ['ready-means-immediate-injection', 'window-exit-only-when-open'],
  // A lost vector stays in the PIC's ISR (acknowledged, never EOId), so liveness fails too; with an STI section the naive
  // predicate also reports the window open inside the interrupt shadow.
  'naive-ready': ['ready-means-immediate-injection', 'no-lost-extint', 'window-exit-only-when-open', 'interrupts-eventually-delivered'],
  'vmm-ignores-ready': ['inject-only-when-ready', 'no-lost-extint', 'interrupts-eventually-delivered'],
}

const IPI_VECTOR = 0x71
const PIC_IRQS = [3, 4] as const

// ------------------------------------------------------------------ kernel predicates (arch/x86/kvm/x86.c, irq.c)

/** kvm_apic_accept_pic_intr: LVT0 unmasked in ExtINT mode (every vCPU's LVT0 here is ExtINT mode). */
export const acceptPicIntr = (v: Vcpu): boolean => !v.lvt0Masked
/** kvm_cpu_has_extint, split irqchip: pending_userspace_extint gated by LVT0. */
export const hasExtint = (v: Vcpu): boolean => acceptPicIntr(v) && v.extint >= 0
/** kvm_apic_has_interrupt != -1: 0x71 in IRR and above the PPR (0x71 not in service; TPR 0). */
export const lapicHasInterrupt = (v: Vcpu): boolean => v.irr && !v.isr
/** kvm_arch_interrupt_allowed → vmx_interrupt_allowed: !vmx_interrupt_blocked = RFLAGS.IF and no STI/MOV-SS blocking. */
export const interruptAllowed = (v: Vcpu): boolean => v.if && !v.shadow
/** kvm_cpu_has_interrupt: an ExtINT or a LAPIC vector (APICv or not). */
export const hasInterrupt = (v: Vcpu): boolean => hasExtint(v) || lapicHasInterrupt(v)
/** kvm_cpu_has_injectable_intr: LAPIC vectors only when APICv is not active. */
const hasInjectable = (v: Vcpu, apicv: boolean): boolean => hasExtint(v) || (!apicv && lapicHasInterrupt(v))

/** kvm_cpu_accept_dm_intr, per version. */
export const acceptDmIntr = (v: Vcpu, variant: SplitVariant): boolean =>
  variant === 'pre-71cc849b7093' ? acceptPicIntr(v) : !hasExtint(v) && acceptPicIntr(v)

/** kvm_vcpu_ready_for_interrupt_injection, per version (spec §2.3 table). */
export const readyForInjection = (v: Vcpu, variant: SplitVariant): boolean => {
  switch (variant) {
    case 'naive-ready': return v.if
    case 'pre-71cc849b7093': return interruptAllowed(v) && !hasInterrupt(v) && v.reinject < 0 && acceptDmIntr(v, variant)
    case 'pre-043264d97e9a': return interruptAllowed(v) && acceptDmIntr(v, variant)
    case 'fixed':
    case 'vmm-ignores-ready':
      return interruptAllowed(v) && acceptDmIntr(v, variant) && v.reinject < 0
  }
}

export interface SplitModel extends ModelSpec<SplitState, SplitEvent> {
  readonly variant: SplitVariant
}

export const buildSplit = (p: SplitParams, variant: SplitVariant = 'fixed'): SplitModel => {
  const n = p.vcpus
  const apicv = p.apicv === 1
  const ipiFrom = n - 1
  // The VMM's 8259 master: ICW1 edge+ICW4, ICW2 base 0x20, ICW3 slave on IRQ2, ICW4 8086; OCW1 unmasks the device lines.
  let pic0 = initialPic()
  const unmask = PIC_IRQS.slice(0, p.pic).reduce((m, irq) => m & ~(1 << irq), 0xff)
  for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, unmask]] as const) pic0 = picWrite(pic0, port, value).state
  const vcpu0 = (i: number): Vcpu => VcpuR.make({
    where: 'user', exit: '', ready: false, ifFlag: false, reqWin: false, extint: -1, reinject: -1, window: false, signal: false, kick: false,
    injecting: -1, if: true, shadow: false, lvt0Masked: i !== 0, handler: '', irr: false, isr: false,
  })
  const init = SplitR.make({
    pic: pic0,
    vcpus: Table.fill(n, vcpu0),
    raises: PIC_IRQS.slice(0, p.pic).reduce((r, _, k) => r | (p.raises << (2 * k)), 0),
    lvt0Left: 2 * p.lvt0,
    cliLeft: p.cli,
    ipisLeft: p.ipis,
    vectoringLeft: p.vectoring,
    lost: 0,
  })
  const get = (s: SplitState, i: number): Vcpu => Table.get(s.vcpus, i)
  const put = (s: SplitState, i: number, v: Vcpu): SplitState => SplitR.set(s, 'vcpus', Table.set(s.vcpus, i, v))
  const upd = (s: SplitState, i: number, patch: Partial<VcpuFields>): SplitState => put(s, i, VcpuR.update(get(s, i), patch))

  /** post_kvm_run_save: what the VMM reads in kvm_run at an exit. */
  const exitTo = (v: Vcpu, exit: ExitReason): Partial<VcpuFields> => ({ where: 'user', exit, ready: readyForInjection(v, variant), ifFlag: v.if })

  /** QEMU kvm_arch_pre_run: does the VMM issue KVM_INTERRUPT now? (after it handled the exit's I/O) */
  const vmmInjects = (pic: PicState, v: Vcpu, i: number): boolean =>
    i === 0 && picOutput(pic) && (variant === 'vmm-ignores-ready' || (v.ready && v.ifFlag))
  const picAfterIo = (s: SplitState, v: Vcpu): PicState => (v.exit === 'io' ? picWrite(s.pic, 0x20, 0x20).state : s.pic)

  const enabled = (s: SplitState): SplitEvent[] => {
    const out: SplitEvent[] = []
    PIC_IRQS.forEach((irq, k) => { if ((s.raises >> (2 * k)) & 3) out.push({ _tag: 'PicRaise', irq }) })
    for (let i = 0; i < n; i++) {
      const v = get(s, i)
      switch (v.where) {
        case 'user':
          out.push({ _tag: 'VmmRun', vcpu: i, inject: vmmInjects(picAfterIo(s, v), v, i) })
          break
        case 'run':
        case 'kernel':
          out.push({ _tag: 'KvmRun', vcpu: i })
          break
        case 'guest':
          if (v.injecting >= 0) {
            // An event injected by VM entry is delivered before any instruction; an exit can interrupt the delivery.
            out.push({ _tag: 'Deliver', vcpu: i })
            if (s.vectoringLeft > 0) out.push({ _tag: 'VectoringExit', vcpu: i })
            break
          }
          // A host interrupt (the signal's IPI, or kvm_vcpu_kick's) can exit the guest at any instruction boundary.
          if (v.signal || v.kick) out.push({ _tag: 'KickExit', vcpu: i })
          // SDM vol. 3C 26.7.5 (interrupt-window exiting): the VM exit occurs at the beginning of any instruction at which
          // RFLAGS.IF = 1 and there is no blocking by STI or MOV SS, so no guest instruction runs while it is armed and open.
          if (v.window && interruptAllowed(v)) { out.push({ _tag: 'WindowExit', vcpu: i }); break }
          // SDM vol. 3C 29.2.2: a pending virtual interrupt is delivered at an instruction boundary if RFLAGS.IF = 1, there is
          // no blocking by STI or MOV SS, and the "interrupt-window exiting" control is 0; it comes before the next instruction.
          if (apicv && lapicHasInterrupt(v) && interruptAllowed(v)) { out.push({ _tag: 'VirtualDeliver', vcpu: i }); break }
          if (v.shadow) { out.push({ _tag: 'GuestStep', vcpu: i }); break }
          switch (v.handler) {
            case 'pic': out.push({ _tag: 'GuestPicEoi', vcpu: i }); break
            case 'lapic': out.push({ _tag: 'GuestApicEoi', vcpu: i }); break
            case 'pic-eoi':
            case 'lapic-eoi': out.push({ _tag: 'GuestIret', vcpu: i }); break
            case '':
              if (i === 0 && s.lvt0Left > 0) out.push({ _tag: 'GuestLvt0', vcpu: i, masked: !v.lvt0Masked })
              if (i === 0 && s.cliLeft > 0 && v.if) out.push({ _tag: 'GuestCli', vcpu: i })
              if (i === 0 && !v.if) out.push({ _tag: 'GuestSti', vcpu: i })
              if (i === ipiFrom && s.ipisLeft > 0) out.push({ _tag: 'GuestSendIpi', vcpu: i, to: 0 })
          }
      }
    }
    return out
  }

  const reduce = (s: SplitState, e: SplitEvent): SplitState => {
    switch (e._tag) {
      case 'PicRaise': {
        const k = PIC_IRQS.indexOf(e.irq as 3 | 4)
        let pic = reducePic(s.pic, { _tag: 'PicLineSet', irq: e.irq, level: 1 })
        pic = reducePic(pic, { _tag: 'PicLineSet', irq: e.irq, level: 0 })
        let t = SplitR.update(s, { pic, raises: s.raises - (1 << (2 * k)) })
        // QEMU pic_irq_request → cpu_interrupt(CPU_INTERRUPT_HARD) → qemu_cpu_kick: a signal, unless the thread is in userspace.
        if (picOutput(pic) && get(t, 0).where !== 'user') t = upd(t, 0, { signal: true })
        return t
      }
      case 'VmmRun': {
        const v = get(s, e.vcpu)
        let t = SplitR.set(s, 'pic', picAfterIo(s, v))
        let extint = v.extint
        if (e.inject) {
          const ack = picAck(t.pic) // the INTA cycle: IRR → ISR
          t = SplitR.set(t, 'pic', ack.state)
          // kvm_vcpu_ioctl_interrupt: "if (vcpu->arch.pending_external_vector != -1) return -EEXIST;"
          if (extint !== -1) t = SplitR.set(t, 'lost', t.lost + 1)
          else extint = ack.vector
        }
        // request_interrupt_window = CPU_INTERRUPT_HARD, which follows the PIC output (vCPU 0 only).
        return upd(t, e.vcpu, { where: 'run', exit: '', ready: false, ifFlag: false, extint, reqWin: e.vcpu === 0 && picOutput(t.pic) })
      }
      case 'KvmRun': {
        const v = get(s, e.vcpu)
        if (v.where === 'kernel') {
          // vcpu_run epilogue: "if (dm_request_for_irq_injection(vcpu) && kvm_vcpu_ready_for_interrupt_injection(vcpu))"
          if (v.reqWin && readyForInjection(v, variant)) return upd(s, e.vcpu, exitTo(v, 'irq-window-open'))
        }
        // A pending signal: KVM_EXIT_INTR (at the loop's end, or at entry: kvm_vcpu_exit_request / signal_pending).
        if (v.signal) return upd(s, e.vcpu, { ...exitTo(v, 'intr'), signal: false })
        // vcpu_enter_guest E0: req_int_win = dm_request_for_irq_injection && kvm_cpu_accept_dm_intr
        const reqIntWin = v.reqWin && acceptDmIntr(v, variant)
        // E2: kvm_check_and_inject_events
        let w = VcpuR.update(v, { kick: false })
        let canInject = true
        if (w.reinject >= 0) { w = VcpuR.update(w, { injecting: w.reinject, reinject: -1 }); canInject = false }
        if (hasInjectable(w, apicv)) {
          if (canInject && interruptAllowed(w)) {
            // kvm_cpu_get_interrupt: ExtINT first (kvm_cpu_get_extint), then the LAPIC (IRR → ISR).
            if (hasExtint(w)) w = VcpuR.update(w, { injecting: w.extint, extint: -1 })
            else w = VcpuR.update(w, { injecting: IPI_VECTOR, irr: false, isr: true })
          }
          if (hasInjectable(w, apicv)) w = VcpuR.set(w, 'window', true)
        }
        if (reqIntWin) w = VcpuR.set(w, 'window', true)
        return put(s, e.vcpu, VcpuR.set(w, 'where', 'guest'))
      }
      case 'Deliver': {
        const v = get(s, e.vcpu)
        return upd(s, e.vcpu, { injecting: -1, if: false, shadow: false, handler: v.injecting === IPI_VECTOR ? 'lapic' : 'pic' })
      }
      case 'VectoringExit': {
        // vmx_complete_interrupts → kvm_queue_interrupt: the event is reinjected on the next entry.
        const v = get(s, e.vcpu)
        return SplitR.set(upd(s, e.vcpu, { reinject: v.injecting, injecting: -1, where: 'kernel' }), 'vectoringLeft', s.vectoringLeft - 1)
      }
      case 'WindowExit': return upd(s, e.vcpu, { window: false, where: 'kernel' })
      case 'KickExit': return upd(s, e.vcpu, { kick: false, where: 'kernel' })
      case 'VirtualDeliver': return upd(s, e.vcpu, { irr: false, isr: true, if: false, handler: 'lapic' })
      case 'GuestStep': return upd(s, e.vcpu, { shadow: false })
      case 'GuestCli': return SplitR.set(upd(s, e.vcpu, { if: false }), 'cliLeft', s.cliLeft - 1)
      case 'GuestSti': return upd(s, e.vcpu, { if: true, shadow: true })
      case 'GuestLvt0':
        // The LVT0 write traps (APIC-access / APIC-write exit); KVM updates LVT0 and resumes the loop.
        return SplitR.set(upd(s, e.vcpu, { lvt0Masked: e.masked, where: 'kernel' }), 'lvt0Left', s.lvt0Left - 1)
      case 'GuestSendIpi': {
        // ICR write exit; __apic_accept_irq sets IRR and kicks the target (with APICv: a posted interrupt, no exit).
        let t = SplitR.set(upd(s, e.vcpu, { where: 'kernel' }), 'ipisLeft', s.ipisLeft - 1)
        const to = get(t, e.to)
        t = upd(t, e.to, { irr: true, kick: !apicv && to.where === 'guest' && e.to !== e.vcpu ? true : to.kick })
        return t
      }
      case 'GuestPicEoi': {
        // OUT 0x20: the PIC is in userspace, so this is a KVM_EXIT_IO.
        const v = get(s, e.vcpu)
        return upd(s, e.vcpu, { ...exitTo(VcpuR.set(v, 'handler', 'pic-eoi'), 'io'), handler: 'pic-eoi' })
      }
      case 'GuestApicEoi': return upd(s, e.vcpu, { isr: false, handler: 'lapic-eoi' })
      case 'GuestIret': return upd(s, e.vcpu, { if: true, handler: '' })
    }
  }

  const all = (s: SplitState, f: (v: Vcpu, i: number) => boolean): boolean => s.vcpus.items.every((v, i) => f(v, i))
  const SRC = 'torvalds/linux 1c1a9ce973a7; spec §2.5'
  const properties: StateProperty<SplitState>[] = [
    {
      name: 'no-lost-extint', expectation: 'always', source: `${SRC} A-I1; x86.c kvm_vcpu_ioctl_interrupt ("return -EEXIST")`,
      description: 'No PIC interrupt is acknowledged by the VMM and then refused by KVM_INTERRUPT (-EEXIST): the kernel buffers one local interrupt, and a VMM that follows ready_for_interrupt_injection never offers a second',
      holds: (s) => s.lost === 0,
    },
    {
      name: 'ready-means-immediate-injection', expectation: 'always', source: `${SRC} A-I4; 1c1a9ce973a7: "only set when the CPU/APIC will immediately accept and inject an interrupt"`,
      description: 'At every exit that reports ready_for_interrupt_injection=1, a KVM_INTERRUPT would succeed and be injected by the next entry: the slot is empty, LVT0 accepts ExtINT, IF=1 with no shadow, and no event waits for reinjection',
      holds: (s) => all(s, (v) => v.where !== 'user' || !v.ready || (v.extint < 0 && acceptPicIntr(v) && interruptAllowed(v) && v.reinject < 0)),
    },
    {
      name: 'interrupts-eventually-delivered', expectation: 'eventually', source: `${SRC} A-L1; 71cc849b7093 ("The VM loops without any hope of making progress")`,
      description: 'Under weak fairness of the devices, the VMM, KVM and the guest, every PIC interrupt raised (and unmasked in LVT0 as the guest leaves it) and every IPI is delivered and handled to its EOI',
      holds: (s) => s.raises === 0 && s.ipisLeft === 0 && s.lost === 0 && (s.pic.master.irr & ~s.pic.master.imr) === 0 && s.pic.master.isr === 0 &&
        all(s, (v) => v.extint < 0 && v.reinject < 0 && v.injecting < 0 && !v.irr && !v.isr && v.handler === ''),
    },
    {
      name: 'spurious-rendezvous', expectation: 'sometimes', source: '1c1a9ce973a7: "this design can lead to a small number of spurious userspace renedezvous … whenever the PIC transistions from low to high while it is masked"',
      description: 'The VMM kicks vCPU 0 out for an INTA and finds it cannot inject: the exit reports ready=0 because LVT0 masks ExtINT while the PIC output is high',
      holds: (s) => { const v = get(s, 0); return v.where === 'user' && v.exit === 'intr' && !v.ready && v.lvt0Masked && picOutput(s.pic) },
    },
  ]
  const stepProperties: StepProperty<SplitState, SplitEvent>[] = [
    {
      name: 'inject-only-when-ready', expectation: 'always', source: `${SRC} A5; QEMU kvm_arch_pre_run ("run->ready_for_interrupt_injection && (env->eflags & IF_MASK)")`,
      description: 'The VMM issues KVM_INTERRUPT only after an exit that reported ready_for_interrupt_injection=1 and if_flag=1',
      holdsStep: (b, e) => e._tag !== 'VmmRun' || !e.inject || (get(b, e.vcpu).ready && get(b, e.vcpu).ifFlag),
    },
    {
      name: 'window-exit-only-when-open', expectation: 'always', source: '1c1a9ce973a7; 043264d97e9a ("the interrupt window must be delayed after the completion of the previous event injection")',
      description: 'KVM_EXIT_IRQ_WINDOW_OPEN is reported only when the guest can take an interrupt now: IF=1, no interrupt shadow, no event being (re)injected',
      holdsStep: (b, e, a) => {
        if (e._tag !== 'KvmRun') return true
        const v = get(a, e.vcpu)
        return !(v.where === 'user' && v.exit === 'irq-window-open') || (interruptAllowed(v) && v.reinject < 0 && v.injecting < 0)
      },
    },
  ]

  const actor = (e: SplitEvent): string => {
    if (e._tag === 'PicRaise') return 'device'
    if (e._tag === 'VmmRun') return `vmm${e.vcpu}`
    if (e._tag === 'KvmRun' || e._tag === 'KickExit' || e._tag === 'WindowExit' || e._tag === 'VectoringExit') return `kvm${e.vcpu}`
    return `guest${e.vcpu}`
  }
  return {
    id: 'split-irqchip',
    variant,
    initStates: () => [init],
    enabled,
    reduce,
    properties,
    stepProperties,
    isTerminal: () => true,
    actorOf: actor,
    formatEvent: (e) => {
      const { _tag, ...rest } = e as SplitEvent & Record<string, unknown>
      const parts = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`)
      return parts.length ? `${_tag}(${parts.join(', ')})` : _tag
    },
    // Every actor is weakly fair; VmmRun's `inject` is a consequence of the state, not a separate choice.
    fairness: (e) => `${e._tag}:${'vcpu' in e ? e.vcpu : ''}:${'irq' in e ? e.irq : ''}`,
  }
}
