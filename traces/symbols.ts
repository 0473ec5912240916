/**
 * Symbol tables that KVM tracepoints print through `__print_symbolic` / `__print_flags`, and the KVM
 * ioctl numbers, used to decode and re-print trace fields.
 *
 * Sources (read, verbatim):
 * - `../shared/traces/host/FORMATS-kvm-pvm-6.18.md`: the `events/kvm/<name>/format` files of a 6.18 host
 *   (`kvm_deliver_mode`, APIC register names of `kvm_apic`, `VMX_EXIT_REASONS`/`SVM_EXIT_REASONS` of
 *   `kvm_exit`, `kvm_trace_exit_reason` of `kvm_userspace_exit`, the APICv inhibit names).
 * - `../shared/spec/x86-split-irqchip-intx-ipiv.md` §1.8 for the ioctl numbers
 *   (`_IOC(dir,type,nr,size) = dir<<30 | size<<16 | type<<8 | nr`, KVMIO = 0xAE).
 */

// ---------------------------------------------------------------- delivery modes

/** `kvm_deliver_mode` (include/trace/events/kvm.h), indexed by the 3-bit delivery mode. */
export const deliveryModes = ['Fixed', 'LowPrio', 'SMI', 'Res3', 'NMI', 'INIT', 'SIPI', 'ExtINT'] as const
export type DeliveryModeName = (typeof deliveryModes)[number]

export const deliveryModeCode = (m: DeliveryModeName): number => deliveryModes.indexOf(m)
export const isDeliveryMode = (s: string): s is DeliveryModeName => (deliveryModes as ReadonlyArray<string>).includes(s)

/** `kvm_apic_dst_shorthand` (arch/x86/kvm/trace.h), ICR bits 19:18. */
export const shorthands = ['dst', 'self', 'all', 'all-but-self'] as const
export type ShorthandName = (typeof shorthands)[number]

// ---------------------------------------------------------------- APIC registers (kvm_apic)

/** `kvm_trace_symbol_apic`: xAPIC register offset -> name as printed (`APIC_` prefix included). */
export const apicRegisters: ReadonlyArray<readonly [number, string]> = [
  [0x20, 'APIC_ID'], [0x30, 'APIC_LVR'], [0x80, 'APIC_TASKPRI'], [0x90, 'APIC_ARBPRI'], [0xa0, 'APIC_PROCPRI'],
  [0xb0, 'APIC_EOI'], [0xc0, 'APIC_RRR'], [0xd0, 'APIC_LDR'], [0xe0, 'APIC_DFR'], [0xf0, 'APIC_SPIV'],
  [0x100, 'APIC_ISR'], [0x180, 'APIC_TMR'], [0x200, 'APIC_IRR'], [0x280, 'APIC_ESR'], [0x300, 'APIC_ICR'],
  [0x310, 'APIC_ICR2'], [0x320, 'APIC_LVTT'], [0x330, 'APIC_LVTTHMR'], [0x340, 'APIC_LVTPC'], [0x350, 'APIC_LVT0'],
  [0x360, 'APIC_LVT1'], [0x370, 'APIC_LVTERR'], [0x380, 'APIC_TMICT'], [0x390, 'APIC_TMCCT'], [0x3e0, 'APIC_TDCR'],
  [0x3f0, 'APIC_SELF_IPI'], [0x400, 'APIC_EFEAT'], [0x410, 'APIC_ECTRL'],
]
const apicOffsetByName = new Map(apicRegisters.map(([o, n]) => [n, o] as const))
export const apicRegisterOffset = (name: string): number | undefined => apicOffsetByName.get(name)

// ---------------------------------------------------------------- VM exit reasons (kvm_exit)

/** `VMX_EXIT_REASONS` (arch/x86/include/uapi/asm/vmx.h as printed by a 6.18 host), basic exit reason -> name. */
export const vmxExitReasons: ReadonlyArray<readonly [number, string]> = [
  [0, 'EXCEPTION_NMI'], [1, 'EXTERNAL_INTERRUPT'], [2, 'TRIPLE_FAULT'], [3, 'INIT_SIGNAL'], [4, 'SIPI_SIGNAL'],
  [7, 'INTERRUPT_WINDOW'], [8, 'NMI_WINDOW'], [9, 'TASK_SWITCH'], [10, 'CPUID'], [12, 'HLT'], [13, 'INVD'],
  [14, 'INVLPG'], [15, 'RDPMC'], [16, 'RDTSC'], [18, 'VMCALL'], [19, 'VMCLEAR'], [20, 'VMLAUNCH'], [21, 'VMPTRLD'],
  [22, 'VMPTRST'], [23, 'VMREAD'], [24, 'VMRESUME'], [25, 'VMWRITE'], [26, 'VMOFF'], [27, 'VMON'], [28, 'CR_ACCESS'],
  [29, 'DR_ACCESS'], [30, 'IO_INSTRUCTION'], [31, 'MSR_READ'], [32, 'MSR_WRITE'], [33, 'INVALID_STATE'],
  [34, 'MSR_LOAD_FAIL'], [36, 'MWAIT_INSTRUCTION'], [37, 'MONITOR_TRAP_FLAG'], [39, 'MONITOR_INSTRUCTION'],
  [40, 'PAUSE_INSTRUCTION'], [41, 'MCE_DURING_VMENTRY'], [43, 'TPR_BELOW_THRESHOLD'], [44, 'APIC_ACCESS'],
  [45, 'EOI_INDUCED'], [46, 'GDTR_IDTR'], [47, 'LDTR_TR'], [48, 'EPT_VIOLATION'], [49, 'EPT_MISCONFIG'],
  [50, 'INVEPT'], [51, 'RDTSCP'], [52, 'PREEMPTION_TIMER'], [53, 'INVVPID'], [54, 'WBINVD'], [55, 'XSETBV'],
  [56, 'APIC_WRITE'], [57, 'RDRAND'], [58, 'INVPCID'], [59, 'VMFUNC'], [60, 'ENCLS'], [61, 'RDSEED'],
  [62, 'PML_FULL'], [63, 'XSAVES'], [64, 'XRSTORS'], [67, 'UMWAIT'], [68, 'TPAUSE'], [74, 'BUS_LOCK'],
  [75, 'NOTIFY'], [77, 'TDCALL'], [84, 'MSR_READ_IMM'], [85, 'MSR_WRITE_IMM'],
  // older name of exit reason 7, printed by kernels before the rename and by libtraceevent's plugin_kvm
  [7, 'PENDING_INTERRUPT'],
]

/** `SVM_EXIT_REASONS` (arch/x86/include/uapi/asm/svm.h as printed by a 6.18 host), exit code -> name. */
export const svmExitReasons: ReadonlyArray<readonly [number, string]> = [
  [0x000, 'read_cr0'], [0x002, 'read_cr2'], [0x003, 'read_cr3'], [0x004, 'read_cr4'], [0x008, 'read_cr8'],
  [0x010, 'write_cr0'], [0x012, 'write_cr2'], [0x013, 'write_cr3'], [0x014, 'write_cr4'], [0x018, 'write_cr8'],
  [0x020, 'read_dr0'], [0x021, 'read_dr1'], [0x022, 'read_dr2'], [0x023, 'read_dr3'], [0x024, 'read_dr4'],
  [0x025, 'read_dr5'], [0x026, 'read_dr6'], [0x027, 'read_dr7'], [0x030, 'write_dr0'], [0x031, 'write_dr1'],
  [0x032, 'write_dr2'], [0x033, 'write_dr3'], [0x034, 'write_dr4'], [0x035, 'write_dr5'], [0x036, 'write_dr6'],
  [0x037, 'write_dr7'], [0x040, 'DE excp'], [0x041, 'DB excp'], [0x043, 'BP excp'], [0x044, 'OF excp'],
  [0x045, 'BR excp'], [0x046, 'UD excp'], [0x047, 'NM excp'], [0x048, 'DF excp'], [0x04a, 'TS excp'],
  [0x04b, 'NP excp'], [0x04c, 'SS excp'], [0x04d, 'GP excp'], [0x04e, 'PF excp'], [0x050, 'MF excp'],
  [0x051, 'AC excp'], [0x052, 'MC excp'], [0x053, 'XF excp'], [0x060, 'interrupt'], [0x061, 'nmi'], [0x062, 'smi'],
  [0x063, 'init'], [0x064, 'vintr'], [0x065, 'cr0_sel_write'], [0x066, 'read_idtr'], [0x067, 'read_gdtr'],
  [0x068, 'read_ldtr'], [0x069, 'read_rt'], [0x06a, 'write_idtr'], [0x06b, 'write_gdtr'], [0x06c, 'write_ldtr'],
  [0x06d, 'write_rt'], [0x06e, 'rdtsc'], [0x06f, 'rdpmc'], [0x070, 'pushf'], [0x071, 'popf'], [0x072, 'cpuid'],
  [0x073, 'rsm'], [0x074, 'iret'], [0x075, 'swint'], [0x076, 'invd'], [0x077, 'pause'], [0x078, 'hlt'],
  [0x079, 'invlpg'], [0x07a, 'invlpga'], [0x07b, 'io'], [0x07c, 'msr'], [0x07d, 'task_switch'],
  [0x07e, 'ferr_freeze'], [0x07f, 'shutdown'], [0x080, 'vmrun'], [0x081, 'hypercall'], [0x082, 'vmload'],
  [0x083, 'vmsave'], [0x084, 'stgi'], [0x085, 'clgi'], [0x086, 'skinit'], [0x087, 'rdtscp'], [0x088, 'icebp'],
  [0x089, 'wbinvd'], [0x08a, 'monitor'], [0x08b, 'mwait'], [0x08d, 'xsetbv'], [0x08f, 'write_efer_trap'],
  [0x090, 'write_cr0_trap'], [0x094, 'write_cr4_trap'], [0x098, 'write_cr8_trap'], [0x0a2, 'invpcid'],
  [0x0a5, 'buslock'], [0x0a6, 'idle-halt'], [0x400, 'npf'], [0x401, 'avic_incomplete_ipi'],
  [0x402, 'avic_unaccelerated_access'], [0x403, 'vmgexit'], [-1, 'invalid_guest_state'],
]

const vmxNames = new Set(vmxExitReasons.map(([, n]) => n))
const svmNames = new Set(svmExitReasons.map(([, n]) => n))

/**
 * The vendor module an exit-reason string belongs to, or `undefined` when the string does not tell.
 *
 * - Upper-case VMX names (`EXTERNAL_INTERRUPT`, `EPT_VIOLATION`, …) are VMX: current kernels and
 *   libtraceevent's plugin_kvm print them so.
 * - Lower-case names of the SVM table (`vintr`, `msr`, `npf`, `vmrun`, …) are SVM, unless the same
 *   lower-case string is also a very old (≈2.6.3x) VMX name, which were lower-case too (`apic_access`,
 *   `io_instruction`: excerpt 12). A lower-case string that is a VMX name but not an SVM name is VMX;
 *   one in both tables (`hlt`, `cpuid`, `invlpg`, `rdtsc`, …) does not tell.
 * - libtraceevent prints SVM exits as `EXIT_…` names (INDEX.md note on excerpt 04/16).
 */
export const exitReasonVendor = (reason: string): 'vmx' | 'svm' | undefined => {
  const base = reason.split(' FAILED_VMENTRY')[0] ?? reason
  if (vmxNames.has(base)) return 'vmx'
  if (base.startsWith('EXIT_')) return 'svm'
  const inSvm = svmNames.has(base)
  const inVmx = vmxNames.has(base.toUpperCase())
  if (inSvm && !inVmx) return 'svm'
  if (inVmx && !inSvm) return 'vmx'
  return undefined
}

// ---------------------------------------------------------------- userspace exit reasons

/** `kvm_trace_exit_reason` (include/trace/events/kvm.h, 6.18): KVM_EXIT_* number -> printed name. */
export const kvmExitReasons: ReadonlyArray<string> = [
  'KVM_EXIT_UNKNOWN', 'KVM_EXIT_EXCEPTION', 'KVM_EXIT_IO', 'KVM_EXIT_HYPERCALL', 'KVM_EXIT_DEBUG', 'KVM_EXIT_HLT',
  'KVM_EXIT_MMIO', 'KVM_EXIT_IRQ_WINDOW_OPEN', 'KVM_EXIT_SHUTDOWN', 'KVM_EXIT_FAIL_ENTRY', 'KVM_EXIT_INTR',
  'KVM_EXIT_SET_TPR', 'KVM_EXIT_TPR_ACCESS', 'KVM_EXIT_S390_SIEIC', 'KVM_EXIT_S390_RESET', 'KVM_EXIT_DCR',
  'KVM_EXIT_NMI', 'KVM_EXIT_INTERNAL_ERROR', 'KVM_EXIT_OSI', 'KVM_EXIT_PAPR_HCALL', 'KVM_EXIT_S390_UCONTROL',
  'KVM_EXIT_WATCHDOG', 'KVM_EXIT_S390_TSCH', 'KVM_EXIT_EPR', 'KVM_EXIT_SYSTEM_EVENT', 'KVM_EXIT_S390_STSI',
  'KVM_EXIT_IOAPIC_EOI', 'KVM_EXIT_HYPERV', 'KVM_EXIT_ARM_NISV', 'KVM_EXIT_X86_RDMSR', 'KVM_EXIT_X86_WRMSR',
]

// ---------------------------------------------------------------- APICv inhibit reasons

/**
 * `enum kvm_apicv_inhibit` bit names in the order of a 6.x kernel (the `__print_flags` list of the 6.18
 * `kvm_apicv_inhibit_changed` format). Excerpts 18-21 agree: reason 2 = 0x4 ABSENT, 8 = 0x100 IRQWIN,
 * 9 = 0x200 PIT_REINJ, 0 = 0x1 DISABLED. Older kernels numbered differently; use printed names when present.
 */
export const apicvInhibitNames: ReadonlyArray<string> = [
  'DISABLED', 'HYPERV', 'ABSENT', 'BLOCKIRQ', 'PHYSICAL_ID_ALIASED', 'APIC_ID_MODIFIED', 'APIC_BASE_MODIFIED',
  'NESTED', 'IRQWIN', 'PIT_REINJ', 'SEV', 'LOGICAL_ID_ALIASED', 'PHYSICAL_ID_TOO_BIG',
]

/** Names of the bits set in `inhibits`, by the 6.x table (unknown bits as `bitN`). */
export const inhibitNamesOf = (inhibits: number): ReadonlyArray<string> => {
  const out: string[] = []
  for (let b = 0; b < 53; b++) {
    if (Math.floor(inhibits / 2 ** b) % 2 === 1) out.push(apicvInhibitNames[b] ?? `bit${b}`)
  }
  return out
}

// ---------------------------------------------------------------- kvm_ack_irq irqchips

/** `kvm_irqchips` (include/trace/events/kvm.h): KVM_IRQCHIP_PIC_MASTER 0, _PIC_SLAVE 1, _IOAPIC 2. */
export const irqchipNames: ReadonlyArray<string> = ['PIC master', 'PIC slave', 'IOAPIC']

// ---------------------------------------------------------------- KVM ioctls

const IOC = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (0xae << 8) | nr) >>> 0
const NONE = 0
const W = 1
const R = 2
const RW = 3

/**
 * KVM ioctl request numbers -> names. The first group is from spec §1.8 (computed there from
 * `_IOC`); the second is computed here from `_IOC` with the struct sizes of include/uapi/linux/kvm.h
 * (x86-64): kvm_userspace_memory_region 32 B, kvm_regs 144 B, kvm_sregs 312 B, kvm_pit_config 64 B,
 * kvm_ioeventfd 64 B.
 */
export const kvmIoctls: ReadonlyArray<readonly [number, string]> = [
  [IOC(NONE, 0x60, 0), 'KVM_CREATE_IRQCHIP'],
  [IOC(W, 0x61, 8), 'KVM_IRQ_LINE'],
  [IOC(RW, 0x67, 8), 'KVM_IRQ_LINE_STATUS'],
  [IOC(W, 0x6a, 8), 'KVM_SET_GSI_ROUTING'],
  [IOC(W, 0x76, 32), 'KVM_IRQFD'],
  [IOC(W, 0xa3, 104), 'KVM_ENABLE_CAP'],
  [IOC(W, 0xa5, 32), 'KVM_SIGNAL_MSI'],
  [IOC(NONE, 0x80, 0), 'KVM_RUN'],
  [IOC(W, 0x86, 4), 'KVM_INTERRUPT'],
  [IOC(R, 0x8e, 1024), 'KVM_GET_LAPIC'],
  [IOC(W, 0x8f, 1024), 'KVM_SET_LAPIC'],
  // computed here
  [IOC(NONE, 0x00, 0), 'KVM_GET_API_VERSION'],
  [IOC(NONE, 0x01, 0), 'KVM_CREATE_VM'],
  [IOC(NONE, 0x03, 0), 'KVM_CHECK_EXTENSION'],
  [IOC(NONE, 0x04, 0), 'KVM_GET_VCPU_MMAP_SIZE'],
  [IOC(NONE, 0x41, 0), 'KVM_CREATE_VCPU'],
  [IOC(W, 0x46, 32), 'KVM_SET_USER_MEMORY_REGION'],
  [IOC(NONE, 0x47, 0), 'KVM_SET_TSS_ADDR'],
  [IOC(W, 0x77, 64), 'KVM_CREATE_PIT2'],
  [IOC(W, 0x79, 64), 'KVM_IOEVENTFD'],
  [IOC(R, 0x81, 144), 'KVM_GET_REGS'],
  [IOC(W, 0x82, 144), 'KVM_SET_REGS'],
  [IOC(R, 0x83, 312), 'KVM_GET_SREGS'],
  [IOC(W, 0x84, 312), 'KVM_SET_SREGS'],
  [IOC(NONE, 0x9a, 0), 'KVM_NMI'],
]
const ioctlByCmd = new Map(kvmIoctls)
const ioctlByName = new Map(kvmIoctls.map(([c, n]) => [n, c] as const))
/** The KVM ioctl name of a request number, or `undefined`. */
export const kvmIoctlName = (cmd: number): string | undefined => ioctlByCmd.get(cmd >>> 0)
/** The request number of a KVM ioctl name, or `undefined`. */
export const kvmIoctlCmd = (name: string): number | undefined => ioctlByName.get(name)
