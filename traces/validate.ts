/**
 * Replay validation: can the model explain a real kernel trace?
 *
 * The validator replays the trace's observations through the model's own device reducers and
 * reports the FIRST observation the model cannot explain, with the rule, what the model
 * expected and what the trace shows. It only flags what it can prove: state the trace has not
 * shown yet is unknown, and a rule is checked only once the state it needs is known.
 *
 * What is replayed (in-kernel irqchip, one VM per trace):
 * - 8259 pair (model/devices/pic.ts): guest port writes are visible as `kvm_pio pio_write` to
 *   0x20/0x21/0xa0/0xa1/0x4d0/0x4d1. The PIC state is known from the first ICW1 written to the
 *   master (the slave is then taken to be in its reset state until it is written: `kvm_create_pic`
 *   zeroes both). Line levels come from `kvm_set_irq` (GSI < 16 drive PIC pin GSI), ORed per
 *   source as `kvm_irq_line_state` does. INTA is not traced on this backend, so the validator keeps
 *   the SET of PIC states the trace allows, adding an untraced INTA wherever the PIC's INTR output is
 *   high (`kvm_pic_read_irq` can run at any VM entry then).
 *   Rules: `pic-trigger-matches-elcr`, `pic-mask-matches-imr`, `pic-coalesced-iff-irr-pending`
 *   (`pic_set_irq1` returns 0 exactly when the pin's IRR was already set by an earlier edge or level),
 *   `pic-ack-follows-isr-clear` (`kvm_ack_irq irqchip PIC …` is printed by the ack notifier of
 *   `pic_clear_isr`, so the preceding PIC write must have cleared that pin's ISR bit).
 * - IOAPIC edge pins: `ioapic-edge-coalesced-iff-irr-set` (`ioapic_set_irq`: an edge assert while
 *   IRR is already set returns 0, printed `(coalesced)`; a rising edge is not coalesced). IRR is the
 *   ORed `kvm_set_irq` level, known per GSI once every source seen on it has been seen low.
 * - IOAPIC level pins: `ioapic-level-not-redelivered-while-remote-irr` (ioapic.c: `ioapic_service` sets remote IRR
 *   when it delivers a level interrupt and refuses to deliver again while it is set; only the EOI clears it,
 *   `__kvm_ioapic_update_eoi`, which prints `kvm_ack_irq irqchip IOAPIC pin P`). How the refused assert is
 *   printed depends on the kernel: before 7d2253684dd1 (N. Leshenko, 2017-11-05, v4.15) `ioapic_set_irq`
 *   tested `!edge && remote_irr` itself and returned 0, printed `(coalesced)`; since then only edge pins are
 *   tested there, `ioapic_service` returns -1 and the line is printed NOT coalesced, with no delivery. A
 *   delivery is visible: `kvm_apic_accept_irq` of the pin's vector is traced inside the fan-out, before
 *   `kvm_ioapic_set_irq` (the tracepoint sits at `out:`). So the rule is: while remote IRR is known set, no
 *   level assert on that pin is accompanied by an accept of its vector. Remote IRR becomes known set after
 *   an assert that delivered, or a not-coalesced, unmasked level assert with no accept (only remote IRR can
 *   refuse it then: `__apic_accept_irq` traces every accepted fixed interrupt, and a refusal by a disabled
 *   APIC returns 0, printed coalesced); it is unknown again after that pin's ack (the EOI may re-service it
 *   at once). This was first written the old way and corrected on a capture from kernel 6.1
 *   (test/fixtures/captures/irqfd-resample-retrigger-race.trace, line 125: the VMM re-triggered the irqfd before the guest's EOI).
 * - Routing fan-out: `set-irq-fans-out-as-routed` (irq_comm.c `kvm_set_irq` calls the `set` of every routing
 *   entry of the GSI in order, each of which traces: `kvm_pic_set_irq` always, `kvm_ioapic_set_irq` for the
 *   IOAPIC, at either level, `kvm_msi_set_irq` for an MSI route as a split irqchip's VMM IOAPIC uses). The fan-out of each GSI is learned from its first complete `kvm_set_irq` in the
 *   trace (the VMM may route GSI 0 to IOAPIC pin 2, excerpt 05), and every later one on the same thread must
 *   trace the same chips and pins in the same order before that thread's next event other than a
 *   `kvm_apic_accept_irq` (delivery happens inside the fan-out). A trace gap (also a blank line between
 *   records, where a poster joined excerpts) forgets the learned routing and any unfinished fan-out. A routing change (KVM_SET_GSI_ROUTING) mid-trace would show here.
 * - MSI and IPIs: `msi-accepted-at-destination` (irq_comm.c `kvm_set_msi` → `kvm_irq_delivery_to_apic` →
 *   `__apic_accept_irq`, on the same thread with nothing traced between) and `ipi-accepted-at-destination`
 *   (lapic.c `kvm_apic_send_ipi`, traced before the delivery): for a fixed, physical, non-broadcast
 *   destination, when the next event of the same thread is a `kvm_apic_accept_irq`, it names the destination
 *   APIC and the vector (a self IPI: the vector only; the sender's APIC is not printed). The trigger is not
 *   compared: excerpt 09 shows an MSI printed `level` accepted as `edge`. The accept's `apicid` is the vCPU
 *   id; this assumes the guest kept the reset APIC IDs (xAPIC ID = x2APIC ID = vCPU id).
 * - Split irqchip / userspace PIC: `split-extint-injected-after-kvm-interrupt` (x86.c: `KVM_INTERRUPT` stores the
 *   vector in `pending_external_vector` (-EEXIST if one is already there: one buffered interrupt);
 *   `kvm_cpu_get_extint` hands it out once and clears it; the injection traces `kvm_inj_virq`). On a thread
 *   that has issued a `KVM_INTERRUPT` (traced by `syscalls:sys_enter_ioctl`), every injection of a vector the
 *   in-kernel LAPIC did not accept, other than a re-injection (`[reinjected]`), consumes one buffered
 *   `KVM_INTERRUPT`; a second such injection with none issued in between is impossible. Before a thread's
 *   first `KVM_INTERRUPT` nothing is checked (one may have been buffered before the trace began).
 * - LAPIC EOI: `eoi-clears-highest-isr` (SDM 11.8.5; lapic.c `apic_set_eoi` → `apic_find_highest_isr`):
 *   a `kvm_eoi vector V` must name the highest vector in service. Vectors enter service at
 *   `kvm_inj_virq` after `kvm_apic_accept_irq` on that vCPU; a vector never seen injected may have
 *   been in service before the trace began, so only vectors injected in the trace are compared, and
 *   `vector -1` (empty ISR) is a contradiction only while such a vector is still in service.
 */
import { initialPic, picStep, type PicState } from '../model/devices/pic.js'
import type { PicPort } from '../model/devices/events.js'
import type { Observation } from './Observation.js'

export interface Contradiction {
  readonly file: string
  readonly line: number
  readonly rule: string
  readonly expected: string
  readonly observed: string
  readonly text: string
}

export interface Verdict {
  readonly file: string
  /** conforms: every checked rule held; diverges: `contradiction` is the first failure;
   *  nothing-to-check: the trace has nothing the validator can check (only exits, event names, …). */
  readonly verdict: 'conforms' | 'diverges' | 'nothing-to-check'
  readonly contradiction?: Contradiction
  readonly observations: number
  readonly byEvent: Readonly<Record<string, number>>
  /** How many times each rule was checked. */
  readonly rulesChecked: Readonly<Record<string, number>>
  readonly notes: ReadonlyArray<string>
}

const PIC_PORTS = new Set([0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1])
const MAX_PIC_STATES = 64

export class Validator {
  private pics: PicState[] | undefined
  /** per GSI: per source level (undefined = not seen yet). */
  private lines = new Map<number, Map<number, number>>()
  /** PIC writes' acks not yet matched by kvm_ack_irq, per possible state (global IRQ numbers). */
  private pendingAcks: Set<number>[] = []
  /** per APIC id: vectors seen injected and not yet EOIed (in service), and vectors accepted but not yet injected. */
  private inService = new Map<number, number[]>()
  private accepted = new Map<number, Set<number>>()
  private lastAccepted = new Map<number, number>()
  private readonly byEvent: Record<string, number> = {}
  private readonly rules: Record<string, number> = {}
  private readonly notes: string[] = []
  private count = 0
  private failure: Contradiction | undefined

  constructor(private readonly file: string) {}

  get failed(): boolean {
    return this.failure !== undefined
  }

  private checked(rule: string): void {
    this.rules[rule] = (this.rules[rule] ?? 0) + 1
  }

  private fail(o: Observation, rule: string, expected: string, observed: string): void {
    if (!this.failure) this.failure = { file: this.file, line: o.line, rule, expected, observed, text: `${o.event}: ${o.raw}` }
  }

  private lineLevel(gsi: number): number | undefined {
    const m = this.lines.get(gsi)
    if (!m) return undefined
    let any = 0
    for (const v of m.values()) if (v === 1) any = 1
    return any
  }

  /** Close the PIC state set under untraced INTAs (each INTA is possible while INTR is high). */
  private withIntas(states: PicState[]): PicState[] {
    const out: PicState[] = []
    const seen = new Set<string>()
    const add = (s: PicState): boolean => {
      const k = `${s.h1}:${s.h2}`
      if (seen.has(k)) return false
      seen.add(k)
      out.push(s)
      return true
    }
    const queue = [...states]
    for (let i = 0; i < queue.length && out.length < MAX_PIC_STATES; i++) {
      const s = queue[i]!
      if (!add(s)) continue
      if (s.output) queue.push(picStep(s, { _tag: 'PicAcknowledged' }).state)
    }
    return out
  }

  /** Per GSI: the chips and pins its kvm_set_irq traces, learned from the first complete one. */
  private routes = new Map<number, string[]>()
  /** Per thread: the kvm_set_irq whose fan-out is being traced. */
  private fanning = new Map<string, { gsi: number; line: number; items: { what: string; o: Observation }[] }>()

  private fanOut(o: Observation): void {
    if (o._tag === 'TraceGap') { this.fanning.clear(); this.routes.clear(); return }
    const k = threadKey(o)
    const cur = this.fanning.get(k)
    if (o._tag === 'KvmPicSetIrq' || o._tag === 'KvmIoapicSetIrq' || o._tag === 'KvmMsiSetIrq') {
      if (!cur) return
      const what = o._tag === 'KvmPicSetIrq' ? `kvm_pic_set_irq chip ${o.chip} pin ${o.pin}` : o._tag === 'KvmIoapicSetIrq' ? `kvm_ioapic_set_irq pin ${o.pin}` : `kvm_msi_set_irq dst ${o.dst.toString(16)} vec ${o.vec}`
      const route = this.routes.get(cur.gsi)
      if (route) {
        this.checked('set-irq-fans-out-as-routed')
        const want = route[cur.items.length]
        if (want !== what) {
          this.fail(o, 'set-irq-fans-out-as-routed', want ? `${want} (GSI ${cur.gsi}'s routing as the trace showed it: ${route.join(', ')})` : `no further irqchip event for GSI ${cur.gsi} (its routing: ${route.join(', ')})`, what)
          return
        }
      }
      cur.items.push({ what, o })
      return
    }
    if (o._tag === 'KvmApicAcceptIrq' && cur) return
    if (cur) {
      this.fanning.delete(k)
      const route = this.routes.get(cur.gsi)
      if (!route) { if (cur.items.length > 0) this.routes.set(cur.gsi, cur.items.map((x) => x.what)) }
      else if (cur.items.length < route.length) {
        this.checked('set-irq-fans-out-as-routed')
        this.fail(o, 'set-irq-fans-out-as-routed', `${route[cur.items.length]} first (GSI ${cur.gsi} set on line ${cur.line}; its routing: ${route.join(', ')})`, `${o.event}`)
        return
      }
    }
    if (o._tag === 'KvmSetIrq') this.fanning.set(k, { gsi: o.gsi, line: o.line, items: [] })
  }

  /** Per IOAPIC pin: remote IRR known set (true), or unknown (absent). */
  private remoteIrr = new Map<number, boolean>()
  private remoteLine = new Map<number, number>()
  /** Per thread: the delivery an MSI or IPI just traced must produce if its next event is an accept. */
  private expectAccept = new Map<string, { rule: string; apicid: number | undefined; vec: number; what: string; line: number }>()

  push(o: Observation): void {
    this.count++
    this.byEvent[o.event] = (this.byEvent[o.event] ?? 0) + 1
    if (this.failure) return
    // An MSI/IPI expectation holds only for the very next event of its thread.
    if (o._tag !== 'KvmApicAcceptIrq') this.expectAccept.delete(threadKey(o))
    this.fanOut(o)
    if (this.failure) return
    switch (o._tag) {
      case 'KvmPio': {
        if (o.rw !== 'write' || o.val === undefined || !PIC_PORTS.has(o.port)) return
        if (!this.pics) {
          if (o.port === 0x20 && (o.val & 0x10) !== 0) {
            this.pics = [initialPic()]
            this.notes.push(`line ${o.line}: PIC state known from the master's ICW1`)
          } else return
        }
        const next: PicState[] = []
        const acks: Set<number>[] = []
        for (const s of this.withIntas(this.pics)) {
          const r = picStep(s, { _tag: 'PicPortWritten', port: o.port as PicPort, value: o.val & 0xff })
          next.push(r.state)
          acks.push(new Set(r.acked))
        }
        this.pics = next
        this.pendingAcks = acks
        return
      }
      case 'KvmAckIrq': {
        if (o.irqchip === 'ioapic') { this.remoteIrr.delete(o.pin); return }
        if (o.irqchip !== 'pic-master' && o.irqchip !== 'pic-slave') return
        if (!this.pics) return
        // i8259.c pic_clear_isr adds 8 for the slave before kvm_notify_acked_irq(kvm, SELECT_PIC(irq), irq):
        // the printed pin is the IRQ number 0-15 (a slave pin below 8 is taken as slave-relative).
        const irq = o.irqchip === 'pic-master' || o.pin >= 8 ? o.pin : o.pin + 8
        this.checked('pic-ack-follows-isr-clear')
        const keep = this.pendingAcks.map((a) => a.has(irq))
        if (!keep.some(Boolean)) {
          this.fail(o, 'pic-ack-follows-isr-clear', `an ack only for an IRQ whose ISR bit the last PIC write cleared (${[...new Set(this.pendingAcks.flatMap((a) => [...a]))].join(', ') || 'none'})`, `ack of IRQ ${irq}`)
          return
        }
        this.pics = this.pics.filter((_, i) => keep[i])
        this.pendingAcks = this.pendingAcks.filter((_, i) => keep[i]).map((a) => { const b = new Set(a); b.delete(irq); return b })
        return
      }
      case 'KvmSetIrq': {
        let m = this.lines.get(o.gsi)
        if (!m) this.lines.set(o.gsi, (m = new Map()))
        const before = this.lineLevel(o.gsi)
        m.set(o.source, o.level ? 1 : 0)
        const after = this.lineLevel(o.gsi)!
        this.pendingLines.set(threadKey(o), { gsi: o.gsi, before, after })
        this.fanAccepts.set(threadKey(o), [])
        if (this.pics && o.gsi < 16) {
          this.pics = this.withIntas(this.pics).map((s) => picStep(s, { _tag: 'PicLineSet', irq: o.gsi, level: after as 0 | 1 }).state)
          this.picBefore = this.picBeforeLine
        }
        return
      }
      case 'KvmPicSetIrq': {
        if (!this.pics || !this.picBefore) return
        const irq = o.chip * 8 + o.pin
        const cands = this.picBefore.filter((x) => x.irq === irq)
        if (cands.length === 0) return
        this.checked('pic-trigger-matches-elcr')
        this.checked('pic-mask-matches-imr')
        this.checked('pic-coalesced-iff-irr-pending')
        const ok = cands.filter((c) => c.elcr === o.elcr && c.imr === o.imr && c.coalesced === o.coalesced)
        if (ok.length === 0) {
          const c = cands[0]!
          const rule = c.elcr !== o.elcr ? 'pic-trigger-matches-elcr' : c.imr !== o.imr ? 'pic-mask-matches-imr' : 'pic-coalesced-iff-irr-pending'
          const exp = rule === 'pic-trigger-matches-elcr' ? (c.elcr ? 'level' : 'edge') : rule === 'pic-mask-matches-imr' ? (c.imr ? 'masked' : 'unmasked') : c.coalesced ? 'coalesced' : 'not coalesced'
          const obs = rule === 'pic-trigger-matches-elcr' ? (o.elcr ? 'level' : 'edge') : rule === 'pic-mask-matches-imr' ? (o.imr ? 'masked' : 'unmasked') : o.coalesced ? 'coalesced' : 'not coalesced'
          this.fail(o, rule, `${exp} (the model's PIC after the guest's port writes)`, obs)
        }
        return
      }
      case 'KvmMsiSetIrq': {
        if (o.deliveryMode === 'Fixed' && o.destMode === 'physical' && o.dst !== 0xff && o.dst !== 0xffffffff)
          this.expectAccept.set(threadKey(o), { rule: 'msi-accepted-at-destination', apicid: o.dst, vec: o.vec, what: `MSI to ${o.dst.toString(16)}`, line: o.line })
        return
      }
      case 'KvmApicIpi': {
        if (o.deliveryMode !== 'Fixed' || !o.assert) return
        if (o.shorthand === 'self') this.expectAccept.set(threadKey(o), { rule: 'ipi-accepted-at-destination', apicid: undefined, vec: o.vec, what: 'self IPI', line: o.line })
        else if (o.shorthand === 'dst' && o.destMode === 'physical' && o.destId !== 0xff && o.destId !== 0xffffffff)
          this.expectAccept.set(threadKey(o), { rule: 'ipi-accepted-at-destination', apicid: o.destId, vec: o.vec, what: `IPI to ${o.destId.toString(16)}`, line: o.line })
        return
      }
      case 'KvmIoapicSetIrq': {
        const pl = this.pendingLines.get(threadKey(o))
        if (pl && pl.gsi === o.pin && o.trigger === 'level' && pl.after === 1 && !o.masked) {
          const remote = this.remoteIrr.get(o.pin)
          const delivered = !o.coalesced && (this.fanAccepts.get(threadKey(o)) ?? []).includes(o.vec)
          if (remote === true) {
            this.checked('ioapic-level-not-redelivered-while-remote-irr')
            if (delivered) {
              this.fail(o, 'ioapic-level-not-redelivered-while-remote-irr', `no delivery (pin ${o.pin} was delivered at line ${this.remoteLine.get(o.pin)} and no EOI has cleared its remote IRR)`, `vector ${o.vec} accepted again`)
              return
            }
          } else if (!o.coalesced) { this.remoteIrr.set(o.pin, true); this.remoteLine.set(o.pin, o.line) }
          return
        }
        if (!pl || pl.gsi !== o.pin || o.trigger !== 'edge' || pl.before === undefined || pl.after !== 1) return
        this.checked('ioapic-edge-coalesced-iff-irr-set')
        const expected = pl.before === 1
        if (expected !== o.coalesced)
          this.fail(o, 'ioapic-edge-coalesced-iff-irr-set', expected ? 'coalesced (the line was already high: IRR set)' : 'not coalesced (a rising edge)', o.coalesced ? 'coalesced' : 'not coalesced')
        return
      }
      case 'KvmApicAcceptIrq': {
        const k = threadKey(o)
        this.fanAccepts.get(k)?.push(o.vec)
        const exp = this.expectAccept.get(k)
        if (exp) {
          this.expectAccept.delete(k)
          this.checked(exp.rule)
          if (o.vec !== exp.vec || (exp.apicid !== undefined && o.apicid !== exp.apicid)) {
            this.fail(o, exp.rule, `apicid ${exp.apicid === undefined ? '(the sender)' : exp.apicid.toString(16)} vec ${exp.vec} (the ${exp.what} on line ${exp.line})`, `apicid ${o.apicid.toString(16)} vec ${o.vec}`)
            return
          }
        }
        let a = this.accepted.get(o.apicid)
        if (!a) this.accepted.set(o.apicid, (a = new Set()))
        if (o.deliveryMode === 'Fixed' || o.deliveryMode === 'LowPrio') a.add(o.vec)
        this.lastAccepted.set(o.apicid, o.vec)
        return
      }
      case 'KvmInjVirq': {
        const k = threadKey(o)
        const pending = this.kvmInterrupt.get(k)
        if (pending !== undefined && !o.reinjected) {
          const lapic = [...this.accepted.values()].some((a) => a.has(o.vector))
          if (!lapic) {
            this.checked('split-extint-injected-after-kvm-interrupt')
            if (!pending) {
              this.fail(o, 'split-extint-injected-after-kvm-interrupt', `a KVM_INTERRUPT ioctl on this vCPU thread since its injection on line ${this.kvmInterruptLine.get(k)} (the in-kernel LAPIC accepted no vector ${o.vector} either)`, `injection of vector 0x${o.vector.toString(16)}`)
              return
            }
            this.kvmInterrupt.set(k, false)
            this.kvmInterruptLine.set(k, o.line)
          }
        }
        const vcpu = vcpuOf(o)
        if (vcpu === undefined) return
        const a = this.accepted.get(vcpu)
        if (!a?.has(o.vector)) return // ExtINT from the PIC or accepted before the trace: not a LAPIC vector we track
        a.delete(o.vector)
        const isr = this.inService.get(vcpu) ?? []
        isr.push(o.vector)
        this.inService.set(vcpu, isr)
        return
      }
      case 'SysEnterIoctl': {
        if (o.name === 'KVM_INTERRUPT') { this.kvmInterrupt.set(threadKey(o), true); this.kvmInterruptLine.set(threadKey(o), o.line) }
        return
      }
      case 'KvmEoi': {
        const isr = this.inService.get(o.apicid) ?? []
        if (isr.length === 0) return
        this.checked('eoi-clears-highest-isr')
        const highest = Math.max(...isr)
        if (o.vector === -1 || (o.vector < highest)) {
          this.fail(o, 'eoi-clears-highest-isr', `vector ${highest} (the highest vector injected on APIC ${o.apicid} and not yet EOIed)`, `vector ${o.vector}`)
          return
        }
        if (o.vector === highest) isr.splice(isr.indexOf(highest), 1)
        return
      }
      default:
        return
    }
  }

  /** Per thread: the line change of its last `kvm_set_irq` (the fan-out that follows prints it per chip). */
  private pendingLines = new Map<string, { gsi: number; before: number | undefined; after: number }>()
  /** Per vCPU thread, once it issued KVM_INTERRUPT: whether one is buffered and not yet injected. */
  private kvmInterrupt = new Map<string, boolean>()
  private kvmInterruptLine = new Map<string, number>()
  /** Per thread: vectors accepted since its last `kvm_set_irq` (deliveries inside that fan-out). */
  private fanAccepts = new Map<string, number[]>()
  private picBefore: { irq: number; elcr: boolean; imr: boolean; coalesced: boolean }[] | undefined
  /** Computed in KvmSetIrq before the line is applied: what `kvm_pic_set_irq` should print for each possible state. */
  private get picBeforeLine(): { irq: number; elcr: boolean; imr: boolean; coalesced: boolean }[] | undefined {
    return this.picPredictions
  }
  private picPredictions: { irq: number; elcr: boolean; imr: boolean; coalesced: boolean }[] | undefined

  /** Feed one observation (predictions for kvm_pic_set_irq are taken before the line is applied). */
  observe(o: Observation): void {
    if (o._tag === 'KvmSetIrq' && this.pics && o.gsi < 16 && !this.failure) {
      const m = this.lines.get(o.gsi) ?? new Map<number, number>()
      const next = new Map(m).set(o.source, o.level ? 1 : 0)
      let level = 0
      for (const v of next.values()) if (v === 1) level = 1
      const irq = o.gsi
      this.picPredictions = this.withIntas(this.pics).map((s) => {
        const c = irq < 8 ? s.master : s.slave
        const mask = 1 << (irq & 7)
        const elcr = (c.elcr & mask) !== 0
        // pic_set_irq1: level pins report 0 (coalesced) when IRR was already set; edge pins when a new
        // rising edge (last_irr clear) finds IRR already set. A falling level is never coalesced.
        // A masked pin returns -1, which the tracepoint prints as not coalesced.
        const imr = (c.imr & mask) !== 0
        const coalesced = !imr && level === 1 && (c.irr & mask) !== 0 && (elcr || (c.lastIrr & mask) === 0)
        return { irq, elcr, imr, coalesced }
      })
    }
    this.push(o)
  }

  end(): Verdict {
    const checks = Object.values(this.rules).reduce((a, b) => a + b, 0)
    const base = { file: this.file, observations: this.count, byEvent: this.byEvent, rulesChecked: this.rules, notes: this.notes }
    if (this.failure) return { ...base, verdict: 'diverges', contradiction: this.failure }
    return { ...base, verdict: checks > 0 ? 'conforms' : 'nothing-to-check' }
  }
}

/** The thread an event was traced on: its pid, else its CPU, else one stream (an excerpt with the columns stripped). */
const threadKey = (o: Observation): string => (o.pid !== undefined ? `p${o.pid}` : o.cpu !== undefined ? `c${o.cpu}` : 'all')

/** The vCPU an observation ran on, from the task column (`CPU 1/KVM`); undefined if not printed. */
const vcpuOf = (o: Observation): number | undefined => {
  const m = /CPU (\d+)\/KVM/.exec(o.task ?? '')
  return m ? Number(m[1]) : undefined
}
