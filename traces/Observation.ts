/**
 * Observations: the typed records a real KVM trace is read into.
 *
 * One closed `_tag` union. Each variant is one tracepoint (or, for `kvm_entry`/`kvm_exit`, one
 * architecture's form of it) with its fields decoded from the text the kernel printed (`TP_printk`),
 * plus three non-tracepoint variants: `ModelEvent` (a virq model event given directly in JSONL/ITF) and
 * `TraceGap` (the trace says events are missing here: an elision `...` in a pasted excerpt, or
 * `[LOST n EVENTS]` from the ring buffer).
 *
 * Every observation carries the record header: `line` (1-based PHYSICAL line of the input file where
 * the record starts, also after the repair pre-pass has joined wrapped lines), `task`, `pid`, `cpu`,
 * `timestamp` (seconds), `flags` (the irq-flags column, e.g. `d..1.`), `event` (the tracepoint name,
 * without a `kvm:` system prefix) and `raw` (the field text as printed). Header parts a poster
 * stripped (excerpts 01, 06, 09, 10, 15 of `../shared/traces/public/`) are `undefined`.
 *
 * Field naming: fields keep the kernel's meaning; names are camelCase. Only what the kernel PRINTS is
 * known: e.g. `kvm_pic_set_irq` records the chip's whole ELCR and IMR bytes but prints only the bit of
 * `pin`, so `elcr`/`imr` here are that bit. Raw register images the brief asks for (`e` of an IOAPIC
 * redirection entry, `icrLow` of an IPI, MSI `address`/`data`) are RECONSTRUCTED from the printed
 * fields; bits that are not printed read as 0 (documented per field).
 *
 * Format variants: where kernels printed an event differently over time, the variant is recorded
 * either by which optional fields are present (e.g. `kvm_entry` without `rip` is the ≤≈v5.8 form) or
 * by a `variant` field (absent = the current format). Formats: `../shared/traces/host/FORMATS-kvm-pvm-6.18.md`
 * (current), `../shared/traces/public/FORMATS.md` and spec §1.7 (older), `hyperv-synic-arm-vgic.md` A.8,
 * B.6 (Hyper-V and arm64).
 *
 * Numbers: values that fit in 32 bits are `number`; 64-bit quantities (RIPs, MSR data, exit info,
 * redirection entries, addresses) are `bigint`.
 */
import type { Event as ModelEventValue } from '../model/Event.js'
import type { DeliveryModeName, ShorthandName } from './symbols.js'

// ---------------------------------------------------------------- header

/** The record header every observation carries. */
export interface ObservationHeader {
  /** 1-based physical line of the input file where the record starts. */
  readonly line: number
  /** The task (comm) column, e.g. `CPU 0/KVM`, `<...>`; `undefined` if the poster stripped it. */
  readonly task: string | undefined
  /** The pid (thread id) column. */
  readonly pid: number | undefined
  /** The CPU the event was recorded on. */
  readonly cpu: number | undefined
  /** Seconds, as printed (`ftrace` clock; not wall time). */
  readonly timestamp: number | undefined
  /** The irq-flags column (`d..1.`, `....`), `undefined` when the layout has none (trace-cmd, perf). */
  readonly flags: string | undefined
  /** The tracepoint name without system prefix (`kvm_set_irq`), or the model tag for `ModelEvent`. */
  readonly event: string
  /** The field text as printed (for JSONL/ITF input: the JSON text of the record). */
  readonly raw: string
}

type Obs<Tag extends string, Fields> = ObservationHeader & { readonly _tag: Tag } & Fields

export type Trigger = 'edge' | 'level'
export type DestMode = 'physical' | 'logical'

// ---------------------------------------------------------------- interrupt lines and routing

/** `kvm_set_irq`: `"gsi %u level %d source %d"` (include/trace/events/kvm.h). A GSI line level change or pulse. */
export interface KvmSetIrqFields {
  readonly gsi: number
  readonly level: number
  /** irq_source_id: 0 = KVM_USERSPACE_IRQ_SOURCE_ID (KVM_IRQ_LINE / irqfd), others PIT / assigned devices. */
  readonly source: number
}

/** `kvm_pic_set_irq`: `"chip %u pin %u (%s%s)%s"` (in-kernel 8259, full irqchip only). */
export interface KvmPicSetIrqFields {
  /** 0 = master, 1 = slave. */
  readonly chip: number
  /** 0..7, relative to the chip. */
  readonly pin: number
  /** Bit `pin` of the chip's ELCR: true = level-triggered (printed `level`), false = `edge`. */
  readonly elcr: boolean
  /** Bit `pin` of the chip's IMR: true = masked (printed `|masked`). */
  readonly imr: boolean
  /** The edge was coalesced with one already pending (printed ` (coalesced)`). */
  readonly coalesced: boolean
}

/** The routing fields IOAPIC entries and MSIs print: `dst %x vec %u (%s|%s|%s…)`. */
export interface RoutingFields {
  readonly dst: number
  readonly vec: number
  readonly deliveryMode: DeliveryModeName
  readonly destMode: DestMode
  readonly trigger: Trigger
}

/**
 * `kvm_ioapic_set_irq`: `"pin %u dst %x vec %u (%s|%s|%s%s)%s"`; ≈3.x printed `vec=%u` (`variant: 'vec='`).
 * Traced after `ioapic_service`, so it follows the `kvm_apic_accept_irq` it caused (excerpts 03, 05, 06).
 */
export interface KvmIoapicSetIrqFields extends RoutingFields {
  readonly pin: number
  /** Redirection-entry mask bit 16 (printed `|masked`). */
  readonly masked: boolean
  readonly coalesced: boolean
  /**
   * The redirection entry, reconstructed from the printed fields: vector 7:0, delivery mode 10:8,
   * destination mode 11, trigger 15, mask 16, destination 63:56. Bits 12-14 (delivery status,
   * polarity, remote IRR) and 55:17 are not printed and read as 0.
   */
  readonly e: bigint
  readonly variant?: 'vec='
}

/** `kvm_ioapic_delayed_eoi_inj`: `"dst %x vec %u (%s|%s|%s%s)"`. `e` as in `kvm_ioapic_set_irq`. */
export interface KvmIoapicDelayedEoiInjFields extends RoutingFields {
  readonly masked: boolean
  readonly e: bigint
}

/**
 * `kvm_msi_set_irq`: current `"dst %llx vec %u (%s|%s|%s%s)"`; older kernels `"dst %u vec %x (…)"`
 * (`variant: 'old'`). When the text reads validly both ways with different values (excerpt 07:
 * `dst 65 vec 35`), the current reading is chosen and the other one is given in `alternative`.
 */
export interface KvmMsiSetIrqFields extends RoutingFields {
  /** Redirection hint, address bit 3 (printed `|rh`). */
  readonly redirectionHint: boolean
  /**
   * The MSI address reconstructed: 0xfee00000 | dst[7:0] << 12 | dst[31:8] << 32 (x2APIC extended
   * destination) | logical << 2 | rh << 3.
   */
  readonly address: bigint
  /** The MSI data reconstructed: vector | delivery mode << 8 | trigger << 15 (level-assert bit 14 is not printed: 0). */
  readonly data: number
  readonly variant?: 'old'
  /** The other valid reading of an ambiguous line (the old format's when the current one was chosen). */
  readonly alternative?: { readonly dst: number; readonly vec: number; readonly variant: 'old' | 'current' }
}

// ---------------------------------------------------------------- LAPIC

/**
 * `kvm_apic_ipi`: `"dst %x vec %u (%s|%s|%s|%s|%s)"`: delivery mode, logical/physical,
 * assert/de-assert, level/edge, shorthand. `destId` is the ICR destination as KVM decoded it (full
 * ICR2 in x2APIC mode, bits 31:24 of ICR2 in xAPIC mode).
 */
export interface KvmApicIpiFields {
  readonly destId: number
  readonly vec: number
  readonly deliveryMode: DeliveryModeName
  readonly destMode: DestMode
  /** ICR bit 14 (printed `assert` / `de-assert`). */
  readonly assert: boolean
  readonly trigger: Trigger
  readonly shorthand: ShorthandName
  /** ICR low reconstructed: vec | dm << 8 | logical << 11 | assert << 14 | level << 15 | shorthand << 18 (delivery status bit 12: 0). */
  readonly icrLow: number
}

/**
 * `kvm_apic_accept_irq` / `kvm_apicv_accept_irq`: `"apicid %x vec %u (%s|%s)"`; ≤≈v5.3 appended
 * `" (coalesced)"` (then `coalesced: true`; absent when not printed). `apicid` is the target's vcpu_id.
 */
export interface KvmApicAcceptIrqFields {
  readonly apicid: number
  readonly vec: number
  readonly deliveryMode: DeliveryModeName
  readonly trigger: Trigger
  readonly coalesced?: true
}

/**
 * `kvm_inj_virq`: current `"%s 0x%x%s"` (`IRQ 0x20`, `Soft/INTn 0x20`, ` [reinjected]`, ≈v6.0+);
 * before: `"irq %u"` (`variant: 'irq'`, decimal; `soft`/`reinjected` are then not known and absent).
 */
export interface KvmInjVirqFields {
  readonly vector: number
  readonly soft?: boolean
  readonly reinjected?: boolean
  readonly variant?: 'irq'
}

/** `kvm_inj_exception`: `"%s%s%s%s%s"`: `#GP`, optional ` (0x0)` error code, optional ` [reinjected]`. */
export interface KvmInjExceptionFields {
  /** As printed: `#GP`, `#UD`, … (or a number for an exception without a name). */
  readonly exception: string
  readonly errorCode?: number
  readonly reinjected: boolean
}

/** `kvm_eoi` / `kvm_pv_eoi`: `"apicid %x vector %d"`; `vector` is -1 for an EOI with an empty ISR. */
export interface KvmEoiFields {
  readonly apicid: number
  readonly vector: number
}

/**
 * `kvm_ack_irq`: `"irqchip %s pin %u"` (`PIC master`, `PIC slave`, `IOAPIC`), or `"irqchip %d pin %u"`
 * on architectures without the symbol table (`variant: 'numeric'`).
 */
export interface KvmAckIrqFields {
  readonly irqchip: 'pic-master' | 'pic-slave' | 'ioapic' | 'other'
  /** KVM_IRQCHIP_PIC_MASTER 0, KVM_IRQCHIP_PIC_SLAVE 1, KVM_IRQCHIP_IOAPIC 2. */
  readonly chipId: number
  readonly pin: number
  readonly variant?: 'numeric'
}

/** `kvm_apic`: `"apic_%s %s = 0x%llx"` (≤v5.x `0x%x`): an emulated LAPIC register access. */
export interface KvmApicFields {
  readonly rw: 'read' | 'write'
  /** As printed: `APIC_EOI`, `APIC_ICR`, … or a hex offset for a register without a name. */
  readonly reg: string
  /** The xAPIC register offset (from the name), when known. */
  readonly offset: number | undefined
  readonly value: bigint
}

/** `kvm_msr`: `"msr_%s %x = 0x%llx%s"` (` (#GP)` when the access faulted). */
export interface KvmMsrFields {
  readonly rw: 'read' | 'write'
  readonly msr: number
  readonly data: bigint
  readonly gp: boolean
}

/** `kvm_mmio`: `"mmio %s len %u gpa 0x%llx val 0x%llx"`. */
export interface KvmMmioFields {
  readonly type: 'unsatisfied-read' | 'read' | 'write'
  readonly len: number
  readonly gpa: bigint
  readonly val: bigint
}

/** `kvm_pio`: `"pio_%s at 0x%x size %d count %d val 0x%x %s"`; very old kernels printed no `val` (then absent). */
export interface KvmPioFields {
  readonly rw: 'read' | 'write'
  readonly port: number
  readonly size: number
  readonly count: number
  readonly val?: number
}

// ---------------------------------------------------------------- vCPU run loop

/**
 * `kvm_userspace_exit`: `"reason %s (%d)"`: `KVM_EXIT_IO (2)`, or `restart (4)` / `error (N)` when
 * KVM_RUN returned -EINTR / another negative errno (then `code` is that errno, positive).
 */
export interface KvmUserspaceExitFields {
  readonly reason: string
  readonly code: number
}

/** `kvm_vcpu_wakeup`: `"%s time %lld ns, polling %s"`; older kernels printed no `, polling` part (`valid` absent). */
export interface KvmVcpuWakeupFields {
  /** true = `wait` (scheduled out), false = `poll` (halt-polling caught the event). */
  readonly waited: boolean
  readonly ns: number
  readonly valid?: boolean
}

/**
 * `kvm_apicv_inhibit_changed`: `"%s reason=%u, inhibits=0x%lx"`, since a 2024 patch followed by the
 * names of the set bits (`… inhibits=0x300 IRQWIN|PIT_REINJ`, only when inhibits ≠ 0).
 */
export interface KvmApicvInhibitChangedFields {
  readonly set: boolean
  /** The inhibit reason's bit index. */
  readonly reason: number
  readonly inhibits: number
  /** The names as printed (absent when the kernel printed none); `inhibitNamesOf` gives them by the 6.x table. */
  readonly names?: ReadonlyArray<string>
}

/**
 * `kvm_entry` (x86). Forms: `"vcpu %u"` (≤≈v5.8), `"vcpu %u, rip 0x%lx"`, `"…%s"` with
 * `[immediate exit]` (≈v6.9+), and the 6.18 `"vcpu %u, rip 0x%lx intr_info 0x%08x error_code 0x%08x%s"`.
 */
export interface KvmEntryFields {
  readonly vcpu: number
  readonly rip?: bigint
  readonly intrInfo?: number
  readonly errorCode?: number
  /** Printed `[immediate exit]`. */
  readonly immediateExit?: true
}

/**
 * `kvm_exit` (x86). Forms, told apart by which fields are present:
 * - ≈2.6.3x: `"reason %s rip 0x%lx"` (excerpt 12; lower-case VMX names);
 * - ≤≈v5.15 and libtraceevent's plugin_kvm (trace-cmd, perf, any kernel): `"reason %s rip 0x%lx info %llx %llx"`;
 * - current: `"vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x"`;
 * - 6.18 adds `" requests 0x%016llx"`.
 */
export interface KvmExitFields {
  readonly vcpu?: number
  /** The exit reason as printed, without the VMX ` FAILED_VMENTRY` flag: `EXTERNAL_INTERRUPT`, `vintr`, `GP excp`. */
  readonly reason: string
  /** VMX exit-reason bit 31 (printed ` FAILED_VMENTRY`). */
  readonly failedVmentry?: true
  readonly rip: bigint
  readonly info1?: bigint
  readonly info2?: bigint
  readonly intrInfo?: number
  readonly errorCode?: number
  readonly requests?: bigint
}

/**
 * `kvm_nested_vmexit_inject`: TP_printk `"reason: %s%s%s ext_inf1: 0x%016llx ext_inf2: 0x%016llx ext_int: 0x%08x ext_int_err: 0x%08x"`
 * (excerpt 10), or plugin_kvm's `"reason %s info1 %llx info2 %llx int_info %x int_info_err %x"` (`variant: 'plugin'`, 09, 16).
 */
export interface KvmNestedVmexitInjectFields {
  readonly reason: string
  readonly info1: bigint
  readonly info2: bigint
  readonly intInfo: number
  readonly intInfoErr: number
  readonly variant?: 'plugin'
}

/** `kvm_nested_intr_vmexit`: `"rip: 0x%016llx"`. */
export interface KvmNestedIntrVmexitFields {
  readonly rip: bigint
}

/**
 * `kvm_nested_vmenter` (≈v5.x+): `"rip: 0x%016llx %s: 0x%016llx nested_rip: 0x%016llx int_ctl: 0x%08x event_inj: 0x%08x nested_%s=%s %s: 0x%016llx"`
 * (vmcs/vmcb, ept/npt, y/n, guest_cr3/nested_eptp/nested_cr3).
 */
export interface KvmNestedVmenterFields {
  readonly rip: bigint
  readonly isa: 'vmx' | 'svm'
  /** The VMCS/VMCB12 address. */
  readonly vmcb: bigint
  readonly nestedRip: bigint
  readonly intCtl: number
  readonly eventInj: number
  /** Nested EPT/NPT enabled (`y`). */
  readonly tdp: boolean
  /** guest_cr3 (tdp off), nested_eptp or nested_cr3. */
  readonly pgd: bigint
}

/** `kvm_nested_vmrun` (SVM, before the rename): `"rip: 0x%016llx vmcb: 0x%016llx nrip: 0x%016llx int_ctl: 0x%08x event_inj: 0x%08x npt: %s"`. */
export interface KvmNestedVmrunFields {
  readonly rip: bigint
  readonly vmcb: bigint
  readonly nestedRip: bigint
  readonly intCtl: number
  readonly eventInj: number
  readonly npt: boolean
}

// ---------------------------------------------------------------- Hyper-V SynIC and stimers (hyperv-synic-arm-vgic.md A.8)

/** `kvm_hv_synic_set_irq`: `"vcpu_id %d sint %u vector %d ret %d"`. */
export interface KvmHvSynicSetIrqFields {
  readonly vcpuId: number
  readonly sint: number
  readonly vector: number
  readonly ret: number
}
/** `kvm_hv_synic_send_eoi`: `"vcpu_id %d vector %d"`. */
export interface KvmHvSynicSendEoiFields {
  readonly vcpuId: number
  readonly vector: number
}
/** `kvm_hv_synic_set_msr`: `"vcpu_id %d msr 0x%x data 0x%llx host %d"`. */
export interface KvmHvSynicSetMsrFields {
  readonly vcpuId: number
  readonly msr: number
  readonly data: bigint
  readonly host: boolean
}
/** `kvm_hv_notify_acked_sint`: `"vcpu_id %d sint %u"`. */
export interface KvmHvNotifyAckedSintFields {
  readonly vcpuId: number
  readonly sint: number
}
/** `kvm_hv_stimer_set_config`: `"vcpu_id %d timer %d config 0x%llx host %d"`. */
export interface KvmHvStimerSetConfigFields {
  readonly vcpuId: number
  readonly timer: number
  readonly config: bigint
  readonly host: boolean
}
/** `kvm_hv_stimer_set_count`: `"vcpu_id %d timer %d count %llu host %d"`. */
export interface KvmHvStimerSetCountFields {
  readonly vcpuId: number
  readonly timer: number
  readonly count: bigint
  readonly host: boolean
}
/** `kvm_hv_stimer_start_periodic`: `"vcpu_id %d timer %d time_now %llu exp_time %llu"`. */
export interface KvmHvStimerStartPeriodicFields {
  readonly vcpuId: number
  readonly timer: number
  readonly timeNow: bigint
  readonly expTime: bigint
}
/** `kvm_hv_stimer_start_one_shot`: `"vcpu_id %d timer %d time_now %llu count %llu"`. */
export interface KvmHvStimerStartOneShotFields {
  readonly vcpuId: number
  readonly timer: number
  readonly timeNow: bigint
  readonly count: bigint
}
/** `kvm_hv_stimer_callback` / `kvm_hv_stimer_cleanup`: `"vcpu_id %d timer %d"`. */
export interface KvmHvStimerFields {
  readonly vcpuId: number
  readonly timer: number
}
/** `kvm_hv_stimer_expiration`: `"vcpu_id %d timer %d direct %d send result %d"`. */
export interface KvmHvStimerExpirationFields {
  readonly vcpuId: number
  readonly timer: number
  readonly direct: boolean
  /** 0 = delivered; -11 -EAGAIN (slot busy), -2 -ENOENT (SIMP off / SINT masked), -14 -EFAULT. */
  readonly sendResult: number
}

// ---------------------------------------------------------------- KVM ioctls (syscalls:sys_enter_ioctl)

/** `sys_enter_ioctl`: `"fd: 0x%08lx, cmd: 0x%08lx, arg: 0x%08lx"`. */
export interface SysEnterIoctlFields {
  readonly fd: number
  readonly cmd: number
  readonly arg: bigint
  /** The KVM ioctl name (`KVM_RUN`, `KVM_INTERRUPT`, …) when `cmd` is a known KVM request. */
  readonly name: string | undefined
}
/** `sys_exit_ioctl`: `"0x%lx"`: the return value, as a signed number (-4 = -EINTR). */
export interface SysExitIoctlFields {
  readonly ret: number
}

// ---------------------------------------------------------------- arm64 (hyperv-synic-arm-vgic.md B.6)

/** arm64 `kvm_entry`: `"PC: 0x%016lx"`. */
export interface KvmEntryArm64Fields {
  readonly pc: bigint
}
/** arm64 `kvm_exit`: `"%s: HSR_EC: 0x%04x (%s), PC: 0x%016lx"` (exception type, ESR_EC and its name). */
export interface KvmExitArm64Fields {
  /** `IRQ`, `TRAP`, `HYP_GONE`, … */
  readonly exceptionType: string
  readonly esrEc: number
  readonly esrEcName: string
  readonly pc: bigint
}
/** `vgic_update_irq_pending`: `"VCPU: %ld, IRQ %d, level: %d"` (traced before validation). */
export interface VgicUpdateIrqPendingFields {
  readonly vcpu: number
  readonly irq: number
  readonly level: number
}
/** `kvm_timer_update_irq`: `"VCPU: %ld, IRQ %d, level %d"`. */
export interface KvmTimerUpdateIrqFields {
  readonly vcpu: number
  readonly irq: number
  readonly level: number
}
/** `kvm_irq_line` (arm64 KVM_IRQ_LINE): `"Inject %s interrupt (%d), vcpu->idx: %d, num: %d, level: %d"`. */
export interface KvmIrqLineFields {
  /** `CPU`, `VGIC PPI`, `VGIC SPI` or `UNKNOWN`. */
  readonly irqType: string
  readonly typeId: number
  readonly vcpuIdx: number
  readonly num: number
  readonly level: number
}
/** `kvm_get_timer_map`: `"VCPU: %ld, dv: %d, dp: %d, ep: %d"` (-1 = absent). */
export interface KvmGetTimerMapFields {
  readonly vcpu: number
  readonly directVtimer: number
  readonly directPtimer: number
  readonly emulPtimer: number
}
/** `kvm_timer_save_state` / `kvm_timer_restore_state`: `"CTL: %#08lx CVAL: %#16llx arch_timer_ctx_index: %d"`. */
export interface KvmTimerStateFields {
  readonly ctl: number
  readonly cval: bigint
  readonly timerIndex: number
}
/** `kvm_timer_hrtimer_expire`: `"arch_timer_ctx_index: %d"`. */
export interface KvmTimerHrtimerExpireFields {
  readonly timerIndex: number
}
/** `kvm_timer_emulate`: `"arch_timer_ctx_index: %d (should_fire: %d)"`. */
export interface KvmTimerEmulateFields {
  readonly timerIndex: number
  readonly shouldFire: boolean
}
/** `kvm_wfx_arm64`: `"guest executed wf%c at: 0x%016lx"` (newer kernels: `wfit`/`wfet` too). */
export interface KvmWfxArm64Fields {
  readonly instruction: 'wfi' | 'wfe' | 'wfit' | 'wfet'
  readonly pc: bigint
}

// ---------------------------------------------------------------- non-tracepoint variants

/** A virq model event given directly (JSONL `{"_tag": …}` line or ITF state). */
export interface ModelEventFields {
  readonly modelEvent: ModelEventValue
}

/**
 * The input says events are missing at this point: an elision line (`...`, `[...]`, `<snip>`) in a
 * pasted excerpt, `CPU:n [LOST m EVENTS]` / `##### CPU n buffer started ####` from the ring buffer.
 * A validator must not assume the observations before and after are consecutive.
 */
export interface TraceGapFields {
  /** blank-line: a blank line between records (ftrace never prints one: a poster joined two excerpts there). */
  readonly reason: 'elision' | 'lost-events' | 'buffer-started' | 'blank-line'
  /** For lost events: how many, when printed. */
  readonly lost?: number
}

// ---------------------------------------------------------------- the union

export type KvmSetIrq = Obs<'KvmSetIrq', KvmSetIrqFields>
export type KvmPicSetIrq = Obs<'KvmPicSetIrq', KvmPicSetIrqFields>
export type KvmIoapicSetIrq = Obs<'KvmIoapicSetIrq', KvmIoapicSetIrqFields>
export type KvmIoapicDelayedEoiInj = Obs<'KvmIoapicDelayedEoiInj', KvmIoapicDelayedEoiInjFields>
export type KvmMsiSetIrq = Obs<'KvmMsiSetIrq', KvmMsiSetIrqFields>
export type KvmApicIpi = Obs<'KvmApicIpi', KvmApicIpiFields>
export type KvmApicAcceptIrq = Obs<'KvmApicAcceptIrq', KvmApicAcceptIrqFields>
export type KvmApicvAcceptIrq = Obs<'KvmApicvAcceptIrq', KvmApicAcceptIrqFields>
export type KvmInjVirq = Obs<'KvmInjVirq', KvmInjVirqFields>
export type KvmInjException = Obs<'KvmInjException', KvmInjExceptionFields>
export type KvmEoi = Obs<'KvmEoi', KvmEoiFields>
export type KvmPvEoi = Obs<'KvmPvEoi', KvmEoiFields>
export type KvmAckIrq = Obs<'KvmAckIrq', KvmAckIrqFields>
export type KvmApic = Obs<'KvmApic', KvmApicFields>
export type KvmMsr = Obs<'KvmMsr', KvmMsrFields>
export type KvmMmio = Obs<'KvmMmio', KvmMmioFields>
export type KvmPio = Obs<'KvmPio', KvmPioFields>
export type KvmUserspaceExit = Obs<'KvmUserspaceExit', KvmUserspaceExitFields>
export type KvmVcpuWakeup = Obs<'KvmVcpuWakeup', KvmVcpuWakeupFields>
export type KvmApicvInhibitChanged = Obs<'KvmApicvInhibitChanged', KvmApicvInhibitChangedFields>
export type KvmEntry = Obs<'KvmEntry', KvmEntryFields>
export type KvmExit = Obs<'KvmExit', KvmExitFields>
export type KvmNestedVmexitInject = Obs<'KvmNestedVmexitInject', KvmNestedVmexitInjectFields>
export type KvmNestedIntrVmexit = Obs<'KvmNestedIntrVmexit', KvmNestedIntrVmexitFields>
export type KvmNestedVmenter = Obs<'KvmNestedVmenter', KvmNestedVmenterFields>
export type KvmNestedVmrun = Obs<'KvmNestedVmrun', KvmNestedVmrunFields>
export type KvmHvSynicSetIrq = Obs<'KvmHvSynicSetIrq', KvmHvSynicSetIrqFields>
export type KvmHvSynicSendEoi = Obs<'KvmHvSynicSendEoi', KvmHvSynicSendEoiFields>
export type KvmHvSynicSetMsr = Obs<'KvmHvSynicSetMsr', KvmHvSynicSetMsrFields>
export type KvmHvNotifyAckedSint = Obs<'KvmHvNotifyAckedSint', KvmHvNotifyAckedSintFields>
export type KvmHvStimerSetConfig = Obs<'KvmHvStimerSetConfig', KvmHvStimerSetConfigFields>
export type KvmHvStimerSetCount = Obs<'KvmHvStimerSetCount', KvmHvStimerSetCountFields>
export type KvmHvStimerStartPeriodic = Obs<'KvmHvStimerStartPeriodic', KvmHvStimerStartPeriodicFields>
export type KvmHvStimerStartOneShot = Obs<'KvmHvStimerStartOneShot', KvmHvStimerStartOneShotFields>
export type KvmHvStimerCallback = Obs<'KvmHvStimerCallback', KvmHvStimerFields>
export type KvmHvStimerExpiration = Obs<'KvmHvStimerExpiration', KvmHvStimerExpirationFields>
export type KvmHvStimerCleanup = Obs<'KvmHvStimerCleanup', KvmHvStimerFields>
export type SysEnterIoctl = Obs<'SysEnterIoctl', SysEnterIoctlFields>
export type SysExitIoctl = Obs<'SysExitIoctl', SysExitIoctlFields>
export type KvmEntryArm64 = Obs<'KvmEntryArm64', KvmEntryArm64Fields>
export type KvmExitArm64 = Obs<'KvmExitArm64', KvmExitArm64Fields>
export type VgicUpdateIrqPending = Obs<'VgicUpdateIrqPending', VgicUpdateIrqPendingFields>
export type KvmTimerUpdateIrq = Obs<'KvmTimerUpdateIrq', KvmTimerUpdateIrqFields>
export type KvmIrqLine = Obs<'KvmIrqLine', KvmIrqLineFields>
export type KvmGetTimerMap = Obs<'KvmGetTimerMap', KvmGetTimerMapFields>
export type KvmTimerSaveState = Obs<'KvmTimerSaveState', KvmTimerStateFields>
export type KvmTimerRestoreState = Obs<'KvmTimerRestoreState', KvmTimerStateFields>
export type KvmTimerHrtimerExpire = Obs<'KvmTimerHrtimerExpire', KvmTimerHrtimerExpireFields>
export type KvmTimerEmulate = Obs<'KvmTimerEmulate', KvmTimerEmulateFields>
export type KvmWfxArm64 = Obs<'KvmWfxArm64', KvmWfxArm64Fields>
export type ModelEvent = Obs<'ModelEvent', ModelEventFields>
export type TraceGap = Obs<'TraceGap', TraceGapFields>

/** Every observation a reader can produce. @category models */
export type Observation =
  | KvmSetIrq | KvmPicSetIrq | KvmIoapicSetIrq | KvmIoapicDelayedEoiInj | KvmMsiSetIrq
  | KvmApicIpi | KvmApicAcceptIrq | KvmApicvAcceptIrq | KvmInjVirq | KvmInjException | KvmEoi | KvmPvEoi
  | KvmAckIrq | KvmApic | KvmMsr | KvmMmio | KvmPio
  | KvmUserspaceExit | KvmVcpuWakeup | KvmApicvInhibitChanged | KvmEntry | KvmExit
  | KvmNestedVmexitInject | KvmNestedIntrVmexit | KvmNestedVmenter | KvmNestedVmrun
  | KvmHvSynicSetIrq | KvmHvSynicSendEoi | KvmHvSynicSetMsr | KvmHvNotifyAckedSint
  | KvmHvStimerSetConfig | KvmHvStimerSetCount | KvmHvStimerStartPeriodic | KvmHvStimerStartOneShot
  | KvmHvStimerCallback | KvmHvStimerExpiration | KvmHvStimerCleanup
  | SysEnterIoctl | SysExitIoctl
  | KvmEntryArm64 | KvmExitArm64 | VgicUpdateIrqPending | KvmTimerUpdateIrq | KvmIrqLine | KvmGetTimerMap
  | KvmTimerSaveState | KvmTimerRestoreState | KvmTimerHrtimerExpire | KvmTimerEmulate | KvmWfxArm64
  | ModelEvent | TraceGap

export type ObservationTag = Observation['_tag']
export type ObservationOf<T extends ObservationTag> = Extract<Observation, { readonly _tag: T }>
/** The decoded fields of a variant (without header and `_tag`). */
export type FieldsOf<T extends ObservationTag> = Omit<ObservationOf<T>, keyof ObservationHeader | '_tag'>

/**
 * Tracepoint name of each tracepoint variant. `kvm_entry`/`kvm_exit` have an x86 and an arm64 form;
 * the decoder tells them apart by the text.
 */
export const tracepointOf = {
  KvmSetIrq: 'kvm_set_irq',
  KvmPicSetIrq: 'kvm_pic_set_irq',
  KvmIoapicSetIrq: 'kvm_ioapic_set_irq',
  KvmIoapicDelayedEoiInj: 'kvm_ioapic_delayed_eoi_inj',
  KvmMsiSetIrq: 'kvm_msi_set_irq',
  KvmApicIpi: 'kvm_apic_ipi',
  KvmApicAcceptIrq: 'kvm_apic_accept_irq',
  KvmApicvAcceptIrq: 'kvm_apicv_accept_irq',
  KvmInjVirq: 'kvm_inj_virq',
  KvmInjException: 'kvm_inj_exception',
  KvmEoi: 'kvm_eoi',
  KvmPvEoi: 'kvm_pv_eoi',
  KvmAckIrq: 'kvm_ack_irq',
  KvmApic: 'kvm_apic',
  KvmMsr: 'kvm_msr',
  KvmMmio: 'kvm_mmio',
  KvmPio: 'kvm_pio',
  KvmUserspaceExit: 'kvm_userspace_exit',
  KvmVcpuWakeup: 'kvm_vcpu_wakeup',
  KvmApicvInhibitChanged: 'kvm_apicv_inhibit_changed',
  KvmEntry: 'kvm_entry',
  KvmExit: 'kvm_exit',
  KvmNestedVmexitInject: 'kvm_nested_vmexit_inject',
  KvmNestedIntrVmexit: 'kvm_nested_intr_vmexit',
  KvmNestedVmenter: 'kvm_nested_vmenter',
  KvmNestedVmrun: 'kvm_nested_vmrun',
  KvmHvSynicSetIrq: 'kvm_hv_synic_set_irq',
  KvmHvSynicSendEoi: 'kvm_hv_synic_send_eoi',
  KvmHvSynicSetMsr: 'kvm_hv_synic_set_msr',
  KvmHvNotifyAckedSint: 'kvm_hv_notify_acked_sint',
  KvmHvStimerSetConfig: 'kvm_hv_stimer_set_config',
  KvmHvStimerSetCount: 'kvm_hv_stimer_set_count',
  KvmHvStimerStartPeriodic: 'kvm_hv_stimer_start_periodic',
  KvmHvStimerStartOneShot: 'kvm_hv_stimer_start_one_shot',
  KvmHvStimerCallback: 'kvm_hv_stimer_callback',
  KvmHvStimerExpiration: 'kvm_hv_stimer_expiration',
  KvmHvStimerCleanup: 'kvm_hv_stimer_cleanup',
  SysEnterIoctl: 'sys_enter_ioctl',
  SysExitIoctl: 'sys_exit_ioctl',
  KvmEntryArm64: 'kvm_entry',
  KvmExitArm64: 'kvm_exit',
  VgicUpdateIrqPending: 'vgic_update_irq_pending',
  KvmTimerUpdateIrq: 'kvm_timer_update_irq',
  KvmIrqLine: 'kvm_irq_line',
  KvmGetTimerMap: 'kvm_get_timer_map',
  KvmTimerSaveState: 'kvm_timer_save_state',
  KvmTimerRestoreState: 'kvm_timer_restore_state',
  KvmTimerHrtimerExpire: 'kvm_timer_hrtimer_expire',
  KvmTimerEmulate: 'kvm_timer_emulate',
  KvmWfxArm64: 'kvm_wfx_arm64',
} as const satisfies Record<Exclude<ObservationTag, 'ModelEvent' | 'TraceGap'>, string>

export type TracepointTag = keyof typeof tracepointOf
export const tracepointTags = Object.keys(tracepointOf) as ReadonlyArray<TracepointTag>
/** The tracepoint names the decoders know (a known event with bad fields is an error; others are counted and skipped). */
export const knownEvents: ReadonlySet<string> = new Set(Object.values(tracepointOf))

/** @category guards */
export const isObservationOf = <T extends ObservationTag>(tag: T) => (o: Observation): o is ObservationOf<T> => o._tag === tag
