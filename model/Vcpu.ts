/**
 * vCPU run state and the guest-visible interrupt flag, as KVM tracks them
 * (spec §1.2; arch/x86/kvm/x86.c `vcpu_enter_guest`, `vcpu_block`;
 * arch/x86/kvm/vmx/vmx.c `vmx_interrupt_blocked`).
 */
import { recordType } from './core/Record.js'
import type { Hashed } from './core/hash.js'

/**
 * - `outside`: the vCPU thread is in KVM_RUN but not in guest mode (about to enter; OUTSIDE_GUEST_MODE).
 * - `inGuest`: running guest code (IN_GUEST_MODE).
 * - `exiting`: kicked: `kvm_vcpu_kick` moved mode IN_GUEST_MODE → EXITING_GUEST_MODE and sent the
 *   reschedule IPI; the guest keeps running until that IPI causes the VM exit.
 * - `halted`: the guest executed HLT; `kvm_vcpu_halt` blocks until `kvm_arch_vcpu_runnable`.
 */
export type RunState = 'outside' | 'inGuest' | 'exiting' | 'halted'

/** Where the vector the guest is handling came from: the 8259 via ExtINT (INTA) or the LAPIC (IRR→ISR). */
export type HandlerSource = 'none' | 'pic' | 'lapic' | 'nmi'

export interface VcpuFields {
  readonly run: RunState
  /** RFLAGS.IF. */
  readonly ifFlag: boolean
  /** STI interrupt shadow: blocks interrupts until the next instruction retires (SDM vol. 3A 6.8.3). */
  readonly shadow: boolean
  /** Interrupt-window exiting enabled by `enable_irq_window` at the last entry. */
  readonly irqWindow: boolean
  /** KVM_REQ_EVENT pending (set by `__apic_accept_irq`, PIC output changes, EOI). */
  readonly reqEvent: boolean
  /** The vector the guest's handler is running for, or -1 (this model's guest takes one at a time, IF=0 in the handler). */
  readonly handler: number
  readonly handlerSource: HandlerSource
  /** PIC irq (0..15) the handler serves when `handlerSource` is 'pic', else -1. */
  readonly handlerIrq: number
  /** The handler has acknowledged its device (read its status register), so the device drops a level line. */
  readonly deviceAcked: boolean
  /** The handler has written its EOI(s). */
  readonly eoiDone: boolean
  /** Remaining CLI/STI critical sections this guest will run (bounds the model). */
  readonly cliBudget: number
  /** Remaining IPIs this guest will send (bounds the model). */
  readonly ipiBudget: number
}
export type VcpuState = VcpuFields & Hashed

export const VcpuR = recordType<VcpuFields>('Vcpu', [
  'run', 'ifFlag', 'shadow', 'irqWindow', 'reqEvent', 'handler', 'handlerSource', 'handlerIrq',
  'deviceAcked', 'eoiDone', 'cliBudget', 'ipiBudget',
])

export const initialVcpu = (cliBudget: number, ipiBudget: number): VcpuState =>
  VcpuR.make({
    run: 'outside',
    ifFlag: true,
    shadow: false,
    irqWindow: false,
    reqEvent: false,
    handler: -1,
    handlerSource: 'none',
    handlerIrq: -1,
    deviceAcked: false,
    eoiDone: false,
    cliBudget,
    ipiBudget,
  })

/**
 * `interrupt_blocked` (vmx.c `vmx_interrupt_blocked`, non-nested): !IF or an STI/MOV-SS shadow.
 * `interrupt_allowed` is its negation here (no nested_run_pending in this model).
 */
export const interruptAllowed = (v: VcpuState): boolean => v.ifFlag && !v.shadow
