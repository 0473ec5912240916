/**
 * What a trace reveals about the host that recorded it: the vendor module, split vs in-kernel
 * irqchip, APICv state, kernel version; and which format variant each event was printed in.
 *
 * The validator needs these to know which steps are invisible (issue 5: "Use what the trace says
 * about the host … to know which steps are invisible and which are always traced"). Every fact comes
 * with the first line that showed it (`evidence`), and contradicting evidence is reported in
 * `conflicts` instead of being resolved silently (excerpt 16 holds an in-kernel and a split-irqchip
 * trace in one file).
 *
 * Sources of evidence:
 * - `# key: value` header lines, as our capture harness writes them (`# kernel: 6.18.44…`,
 *   `# vendor: pvm` or `# module: kvm_pvm`, `# irqchip: split|kernel`, `# apicv: on|off`). Headers
 *   are authoritative; observations that contradict them are listed as conflicts.
 * - vendor: `kvm_exit` reason names (symbols.ts `exitReasonVendor`), `kvm_nested_vmenter` vmcs/vmcb,
 *   `kvm_nested_vmrun` (SVM only), arm64 events; `kvm_avic_*` events (SVM).
 * - split irqchip (userspace PIC/IOAPIC): `KVM_INTERRUPT` ioctls, `KVM_EXIT_IRQ_WINDOW_OPEN (7)` and
 *   `KVM_EXIT_IOAPIC_EOI (26)` user exits (spec §2, §5.2). In-kernel irqchip: `kvm_pic_set_irq`,
 *   `kvm_ioapic_set_irq`, `kvm_ioapic_delayed_eoi_inj`, `kvm_ack_irq` (split mode never emits them, §5.2).
 * - APICv: `kvm_apicv_inhibit_changed` (state after the last change), `kvm_apicv_accept_irq`
 *   (posted delivery happened).
 * - kernel version: the header, else only hints from the format variants (spec §5.2 "Version
 *   detection heuristics", FORMATS.md table).
 */
import type { Observation } from './Observation.js'
import { exitReasonVendor, inhibitNamesOf } from './symbols.js'

export type Vendor = 'vmx' | 'svm' | 'pvm' | 'arm64'

export interface Evidence {
  readonly fact: string
  readonly line: number
  readonly because: string
}

/** @category models */
export interface HostFacts {
  readonly vendor?: Vendor
  /** true: userspace PIC/IOAPIC (split irqchip or none); false: in-kernel PIC and IOAPIC. */
  readonly splitIrqchip?: boolean
  /** APICv/AVIC at the end of the trace: `active`, `inhibited` (some inhibit bit set), `absent` (header says off). */
  readonly apicv?: 'active' | 'inhibited' | 'absent'
  /** The last `kvm_apicv_inhibit_changed` state, when one was seen. */
  readonly apicvInhibits?: { readonly inhibits: number; readonly names: ReadonlyArray<string>; readonly changes: number }
  /** From a `# kernel:` header line (uname -r). */
  readonly kernelVersion?: string
  /** What the event formats suggest about the kernel version, first line of each. */
  readonly versionHints: ReadonlyArray<{ readonly line: number; readonly hint: string }>
  /** `# key: value` header lines (keys lower-case; the first 64). */
  readonly headers: Readonly<Record<string, string>>
  /** The first line behind each inferred fact. */
  readonly evidence: ReadonlyArray<Evidence>
  /** Facts with contradicting evidence (left undefined above). */
  readonly conflicts: ReadonlyArray<string>
}

/** The format variant an observation was printed in (`formatVariants` in the summary), or undefined if the event has one format. */
export const variantOf = (o: Observation): string | undefined => {
  switch (o._tag) {
    case 'KvmInjVirq':
      return o.variant === 'irq' ? 'irq %u' : '%s 0x%x%s'
    case 'KvmEntry':
      return o.rip === undefined ? 'vcpu %u' : o.intrInfo !== undefined ? 'vcpu, rip, intr_info, error_code' : o.immediateExit ? 'vcpu, rip [immediate exit]' : 'vcpu, rip'
    case 'KvmExit':
      return o.vcpu !== undefined ? (o.requests !== undefined ? 'current + requests' : 'current') : o.info1 !== undefined ? 'reason rip info (legacy/plugin)' : 'reason rip (≈2.6.3x)'
    case 'KvmMsiSetIrq':
      return o.alternative !== undefined ? `${o.variant ?? 'current'} (ambiguous)` : (o.variant ?? 'current')
    case 'KvmIoapicSetIrq':
      return o.variant === 'vec=' ? 'vec=%u' : 'vec %u'
    case 'KvmApicvInhibitChanged':
      return o.inhibits === 0 ? undefined : o.names !== undefined ? 'with names' : 'without names'
    case 'KvmApicAcceptIrq':
    case 'KvmApicvAcceptIrq':
      return o.coalesced ? '(coalesced)' : undefined
    case 'KvmNestedVmexitInject':
      return o.variant === 'plugin' ? 'plugin_kvm' : 'TP_printk'
    case 'KvmAckIrq':
      return o.variant === 'numeric' ? 'irqchip %d' : 'irqchip %s'
    case 'KvmPio':
      return o.val === undefined ? 'without val' : 'with val'
    case 'KvmVcpuWakeup':
      return o.valid === undefined ? 'without polling' : 'with polling'
    default:
      return undefined
  }
}

const hintOf = (event: string, variant: string): string | undefined => {
  switch (`${event}|${variant}`) {
    case 'kvm_inj_virq|irq %u': return 'kvm_inj_virq "irq %u": kernel before ≈v6.0'
    case 'kvm_inj_virq|%s 0x%x%s': return 'kvm_inj_virq "IRQ 0x%x": kernel ≈v6.0 or later'
    case 'kvm_entry|vcpu %u': return 'kvm_entry "vcpu %u": kernel ≈v5.8 or earlier'
    case 'kvm_entry|vcpu, rip': return 'kvm_entry "vcpu %u, rip 0x%lx": kernel ≈v5.9 or later'
    case 'kvm_entry|vcpu, rip [immediate exit]': return 'kvm_entry "[immediate exit]": kernel ≈v6.9 or later'
    case 'kvm_entry|vcpu, rip, intr_info, error_code': return 'kvm_entry with intr_info/error_code: format of the 6.18 host'
    case 'kvm_exit|current': return 'kvm_exit "vcpu %u reason …": kernel ≈v5.10 or later'
    case 'kvm_exit|current + requests': return 'kvm_exit with requests: format of the 6.18 host'
    case 'kvm_exit|reason rip info (legacy/plugin)': return 'kvm_exit "reason %s rip … info %llx %llx": kernel ≤≈v5.15, or trace-cmd/perf plugin_kvm output on any kernel'
    case 'kvm_exit|reason rip (≈2.6.3x)': return 'kvm_exit "reason %s rip 0x%lx": kernel ≈2.6.3x'
    case 'kvm_msi_set_irq|old': return 'kvm_msi_set_irq "dst %u vec %x": older kernel'
    case 'kvm_ioapic_set_irq|vec=%u': return 'kvm_ioapic_set_irq "vec=%u": kernel ≈3.x'
    case 'kvm_apicv_inhibit_changed|with names': return 'kvm_apicv_inhibit_changed with inhibit names: kernel with the 2024 names patch'
    case 'kvm_apicv_inhibit_changed|without names': return 'kvm_apicv_inhibit_changed without names: kernel before the 2024 names patch'
    case 'kvm_apic_accept_irq|(coalesced)': return 'kvm_apic_accept_irq "(coalesced)": kernel ≤≈v5.3'
    case 'kvm_pio|without val': return 'kvm_pio without val: very old kernel'
    default: return undefined
  }
}

const vendorOfHeader = (v: string): Vendor | undefined => {
  const s = v.toLowerCase()
  if (/\b(kvm_intel|vmx|intel)\b/.test(s)) return 'vmx'
  if (/\b(kvm_amd|svm|amd)\b/.test(s)) return 'svm'
  if (/\b(kvm_pvm|pvm)\b/.test(s)) return 'pvm'
  if (/\b(arm64|aarch64)\b/.test(s)) return 'arm64'
  return undefined
}

/** Accumulates host facts over a stream of observations and header lines. Bounded memory. */
export class HostInference {
  private readonly headers: Record<string, string> = {}
  private headerCount = 0
  private readonly evidence: Evidence[] = []
  private readonly evidenceKeys = new Set<string>()
  private readonly hints: Array<{ line: number; hint: string }> = []
  private readonly hintKeys = new Set<string>()
  private readonly vendors = new Map<Vendor, number>()
  private headerVendor: Vendor | undefined
  private split: { yes: number; no: number } = { yes: 0, no: 0 }
  private headerSplit: boolean | undefined
  private headerApicv: 'active' | 'absent' | undefined
  private inhibits: { inhibits: number; names: ReadonlyArray<string>; changes: number; line: number } | undefined
  private apicvAcceptAfterChange = false
  private flagsWidths = new Set<number>()
  readonly variants: Record<string, Record<string, number>> = {}

  private note(fact: string, line: number, because: string): void {
    if (this.evidenceKeys.has(fact) || this.evidence.length >= 64) return
    this.evidenceKeys.add(fact)
    this.evidence.push({ fact, line, because })
  }

  private hint(line: number, hint: string): void {
    if (this.hintKeys.has(hint) || this.hints.length >= 32) return
    this.hintKeys.add(hint)
    this.hints.push({ line, hint })
  }

  /** A `# key: value` header line. */
  header(key: string, value: string, line: number): void {
    if (this.headerCount < 64 && !(key in this.headers)) {
      this.headers[key] = value
      this.headerCount++
    }
    switch (key) {
      case 'vendor':
      case 'module':
      case 'kvm module':
      case 'backend': {
        const v = vendorOfHeader(value)
        if (v !== undefined) {
          this.headerVendor ??= v
          this.note(`vendor=${v}`, line, `header "# ${key}: ${value}"`)
        }
        break
      }
      case 'irqchip': {
        const s = value.toLowerCase()
        if (/split|userspace|none|off/.test(s)) this.headerSplit ??= true
        else if (/kernel|full|in-kernel|on/.test(s)) this.headerSplit ??= false
        if (this.headerSplit !== undefined) this.note(`splitIrqchip=${this.headerSplit}`, line, `header "# irqchip: ${value}"`)
        break
      }
      case 'apicv': {
        const s = value.toLowerCase()
        if (/^(off|no|0|absent|none|disabled|false)/.test(s)) this.headerApicv ??= 'absent'
        else if (/^(on|yes|1|enabled|true|active)/.test(s)) this.headerApicv ??= 'active'
        if (this.headerApicv !== undefined) this.note(`apicv=${this.headerApicv}`, line, `header "# apicv: ${value}"`)
        break
      }
      default:
        break
    }
  }

  /** The irq-flags column width of an ftrace line (4 before ≈v5.17, 5 after). */
  flags(flags: string | undefined, line: number): void {
    if (flags === undefined || this.flagsWidths.has(flags.length)) return
    this.flagsWidths.add(flags.length)
    if (flags.length === 4) this.hint(line, 'irq-flags column of 4 characters: kernel before ≈v5.17')
    if (flags.length === 5) this.hint(line, 'irq-flags column of 5 characters: kernel ≈v5.17 or later')
  }

  /** An event name that is not decoded but still tells something. */
  unknownEvent(event: string, line: number): void {
    if (event.startsWith('kvm_avic_')) this.vendor('svm', line, `${event} is an SVM AVIC tracepoint`)
  }

  private vendor(v: Vendor, line: number, because: string): void {
    this.vendors.set(v, (this.vendors.get(v) ?? 0) + 1)
    this.note(`vendor=${v}`, line, because)
  }

  private splitEvidence(yes: boolean, line: number, because: string): void {
    if (yes) this.split.yes++
    else this.split.no++
    this.note(`splitIrqchip=${yes}`, line, because)
  }

  observe(o: Observation): void {
    const variant = variantOf(o)
    if (variant !== undefined) {
      const byVariant = (this.variants[o.event] ??= {})
      byVariant[variant] = (byVariant[variant] ?? 0) + 1
      const h = hintOf(o.event, variant)
      if (h !== undefined) this.hint(o.line, h)
    }
    switch (o._tag) {
      case 'KvmExit': {
        const v = exitReasonVendor(o.reason)
        if (v !== undefined) this.vendor(v, o.line, `kvm_exit reason "${o.reason}" is a ${v.toUpperCase()} exit-reason name`)
        break
      }
      case 'KvmNestedVmenter':
        this.vendor(o.isa, o.line, `kvm_nested_vmenter prints ${o.isa === 'vmx' ? 'vmcs' : 'vmcb'}`)
        break
      case 'KvmNestedVmrun':
        this.vendor('svm', o.line, 'kvm_nested_vmrun is an SVM tracepoint')
        break
      case 'KvmExitArm64':
      case 'KvmEntryArm64':
      case 'VgicUpdateIrqPending':
      case 'KvmTimerUpdateIrq':
      case 'KvmIrqLine':
      case 'KvmGetTimerMap':
      case 'KvmTimerSaveState':
      case 'KvmTimerRestoreState':
      case 'KvmTimerHrtimerExpire':
      case 'KvmTimerEmulate':
      case 'KvmWfxArm64':
        this.vendor('arm64', o.line, `${o.event} is an arm64 tracepoint${o._tag === 'KvmExitArm64' || o._tag === 'KvmEntryArm64' ? ' form' : ''}`)
        break
      case 'SysEnterIoctl':
        if (o.name === 'KVM_INTERRUPT') this.splitEvidence(true, o.line, 'KVM_INTERRUPT ioctl (userspace PIC injects ExtINT)')
        break
      case 'KvmUserspaceExit':
        if (o.reason === 'KVM_EXIT_IRQ_WINDOW_OPEN') this.splitEvidence(true, o.line, 'KVM_EXIT_IRQ_WINDOW_OPEN user exit (userspace PIC asked for a window)')
        if (o.reason === 'KVM_EXIT_IOAPIC_EOI') this.splitEvidence(true, o.line, 'KVM_EXIT_IOAPIC_EOI user exit (userspace IOAPIC)')
        break
      case 'KvmPicSetIrq':
      case 'KvmIoapicSetIrq':
      case 'KvmIoapicDelayedEoiInj':
        this.splitEvidence(false, o.line, `${o.event} is emitted only by the in-kernel irqchip`)
        break
      case 'KvmAckIrq':
        if (o.irqchip !== 'other') this.splitEvidence(false, o.line, 'kvm_ack_irq of an in-kernel PIC/IOAPIC pin')
        break
      case 'KvmApicvInhibitChanged': {
        const names = o.names ?? inhibitNamesOf(o.inhibits)
        this.inhibits = { inhibits: o.inhibits, names, changes: (this.inhibits?.changes ?? 0) + 1, line: o.line }
        this.apicvAcceptAfterChange = false
        this.note('apicv-inhibit', o.line, `kvm_apicv_inhibit_changed ${o.set ? 'set' : 'cleared'} reason=${o.reason}`)
        break
      }
      case 'KvmApicvAcceptIrq':
        this.apicvAcceptAfterChange = true
        this.note('apicv=active', o.line, 'kvm_apicv_accept_irq: an interrupt was posted (APICv delivery)')
        break
      default:
        break
    }
  }

  result(): HostFacts {
    const conflicts: string[] = []
    let vendor: Vendor | undefined = this.headerVendor
    const seen = [...this.vendors.keys()]
    if (vendor === undefined) {
      if (seen.length === 1) vendor = seen[0]
      else if (seen.length > 1) conflicts.push(`vendor: evidence for ${seen.join(' and ')}`)
    } else if (seen.some((v) => v !== vendor)) {
      conflicts.push(`vendor: header says ${vendor}, events suggest ${seen.filter((v) => v !== vendor).join(', ')}`)
    }
    let splitIrqchip: boolean | undefined = this.headerSplit
    if (splitIrqchip === undefined) {
      if (this.split.yes > 0 && this.split.no > 0) conflicts.push('splitIrqchip: both userspace-irqchip and in-kernel-irqchip events appear')
      else if (this.split.yes > 0) splitIrqchip = true
      else if (this.split.no > 0) splitIrqchip = false
    } else if ((splitIrqchip && this.split.no > 0) || (!splitIrqchip && this.split.yes > 0)) {
      conflicts.push(`splitIrqchip: header says ${splitIrqchip ? 'split' : 'in-kernel'}, events contradict`)
    }
    let apicv: HostFacts['apicv']
    if (this.inhibits !== undefined) apicv = this.inhibits.inhibits !== 0 && !this.apicvAcceptAfterChange ? 'inhibited' : 'active'
    else if (this.evidenceKeys.has('apicv=active')) apicv = 'active'
    if (this.headerApicv !== undefined) {
      if (apicv !== undefined && this.headerApicv === 'absent' && this.evidenceKeys.has('apicv=active')) conflicts.push('apicv: header says off, kvm_apicv_accept_irq seen')
      apicv = this.headerApicv === 'absent' ? 'absent' : (apicv ?? 'active')
    } else if (apicv === undefined && vendor === 'pvm') {
      apicv = 'absent'
    }
    const kernelVersion = this.headers['kernel'] ?? this.headers['kernel version'] ?? this.headers['kernel-version'] ?? this.headers['uname'] ?? this.headers['release']
    return {
      ...(vendor !== undefined ? { vendor } : {}),
      ...(splitIrqchip !== undefined ? { splitIrqchip } : {}),
      ...(apicv !== undefined ? { apicv } : {}),
      ...(this.inhibits !== undefined ? { apicvInhibits: { inhibits: this.inhibits.inhibits, names: this.inhibits.names, changes: this.inhibits.changes } } : {}),
      ...(kernelVersion !== undefined ? { kernelVersion } : {}),
      versionHints: [...this.hints],
      headers: { ...this.headers },
      evidence: [...this.evidence],
      conflicts,
    }
  }
}
