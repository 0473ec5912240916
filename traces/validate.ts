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
 *   In a fully observed in-kernel capture the routing is known from the start: the default one of
 *   KVM_CREATE_IRQCHIP (see the constructor), until a KVM_SET_GSI_ROUTING ioctl, after which it is learned again;
 *   and a `kvm_pic_set_irq` or `kvm_ioapic_set_irq` outside a fan-out is impossible (irq_comm.c calls those sets
 *   only as routing entries; the one other caller, KVM_SET_IRQCHIP's `kvm_ioapic_inject_all`, turns this off).
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
 * - Fully observed captures (`fullyObservedFromHeader`): a capture written by this project's harness
 *   (`# virq capture: kernel … by native/virq-vmm`, native/virq-vmm.c) enables tracing after the vCPUs exist
 *   and before any of them runs (`trace_start` precedes the second start barrier that releases
 *   `KVM_RUN`) and before the VMM raises any interrupt, so every vCPU's LAPIC starts in its reset state
 *   (lapic.c `kvm_lapic_reset`: IRR and ISR empty) and all of its IRR/ISR history is in the trace, provided
 *   the ring buffer lost nothing (`entries-in-buffer/entries-written: N/N`). Other traces keep the
 *   lenient rules above. For such traces, per vCPU:
 *   `inj-virq-from-pending-irr`: an interrupt injection that is not a re-injection (svm.c `svm_inject_irq`,
 *   vmx.c `vmx_inject_irq` trace `kvm_inj_virq`) takes its vector from x86.c `kvm_cpu_get_interrupt`: either
 *   the PIC's ExtINT (`kvm_cpu_get_extint`: the in-kernel 8259's `kvm_pic_read_irq`, a vector irq_base+0..7 of
 *   master or slave; with a split irqchip the vector buffered by `KVM_INTERRUPT`) or the LAPIC's highest IRR
 *   vector (lapic.c `kvm_get_apic_interrupt`: `apic_clear_irr` then `apic_set_isr`). A LAPIC vector enters IRR
 *   only through `__apic_accept_irq`, which traces `kvm_apic_accept_irq` first. So an injection of V needs an
 *   accept of V on that vCPU since V's last injection, or a PIC/KVM_INTERRUPT source; a duplicated injection
 *   is impossible unless V was accepted again. (An accept is traced also when it is then dropped, by a
 *   disabled APIC or a level deassert: counting it as pending only makes the rule weaker.)
 *   `eoi-names-vector-in-service`: lapic.c `apic_set_eoi` traces `kvm_eoi` with `apic_find_highest_isr`,
 *   -1 when ISR is empty; ISR bits are set only at injection (`apic_set_isr`) and cleared only by EOI. So the
 *   vector printed is exactly the highest vector injected and not yet EOIed, and -1 means none is.
 *   Both stop for a vCPU (its IRR/ISR become unknown) at a `kvm_apicv_accept_irq` (vmx.c
 *   `vmx_deliver_interrupt`, svm.c `svm_deliver_interrupt`: APICv/AVIC delivers and EOIs in hardware,
 *   untraced), at an INIT accepted by it (`kvm_lapic_reset` follows), and for all vCPUs at a
 *   `KVM_SET_LAPIC` or `KVM_SET_VCPU_EVENTS` ioctl (they write IRR/ISR or the pending injection directly).
 *   `inj-virq-above-ppr`: an injection whose only possible source is the LAPIC is above the processor
 *   priority: its class (V & 0xf0) exceeds the class of the highest vector in service (SDM 11.8.3.1;
 *   lapic.c `apic_has_interrupt_for_ppr`, `apic_update_ppr`: PPR = max(TPR, ISRV class); the TPR can only raise it,
 *   so this holds whatever the TPR).
 *   The rules below read the run loop and the causes of accepts (`strictRules`):
 *   `accept-has-traced-cause`: every path into `__apic_accept_irq` is traced first on the same thread:
 *   `kvm_apic_ipi` (lapic.c `kvm_apic_send_ipi`), `kvm_msi_set_irq` (irq_comm.c `kvm_set_msi_irq`), a
 *   `kvm_set_irq` fan-out (its IOAPIC item prints after the delivery), an IOAPIC `kvm_ack_irq`
 *   (ioapic.c `kvm_ioapic_update_eoi_one` re-services the acked pin: its learned entry's vector, one
 *   destination if physical) or `kvm_ioapic_delayed_eoi_inj`. A physical unicast has one destination
 *   (at most one accept), and the accept carries the cause's vector. The rule turns itself off, with a
 *   note, at the first source whose accepts have no traced cause: an MSR write (TSC deadline, x2APIC ICR
 *   and timer, PMU), an armed LAPIC timer (APIC_TMICT ≠ 0), a PIT port write, `KVM_SET_IRQCHIP`,
 *   `KVM_X86_SET_MCE`, `KVM_SET_LAPIC`, a Hyper-V event, an APIC_ID write, or an event the parser
 *   cannot decode (other than `HARMLESS_UNKNOWN`).
 *   `unicast-reaches-destination`: a Fixed physical IPI or MSI to one of the header's `vcpus` (or a self
 *   IPI) is accepted before its thread traces anything else (`kvm_irq_delivery_to_apic` →
 *   `__apic_accept_irq`, which traces before it checks anything).
 *   `ioapic-delivers-its-entry`: the accepts of a fan-out before a `kvm_ioapic_set_irq` are that pin's:
 *   none when it is masked or the line is low (ioapic.c `ioapic_set_irq` returns before `ioapic_service`),
 *   its vector, and for a physical unicast one, by the entry's destination; an accept after the last
 *   IOAPIC item of a fan-out has no pin (except after an IOAPIC ack, whose notifier's `kvm_set_irq` comes
 *   before the ack's own re-delivery).
 *   `kvm-run-brackets` (once any `sys_enter_ioctl` is traced; the harness filters its own process):
 *   kvm_main.c `kvm_vcpu_ioctl`, case KVM_RUN, traces `kvm_userspace_exit` when it returns, so on a
 *   thread `KVM_RUN` and `kvm_userspace_exit` alternate, and `kvm_entry`, `kvm_exit`, port and MMIO
 *   emulation, LAPIC register emulation, `kvm_inj_virq`, `kvm_eoi` and `kvm_vcpu_wakeup` happen on a VMM
 *   thread only between them (x86.c `kvm_arch_vcpu_ioctl_run` → `vcpu_run` and what it calls).
 *   `apic-mmio-dispatch`: x86.c `write_mmio` traces `kvm_mmio` and then `vcpu_mmio_write` dispatches to
 *   lapic.c `apic_mmio_write`, which for a 4-byte, 16-byte aligned write to the APIC page of a
 *   hardware-enabled xAPIC calls `kvm_lapic_reg_write`, which traces `kvm_apic` first: so such a
 *   `kvm_mmio` write is followed on its thread by `kvm_apic` of that offset and value, and (no
 *   APICv/AVIC trap path, no x2APIC) every `kvm_apic` write has one before it. `kvm_lapic_reset` enables
 *   the APIC in xAPIC mode at APIC_DEFAULT_PHYS_BASE; off after any wrmsr, `KVM_SET_MSRS`, `KVM_SET_LAPIC`
 *   or an undecoded AVIC/APICv event.
 *   `irq-line-ioctl-sets-irq`: kvm_main.c `kvm_vm_ioctl` KVM_IRQ_LINE(_STATUS) → x86.c
 *   `kvm_vm_ioctl_irq_line` → `kvm_set_irq` (source 0), traced first. `kvm_vm_ioctl_irq_line` fails before
 *   that only without an in-kernel irqchip, and the ioctl only on a bad pointer; the harness creates the
 *   irqchip first and passes its own struct, so it is the thread's next event; and outside KVM_RUN a VMM
 *   thread traces a source-0 `kvm_set_irq` only so (irqfd injects from a kworker, eventfd.c `irqfd_inject`).
 *   `signal-msi-ioctl-traces-msi`: KVM_SIGNAL_MSI → irq_comm.c `kvm_send_userspace_msi` → `kvm_set_msi`
 *   traces `kvm_msi_set_irq` next (same preconditions). With the default routing (no GSI is an MSI route)
 *   a VMM thread outside KVM_RUN traces `kvm_msi_set_irq` for nothing else (an MSI irqfd's eventfd write
 *   would; the rule is off after KVM_SET_GSI_ROUTING or KVM_IRQFD).
 *   `window-kvm-interrupt-injected` (split irqchip): x86.c `vcpu_run` exits with KVM_EXIT_IRQ_WINDOW_OPEN only
 *   when `kvm_vcpu_ready_for_interrupt_injection` holds (interrupts allowed, LVT0 accepts ExtINT, no event to
 *   re-inject, no exception pending; the re-injection and exception terms since the 2021 stable fix of
 *   71cc849b7093); a `KVM_INTERRUPT` then (nothing else issued but KVM_RUN, the guest not run since) buffers
 *   the vector with KVM_REQ_EVENT, so `kvm_check_and_inject_events` injects it, a fresh `kvm_inj_virq`,
 *   before the next `kvm_entry` (an NMI or SMI first would need KVM_NMI/KVM_SMI or a non-fixed accept).
 *   After a `restart` exit (the VMM's kick of a halted vCPU) the same holds only if the guest halted with
 *   interrupts enabled, which no tracepoint shows: not checked.
 *   `kvm-run-brackets` also: a thread inside KVM_RUN is in the kernel, so it issues no other ioctl until a
 *   `kvm_userspace_exit`.
 *   `ioapic-entry-as-written`: the IOAPIC is in its reset state when tracing begins (`kvm_ioapic_reset`:
 *   every entry masked); the guest's writes are traced as `kvm_mmio` (IOREGSEL at 0xfec00000, IOWIN at
 *   0xfec00010; ioapic.c `ioapic_mmio_write`, `ioapic_write_indirect`, applied with the model's
 *   `ioapicWriteEntry`), and `kvm_ioapic_set_irq` prints the pin's entry, so its vector, delivery mode,
 *   destination mode, trigger, mask and destination are the ones written (off after `KVM_SET_IRQCHIP`).
 *   An IOAPIC window write is also a traced cause of accepts (`ioapic_write_indirect` services a level pin
 *   that it leaves unmasked with its line high).
 *   In-kernel 8259 in a capture (`exactIntaAt`): INTA (i8259.c `kvm_pic_read_irq`) runs only in x86.c
 *   `kvm_cpu_get_interrupt`, whose vector is injected at once, and `kvm_cpu_get_extint` takes the PIC first
 *   while its INTR is high and the vCPU accepts PIC interrupts (lapic.c `kvm_apic_accept_pic_intr`: LVT0
 *   unmasked ExtINT; at reset the BSP's, by KVM_X86_QUIRK_LINT0_REENABLED; tracked through APIC_LVT0 and
 *   APIC_SPIV writes). So the PIC state set is not closed under untraced INTAs: each fresh injection narrows
 *   it to the states that explain it (`pic-inta-yields-vector`), and a PIC write that clears the same
 *   in-service IRQs in every remaining state must trace their `kvm_ack_irq` before the thread does anything
 *   else (`pic-isr-clear-traces-ack`; i8259.c `pic_clear_isr` → `kvm_notify_acked_irq`).
 *   `eoi-acks-ioapic-pins`: lapic.c `apic_set_eoi` → `kvm_ioapic_send_eoi` → ioapic.c
 *   `kvm_ioapic_update_eoi`: if V is among the vCPU's ioapic_handled_vectors (recomputed by
 *   `kvm_ioapic_scan_entry` before its next entry after an IOAPIC write; a level entry of V whose physical
 *   destination is this vCPU puts V there, no entry of V keeps it out), the EOI acks every pin whose entry
 *   has vector V, in pin order, each traced by `kvm_notify_acked_irq`.
 *   `ack-runs-resampler`: a source-1 `kvm_set_irq` (KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID) shows an irqfd
 *   resampler on that GSI; eventfd.c `irqfd_resampler_ack` lowers that source on every ack of the GSI
 *   (IOAPIC pin or PIC IRQ g, default routing) before the ack returns (off after KVM_IRQFD or
 *   KVM_SET_GSI_ROUTING).
 *   End of a capture (`end(endLine)`, the last physical line): native/virq-vmm.c joins every vCPU thread
 *   before it stops tracing, so every KVM_RUN has returned and no traced effect is still due (an IPI's
 *   accept, an APIC write's IPI or EOI, an ioctl's kvm_set_irq or kvm_msi_set_irq, an OUT's kvm_pio, which
 *   is also due before the exit to userspace); an open one is reported at the last line.
 *   The first `sys_enter_ioctl` of a capture shows that its ioctls are traced from the start; a vCPU event
 *   before it (its KVM_RUN missing) is then reported at its own line.
 *   `vcpu-matches-thread`: the harness runs vCPU n only on thread `CPU n/KVM` (native/virq-vmm.c), and a
 *   thread of another name runs the one vCPU its first kvm_entry/kvm_exit names.
 *   `apic-write-effect`: lapic.c `kvm_lapic_reg_write` traces `kvm_apic` first; for APIC_ICR it then calls
 *   `kvm_apic_send_ipi`, whose `kvm_apic_ipi` prints the written ICR low (mask 0xccfff: the bits the
 *   tracepoint decodes); for APIC_EOI `apic_set_eoi`, which traces `kvm_eoi` first. Without APICv an EOI
 *   has no other path, so a strict `kvm_eoi` needs that write just before it; likewise in xAPIC mode (off
 *   after any MSR write: x2APIC, Hyper-V PV IPIs) a `kvm_apic_ipi` needs an APIC_ICR write just before it.
 *   Its `dst` is GET_XAPIC_DEST_FIELD(ICR2), checked once the vCPU's APIC_ICR2 write has been seen.
 *   A Fixed IPI with shorthand all (all-but-self) is accepted by exactly every vCPU (every other one):
 *   lapic.c `kvm_irq_delivery_to_apic` takes the slow path for shorthands and calls `__apic_accept_irq`,
 *   which traces first, for each hardware-enabled APIC (all are, at reset) that `kvm_apic_match_dest` matches.
 *   For `vendor module kvm_amd` only (svm.c; VMX's fastpath can re-enter the guest untraced):
 *   `entry-exit-alternate`: `svm_vcpu_run` traces one `kvm_entry` per VMRUN and one `kvm_exit` after it
 *   (in 6.1 from `handle_exit`; moved to `svm_vcpu_run` by 791a089861fc, v6.5; SVM had no re-entering
 *   fastpath before that). `vcpu-work-outside-guest`: port and MMIO emulation, injection, LAPIC register
 *   emulation and ioctls are traced by the vCPU thread outside guest mode, so never between its
 *   `kvm_entry` and `kvm_exit`. `reinjection-of-interrupted-event`: x86.c `kvm_check_and_inject_events`
 *   re-injects an interrupt already injected (`vcpu->arch.interrupt.injected`), printed `[reinjected]`,
 *   before it takes a new one; one is injected from a fresh `kvm_inj_virq` until the next `kvm_entry`
 *   (a cancelled entry re-injects it), or from a `kvm_exit` whose `intr_info` (EXITINTINFO) is valid
 *   (bit 31) with type INTR (bits 10:8 = 0): `svm_complete_interrupts` queues it and sets KVM_REQ_EVENT,
 *   so the next `kvm_entry` needs its re-injection first, unless a `kvm_inj_exception` came instead.
 *   While an injection is in flight the vCPU is runnable, so no `kvm_vcpu_wakeup` (x86.c `vcpu_block` runs
 *   only for a vCPU that is not) comes before its `kvm_entry`.
 *   `pio-matches-io-exit`: svm.c `io_interception` (EXITINFO1: port 31:16, IN bit 0, string bit 2, size
 *   bits 4-6; AMD APM vol. 2, 15.10.2) → x86.c `kvm_fast_pio`: one `kvm_pio` of that port, direction and
 *   size per non-string instruction, before the next `kvm_entry` (an OUT at once, in `emulator_pio_out`; an
 *   IN at once for an in-kernel device, else when the next KVM_RUN completes it).
 *   `npf-mmio-write-traced`: a nested page fault (svm.c `npf_interception`: EXITINFO1 the page-fault error
 *   code, EXITINFO2 the guest physical address) that writes (PFERR_WRITE_MASK) the IOAPIC or xAPIC page, which
 *   no memslot backs, is emulated (mmu.c `kvm_mmu_page_fault` → RET_PF_EMULATE), and x86.c `write_mmio` traces
 *   `kvm_mmio` of that address before the device sees it: so before the next `kvm_entry` (unless the
 *   instruction faults, `kvm_inj_exception`). Off with `apic-mmio-dispatch` (the APIC base may have moved).
 *   A thread in guest mode traces nothing of its own: `kvm_ack_irq` and `kvm_vcpu_wakeup` join the vCPU
 *   work that `vcpu-work-outside-guest` places outside `kvm_entry`…`kvm_exit`.
 */
import { initialPic, picAck, picStep, type PicState } from '../model/devices/pic.js'
import { initialIoapic, ioapicEntryFields, ioapicWriteEntry, IOAPIC_PINS, type IoapicState } from '../model/devices/ioapic.js'
import { Table } from '../model/core/Table.js'
import type { PicPort } from '../model/devices/events.js'
import type { KvmApicAcceptIrq, KvmInjVirq, Observation } from './Observation.js'

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

/** What a fully observed trace's header says about the VM (see the module comment). */
export interface FullyObserved {
  readonly irqchip: 'in-kernel' | 'split'
  /** The vendor module the header names (`kvm_amd`, `kvm_intel`, …), if any. */
  readonly vendor?: string
  /** vCPUs the VMM created (ids and APIC ids 0..vcpus-1: native/virq-vmm never sets an APIC id). */
  readonly vcpus?: number
}

/**
 * A trace is fully observed when its header is the one native/virq-vmm writes (it starts tracing before
 * any vCPU runs) and the ring buffer lost no entry; undefined otherwise (then the lenient rules apply).
 * `head` is the start of the file (its `#` header lines).
 */
export const fullyObservedFromHeader = (head: string): FullyObserved | undefined => {
  if (!/^# virq capture: kernel .* by native\/virq-vmm\s*$/m.test(head)) return undefined
  const chip = /^# virq capture: irqchip (in-kernel|split)\b/m.exec(head)
  const entries = /^#\s*entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/m.exec(head)
  if (!chip || !entries || entries[1] !== entries[2]) return undefined
  const vendor = /^# virq capture: kernel .*; vendor module (\w+);/m.exec(head)?.[1]
  const vcpus = /^# virq capture: kernel .*; vcpus (\d+);/m.exec(head)?.[1]
  return { irqchip: chip[1] as 'in-kernel' | 'split', ...(vendor ? { vendor } : {}), ...(vcpus ? { vcpus: Number(vcpus) } : {}) }
}

const PIC_PORTS = new Set([0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1])
const dedupePics = (states: PicState[]): PicState[] => {
  const seen = new Set<string>()
  return states.filter((s) => { const k = `${s.h1}:${s.h2}`; if (seen.has(k)) return false; seen.add(k); return true })
}
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

  /** Fully observed traces: vCPUs whose IRR/ISR are no longer known (APICv, INIT), or all (`true`). */
  private strictOff = new Set<number>()
  private strictAllOff = false
  /** Per thread: the vCPU its kvm_entry/kvm_exit name (for threads not named `CPU n/KVM`). */
  private threadVcpu = new Map<string, number>()
  /** Fully observed: per thread, the first vCPU its kvm_entry/kvm_exit named. */
  private firstVcpu = new Map<string, { vcpu: number; line: number }>()

  constructor(private readonly file: string, private readonly opts: { readonly fullyObserved?: FullyObserved } = {}) {
    if (opts.fullyObserved) this.ioapicRegs = { sel: 0, state: initialIoapic(), written: new Map(), lastWrite: 0 }
    // KVM_CREATE_IRQCHIP installs the default routing (irq_comm.c kvm_setup_default_irq_routing: GSI g < 16 to
    // IOAPIC pin g and PIC pin g, GSI 16-23 to the IOAPIC), which native/virq-vmm.c never replaces. kvm_set_irq
    // calls the GSI's entries in reverse order of the table (irqchip.c: while (i--)), IOAPIC first, as every
    // in-kernel capture shows.
    if (opts.fullyObserved?.irqchip === 'in-kernel') {
      // kvm_lapic_reset: SPIV 0xff (software-disabled), every LVT masked, except the BSP's LVT0, set to
      // ExtINT (KVM_X86_QUIRK_LINT0_REENABLED, on unless disabled); the APIC hardware-enabled.
      this.exactInta = true
      for (let v = 0; v < (opts.fullyObserved.vcpus ?? 1); v++) { this.picAccept.set(v, v === 0); this.apicSwEnabled.set(v, false) }
      for (let g = 0; g < 24; g++) this.routes.set(g, g < 16 ? [`kvm_ioapic_set_irq pin ${g}`, `kvm_pic_set_irq chip ${g >> 3} pin ${g & 7}`] : [`kvm_ioapic_set_irq pin ${g}`])
    }
    if (opts.fullyObserved) this.notes.push(`fully observed (capture header of native/virq-vmm, irqchip ${opts.fullyObserved.irqchip}): strict LAPIC rules`)
  }

  /** Fully observed: why `accept-has-traced-cause` is off (a source whose accepts have no traced cause appeared). */
  private acceptCauseOff: string | undefined
  /** Per thread (fully observed): the traced cause the `kvm_apic_accept_irq` records that follow may come from. */
  private acceptCause = new Map<string, AcceptCause>()
  /** Per thread (fully observed, kvm_amd): the line of the `kvm_entry` it is in guest mode since. */
  private inGuest = new Map<string, number>()
  /** Per thread (fully observed): the APIC_ICR/APIC_EOI write whose effect must be its next event. */
  private apicWrite = new Map<string, { reg: 'APIC_ICR' | 'APIC_EOI'; value: number; line: number }>()
  /** Per thread (kvm_amd): the interrupt injected and not yet delivered, which must be re-injected next. */
  private injPending = new Map<string, { vec: number; line: number; why: string; fromExit: boolean }>()
  /** Fully observed: per IOAPIC pin, its redirection entry as last printed by kvm_ioapic_set_irq (until the guest writes the IOAPIC). */
  private ioapicEntry = new Map<number, { vec: number; dst: number; unicast: boolean }>()
  /** Fully observed: the IOAPIC's IOREGSEL and redirection table, from reset (undefined after KVM_SET_IRQCHIP). */
  private ioapicRegs: { sel: number; state: IoapicState; written: Map<number, number>; lastWrite: number } | undefined
  /** Fully observed in-kernel: GSIs shown to have an irqfd resampler (line of the proof); per thread, the resample an ack owes. */
  private resamplers = new Map<number, number>()
  private resamplersKnown = true
  private resampleDue = new Map<string, { gsi: number; line: number }>()
  /** Fully observed in-kernel: INTA only at injections (exactIntaAt); per vCPU, does it accept PIC interrupts (undefined: unknown)? */
  private exactInta = false
  private picAccept = new Map<number, boolean | undefined>()
  private apicSwEnabled = new Map<number, boolean | undefined>()
  /** Per thread: the PIC acks its last port write must trace (every PIC state agrees), and how many it has. */
  private picAckDue = new Map<string, { irqs: number[]; i: number; line: number }>()
  /** Per thread: the line of its last kvm_entry (the IOAPIC scan is done by then). */
  private scannedSince = new Map<string, number>()
  /** Per thread: the IOAPIC acks an EOI must trace, and how many it has. */
  private ackExpect = new Map<string, { vec: number; line: number; pins: number[]; i: number; why: string }>()
  /** Fully observed: sys_enter_ioctl records are in the trace; per thread, the line of its KVM_RUN not yet returned. */
  private ioctlsTraced = false
  private inRun = new Map<string, number>()
  /** Fully observed: threads that issued a traced ioctl; per thread, the KVM_IRQ_LINE whose kvm_set_irq is due. */
  private ioctlThreads = new Set<string>()
  private lastUexit = new Map<string, number>()
  /** Fully observed, before any sys_enter_ioctl: the first vCPU-run event (impossible if ioctls turn out traced). */
  private preIoctl: Observation | undefined
  /** Per thread: the xAPIC MMIO write whose kvm_apic must be the thread's next event. */
  private apicMmio = new Map<string, { offset: number; val: bigint; line: number }>()
  /** Why apic-mmio-dispatch is off (x2APIC, a moved or disabled APIC, APICv/AVIC may be in use). */
  private apicMmioOff: string | undefined
  /** Fully observed, kvm_amd: per thread, its last io exit (port, direction, size) and the kvm_pio records seen for it. */
  private ioExit = new Map<string, { port: number; in: boolean; size: number; string: boolean; line: number; n: number }>()
  private irqLineIoctl = new Map<string, number>()
  private signalMsiIoctl = new Map<string, number>()
  /** Fully observed: per vCPU, its last APIC_ICR2 write, for the destination kvm_apic_ipi prints (unknown before one). */
  private icr2 = new Map<number, number>()
  /** Split irqchip, per thread: an interrupt window exit and the KVM_INTERRUPT after it, not yet injected. */
  private windowInject = new Map<string, { exit: number; interrupt?: number }>()
  /** kvm_amd, per thread: a write fault on the IOAPIC or xAPIC page whose kvm_mmio is still due. */
  private mmioDue = new Map<string, { gpa: bigint; line: number }>()
  /** Per thread: accepts of the current kvm_set_irq fan-out since its last IOAPIC item (undefined: not checked). */
  private fanSince = new Map<string, KvmApicAcceptIrq[] | undefined>()

  /** An event the parser has no decoder for (only its name is known): see `HARMLESS_UNKNOWN`. */
  unknownEvent(event: string, line: number): void {
    if (this.opts.fullyObserved && !this.apicMmioOff && /avic|apicv|x2apic/.test(event)) this.apicMmioOff = `line ${line}: ${event}`
    if (!this.opts.fullyObserved || this.acceptCauseOff || HARMLESS_UNKNOWN.has(event)) return
    this.offAcceptCause(line, `${event} (not decoded: it might deliver an interrupt whose accept has no traced cause)`)
  }

  private offAcceptCause(line: number, why: string): void {
    if (this.acceptCauseOff) return
    this.acceptCauseOff = why
    this.notes.push(`line ${line}: accept-has-traced-cause off from here: ${why}`)
  }

  /**
   * The rules of a fully observed trace that read the run loop and the causes of accepts (see the
   * module comment); the LAPIC IRR/ISR rules are in the main switch.
   */
  private strictRules(o: Observation): void {
    const fo = this.opts.fullyObserved
    if (!fo) return
    const k = threadKey(o)
    // Sources of accepts no tracepoint announces: turn the cause rule off (sound, never stricter).
    if (o._tag === 'KvmMsr' && o.rw === 'write') this.offAcceptCause(o.line, `wrmsr 0x${o.msr.toString(16)} (an MSR write may arm the TSC-deadline or x2APIC timer, or a PMU counter, whose interrupts lapic.c kvm_apic_local_deliver accepts with no cause traced)`)
    if (o._tag === 'KvmApic' && o.rw === 'write' && o.reg === 'APIC_TMICT' && o.value !== 0n) this.offAcceptCause(o.line, 'APIC_TMICT written: the LAPIC timer is armed (apic_timer_expired accepts LVTT with no cause traced)')
    if (o._tag === 'KvmPio' && o.rw === 'write' && o.port >= 0x40 && o.port <= 0x43) this.offAcceptCause(o.line, 'a PIT port write (i8254.c pit_do_work may deliver the NMI watchdog through LVT0)')
    if (o._tag === 'SysEnterIoctl' && (o.name === 'KVM_SET_IRQCHIP' || o.name === 'KVM_X86_SET_MCE' || o.name === 'KVM_SET_LAPIC')) this.offAcceptCause(o.line, `${o.name} (it can deliver without a traced cause: ioapic.c kvm_ioapic_inject_all, a CMCI, or a restored IRR)`)
    if (o._tag.startsWith('KvmHv')) this.offAcceptCause(o.line, `${o.event} (Hyper-V synthetic interrupts and timers accept vectors with no kvm_apic_ipi/kvm_msi_set_irq)`)

    // The IOAPIC's redirection entries as kvm_ioapic_set_irq prints them (ioapic.c ioapic_set_irq, at out:),
    // forgotten when the guest writes the IOAPIC window (x86.c write_mmio traces kvm_mmio before
    // vcpu_mmio_write dispatches to ioapic_mmio_write; IOAPIC_DEFAULT_BASE_ADDRESS, IOAPIC_MEM_LENGTH) or
    // userspace restores it.
    if (o._tag === 'KvmIoapicSetIrq') this.ioapicEntry.set(o.pin, { vec: o.vec, dst: o.dst, unicast: o.destMode === 'physical' && o.dst !== 0xff })
    // The redirection table as the guest wrote it (ioapic.c ioapic_mmio_write: sizes 1/2/4/8, the low 32 bits
    // of an 8-byte write; offset 0x00 IOREGSEL, 0x10 IOWIN; ioapic_write_indirect → model/devices/ioapic.ts
    // ioapicWriteEntry), from kvm_ioapic_reset (all entries masked: the VM was created, and not yet run,
    // when tracing began). kvm_ioapic_set_irq prints the entry at out: (vector, delivery and destination
    // mode, trigger, mask, destination), so it must be the one written.
    if (this.ioapicRegs && o._tag === 'SysEnterIoctl' && o.name === 'KVM_SET_IRQCHIP') this.ioapicRegs = undefined
    if (this.ioapicRegs && o._tag === 'KvmMmio' && o.type === 'write' && inIoapicWindow(o.gpa)) this.ioapicRegs.lastWrite = o.line
    if (this.ioapicRegs && o._tag === 'KvmEntry') this.scannedSince.set(k, o.line)
    // irqfd resamplers (eventfd.c): an irqfd with a resamplefd injects with KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID
    // (1), so a source-1 kvm_set_irq shows one on that GSI; its ack notifier, irqfd_resampler_ack, lowers
    // that source at once (kvm_set_irq(kvm, 1, gsi, 0)) on every ack of the GSI, from the IOAPIC or the PIC,
    // before the ack returns. (The default routing maps IOAPIC pin g and PIC IRQ g to GSI g.)
    if (fo.irqchip === 'in-kernel') {
      if (o._tag === 'SysEnterIoctl' && (o.name === 'KVM_SET_GSI_ROUTING' || o.name === 'KVM_IRQFD')) this.resamplersKnown = false
      const due = this.resampleDue.get(k)
      if (due) {
        this.resampleDue.delete(k)
        this.checked('ack-runs-resampler')
        if (!(o._tag === 'KvmSetIrq' && o.gsi === due.gsi && !o.level && o.source === 1)) {
          this.fail(o, 'ack-runs-resampler', `kvm_set_irq: gsi ${due.gsi} level 0 source 1 (the ack on line ${due.line} runs GSI ${due.gsi}'s irqfd resampler, eventfd.c irqfd_resampler_ack, shown by the source-1 kvm_set_irq on line ${this.resamplers.get(due.gsi)})`, o._tag === 'KvmSetIrq' ? `kvm_set_irq: gsi ${o.gsi} level ${o.level ? 1 : 0} source ${o.source}` : o.event)
          return
        }
      }
      if (o._tag === 'KvmSetIrq' && o.source === 1 && !this.resamplers.has(o.gsi)) this.resamplers.set(o.gsi, o.line)
      if (o._tag === 'KvmAckIrq' && this.resamplersKnown && o.irqchip !== 'other') {
        const g = o.irqchip === 'ioapic' || o.irqchip === 'pic-master' || o.pin >= 8 ? o.pin : o.pin + 8
        if (this.resamplers.has(g)) this.resampleDue.set(k, { gsi: g, line: o.line })
      }
    }
    // Does the vCPU accept PIC interrupts (lapic.c kvm_apic_accept_pic_intr: LVT0 unmasked with delivery
    // mode ExtINT)? kvm_lapic_reg_write: an LVT write while the APIC is software-disabled is forced masked,
    // and clearing SPIV's enable bit masks every LVT. A wrmsr (the APIC base) or an INIT makes it unknown.
    if (this.exactInta) {
      const av = vcpuOf(o) ?? this.threadVcpu.get(k)
      if (o._tag === 'KvmMsr' && o.rw === 'write') { for (const v of this.picAccept.keys()) this.picAccept.set(v, undefined) }
      else if (o._tag === 'KvmApicAcceptIrq' && o.deliveryMode === 'INIT') { this.picAccept.set(o.apicid, undefined); this.apicSwEnabled.set(o.apicid, undefined) }
      else if (o._tag === 'KvmApic' && o.rw === 'write' && av !== undefined) {
        const val = Number(o.value & 0xffffffffn)
        const sw = this.apicSwEnabled.get(av)
        if (o.reg === 'APIC_SPIV') { this.apicSwEnabled.set(av, (val & 0x100) !== 0); if ((val & 0x100) === 0) this.picAccept.set(av, false) }
        else if (o.reg === 'APIC_LVT0') this.picAccept.set(av, sw === undefined ? undefined : sw && (val & 0x10000) === 0 && ((val >>> 8) & 7) === 7)
      }
    }
    // A PIC write that clears an ISR bit (in every possible PIC state: the same IRQs) runs its ack notifiers,
    // i8259.c pic_clear_isr → kvm_notify_acked_irq, which traces kvm_ack_irq before the write returns.
    const due = this.picAckDue.get(k)
    if (due) {
      if (o._tag === 'KvmAckIrq' && (o.irqchip === 'pic-master' || o.irqchip === 'pic-slave')) {
        const irq = o.irqchip === 'pic-master' || o.pin >= 8 ? o.pin : o.pin + 8
        this.checked('pic-isr-clear-traces-ack')
        if (irq !== due.irqs[due.i]) {
          this.fail(o, 'pic-isr-clear-traces-ack', due.irqs[due.i] === undefined ? `no further PIC ack (the write on line ${due.line} cleared IRQ ${due.irqs.join(', ')} in service)` : `the ack of IRQ ${due.irqs[due.i]} (the PIC write on line ${due.line} clears IRQ ${due.irqs.join(', ')} in service, in that order)`, `ack of IRQ ${irq}`)
          return
        }
        due.i++
        if (due.i === due.irqs.length) this.picAckDue.delete(k)
      } else if (!ACK_WINDOW.has(o._tag)) {
        this.picAckDue.delete(k)
        this.checked('pic-isr-clear-traces-ack')
        this.fail(o, 'pic-isr-clear-traces-ack', `the kvm_ack_irq of IRQ ${due.irqs[due.i]} first (the PIC write on line ${due.line} clears its in-service bit in every PIC state the trace allows)`, o.event)
        return
      }
    }
    // EOI broadcast (lapic.c apic_set_eoi → kvm_ioapic_send_eoi → ioapic.c kvm_ioapic_update_eoi): an EOI
    // of V acks, in pin order, every pin whose entry has vector V (kvm_ioapic_update_eoi_one →
    // kvm_notify_acked_irq traces kvm_ack_irq), if V is among the vCPU's ioapic_handled_vectors, which
    // kvm_ioapic_scan_entry recomputes before the vCPU next enters after an IOAPIC write: a level entry
    // whose destination is this vCPU makes V handled; no entry with V makes it not. (Other cases depend on
    // ack notifiers and pending EOIs: not checked.) Between the acks the notifiers' kvm_set_irq fan-outs and
    // the re-deliveries (accepts) may be traced.
    const ack = this.ackExpect.get(k)
    if (ack) {
      if (o._tag === 'KvmAckIrq' && o.irqchip === 'ioapic') {
        this.checked('eoi-acks-ioapic-pins')
        const want = ack.pins[ack.i]
        if (want !== o.pin) {
          this.fail(o, 'eoi-acks-ioapic-pins', want === undefined ? `no further IOAPIC ack (the EOI of vector ${ack.vec} on line ${ack.line} acks pins ${ack.pins.join(', ') || 'none'})` : `the ack of pin ${want} (the EOI of vector ${ack.vec} on line ${ack.line} acks pins ${ack.pins.join(', ')}, in order)`, `ack of pin ${o.pin}`)
          return
        }
        ack.i++
      } else if (!ACK_WINDOW.has(o._tag)) {
        this.ackExpect.delete(k)
        if (ack.i < ack.pins.length) {
          this.checked('eoi-acks-ioapic-pins')
          this.fail(o, 'eoi-acks-ioapic-pins', `the ack of IOAPIC pin ${ack.pins[ack.i]} first (the EOI of vector ${ack.vec} on line ${ack.line}: pin ${ack.pins[ack.i]} has that vector${ack.why})`, o.event)
          return
        }
      }
    }
    if (this.ioapicRegs && fo.irqchip === 'in-kernel' && o._tag === 'KvmEoi' && o.vector >= 0) {
      const v = this.strict(vcpuOf(o) ?? this.threadVcpu.get(k))
      const scanned = this.scannedSince.get(k)
      if (v !== undefined && scanned !== undefined && scanned > this.ioapicRegs.lastWrite) {
        const pins: number[] = []
        let level: number | undefined
        for (let p = 0; p < IOAPIC_PINS; p++) {
          const e = Table.get(this.ioapicRegs.state.pins, p)
          if (e.vector !== o.vector) continue
          pins.push(p)
          const f = ioapicEntryFields(e)
          if (level === undefined && f.trigger === 'level' && f.destMode === 'physical' && (f.dest === v || f.dest === 0xff)) level = p
        }
        if (pins.length === 0 || level !== undefined) this.ackExpect.set(k, { vec: o.vector, line: o.line, pins, i: 0, why: level !== undefined ? ` and pin ${level}, level-triggered with destination ${v}, makes it handled` : '' })
      }
    }
    if (this.ioapicRegs && o._tag === 'KvmMmio' && o.type === 'write' && inIoapicWindow(o.gpa) && [1, 2, 4, 8].includes(o.len)) {
      const data = Number(o.val & 0xffffffffn)
      const off = Number(o.gpa & 0xffn)
      if (off === 0x00) this.ioapicRegs.sel = data & 0xff
      else if (off === 0x10 && this.ioapicRegs.sel >= 0x10) {
        const pin = (this.ioapicRegs.sel - 0x10) >> 1
        this.ioapicRegs.state = ioapicWriteEntry(this.ioapicRegs.state, pin, this.ioapicRegs.sel & 1 ? 'high' : 'low', data)
        this.ioapicRegs.written.set(pin, o.line)
      }
    }
    if (this.ioapicRegs && o._tag === 'KvmIoapicSetIrq' && o.pin < IOAPIC_PINS && o.variant === undefined) {
      this.checked('ioapic-entry-as-written')
      const e = Table.get(this.ioapicRegs.state.pins, o.pin)
      const want = (BigInt(e.high & 0xff000000) << 32n) | BigInt(e.low & 0x18fff)
      const got = o.e & 0xff0000000001_8fffn
      if (want !== got) {
        const f = ioapicEntryFields(e)
        const at = this.ioapicRegs.written.get(o.pin)
        this.fail(o, 'ioapic-entry-as-written', `pin ${o.pin} dst ${f.dest.toString(16)} vec ${f.vector} (${f.deliveryMode}|${f.destMode}|${f.trigger}${f.masked ? '|masked' : ''}): ${at !== undefined ? `the entry the guest wrote, last on line ${at}` : 'the reset entry (masked; the guest has not written it)'}`, `pin ${o.pin} dst ${o.dst.toString(16)} vec ${o.vec} (${o.deliveryMode}|${o.destMode}|${o.trigger}${o.masked ? '|masked' : ''})`)
        return
      }
    }
    if ((o._tag === 'KvmMmio' && o.type === 'write' && inIoapicWindow(o.gpa)) || (o._tag === 'SysEnterIoctl' && o.name === 'KVM_SET_IRQCHIP')) this.ioapicEntry.clear()
    if (o._tag === 'KvmApic' && o.rw === 'write' && o.reg === 'APIC_ID') this.offAcceptCause(o.line, 'APIC_ID written (lapic.c kvm_apic_set_xapic_id): APIC ids are no longer the vCPU ids')

    // KVM_RUN brackets (kvm_main.c kvm_vcpu_ioctl, case KVM_RUN: trace_kvm_userspace_exit after
    // kvm_arch_vcpu_ioctl_run returns). Checked once sys_enter_ioctl is seen at all: the harness
    // traces the ioctls of all its threads or none (native/virq-vmm.c, the common_pid filter).
    // The harness enables sys_enter_ioctl together with kvm:* before any KVM_RUN (native/virq-vmm.c
    // trace_start), so once one is seen, vCPU work traced before it on a thread without its KVM_RUN is
    // impossible: the first such event is reported (its line, though found here).
    if (o._tag === 'SysEnterIoctl' && !this.ioctlsTraced && this.preIoctl) {
      this.checked('kvm-run-brackets')
      this.fail(this.preIoctl, 'kvm-run-brackets', `a KVM_RUN ioctl on this thread first (the trace records this process's ioctls, as the sys_enter_ioctl on line ${o.line} shows, from before any vCPU ran)`, this.preIoctl.event)
      return
    }
    if (!this.ioctlsTraced && !this.preIoctl && (IN_RUN.has(o._tag) || o._tag === 'KvmEntry' || o._tag === 'KvmUserspaceExit')) this.preIoctl = o
    if (o._tag === 'SysEnterIoctl') this.ioctlsTraced = true
    // A thread inside KVM_RUN is in the kernel: it issues no other ioctl until that one returns.
    if (this.ioctlsTraced && o._tag === 'SysEnterIoctl' && o.name !== 'KVM_RUN' && this.inRun.has(k)) {
      this.checked('kvm-run-brackets')
      this.fail(o, 'kvm-run-brackets', `a kvm_userspace_exit first (this thread is inside the KVM_RUN on line ${this.inRun.get(k)}; a thread issues one system call at a time)`, o.name ?? 'ioctl')
      return
    }
    if (this.ioctlsTraced && ((o._tag === 'SysEnterIoctl' && o.name === 'KVM_RUN') || o._tag === 'KvmUserspaceExit' || o._tag === 'KvmEntry')) {
      this.checked('kvm-run-brackets')
      const since = this.inRun.get(k)
      const bad = o._tag === 'SysEnterIoctl' ? (since !== undefined ? `a kvm_userspace_exit first (the KVM_RUN on line ${since} has not returned; each return traces one)` : undefined)
        : since === undefined ? `a KVM_RUN ioctl on this thread first (${o._tag === 'KvmEntry' ? 'the guest runs only inside KVM_RUN' : 'kvm_userspace_exit is traced when a KVM_RUN returns'}; the trace records this process's ioctls)` : undefined
      if (bad) {
        this.fail(o, 'kvm-run-brackets', bad, o._tag === 'SysEnterIoctl' ? 'KVM_RUN' : o.event)
        return
      }
      if (o._tag === 'SysEnterIoctl') this.inRun.set(k, o.line)
      else if (o._tag === 'KvmUserspaceExit') this.inRun.delete(k)
    }
    // Emulation, injection and blocking run inside kvm_arch_vcpu_ioctl_run (x86.c vcpu_run), so on a VMM
    // thread they are traced only between its KVM_RUN and that call's kvm_userspace_exit.
    if (this.ioctlsTraced && IN_RUN.has(o._tag) && this.ioctlThreads.has(k) && !this.inRun.has(k)) {
      this.checked('kvm-run-brackets')
      const last = this.lastUexit.get(k)
      this.fail(o, 'kvm-run-brackets', `a KVM_RUN first (${o.event} is traced inside KVM_RUN${last !== undefined ? `, and this thread's returned on line ${last}` : ''})`, o.event)
      return
    }
    if (o._tag === 'KvmUserspaceExit') this.lastUexit.set(k, o.line)

    // Split irqchip: a KVM_INTERRUPT right after a KVM_EXIT_IRQ_WINDOW_OPEN is injected before the next
    // entry. x86.c vcpu_run exits so only when kvm_vcpu_ready_for_interrupt_injection holds (interrupts
    // allowed, LVT0 accepts ExtINT, nothing to re-inject, no exception pending); the guest does not run
    // until the next entry, and KVM_INTERRUPT (kvm_vcpu_ioctl_interrupt) buffers the vector and sets
    // KVM_REQ_EVENT, so kvm_check_and_inject_events injects it (kvm_cpu_get_extint comes first), traced by
    // kvm_inj_virq, unless an NMI or SMI goes first (none here: their sources are KVM_NMI/KVM_SMI or a
    // non-fixed accept, which drop the obligation, as does any other ioctl that may change vCPU state).
    if (this.ioctlsTraced && fo.irqchip === 'split' && this.strict(vcpuOf(o) ?? this.threadVcpu.get(k)) !== undefined) {
      const w = this.windowInject.get(k)
      if (o._tag === 'KvmUserspaceExit') {
        if (o.reason === 'KVM_EXIT_IRQ_WINDOW_OPEN') this.windowInject.set(k, { exit: o.line })
        else this.windowInject.delete(k)
      } else if (o._tag === 'SysEnterIoctl' && w) {
        if (o.name === 'KVM_INTERRUPT' && w.interrupt === undefined) this.windowInject.set(k, { ...w, interrupt: o.line })
        else if (o.name !== 'KVM_RUN') this.windowInject.delete(k)
      } else if ((o._tag === 'KvmInjVirq' && !o.reinjected) || o._tag === 'KvmInjException' || (o._tag === 'KvmApicAcceptIrq' && o.deliveryMode !== 'Fixed' && o.deliveryMode !== 'LowPrio')) {
        if (w?.interrupt !== undefined && o._tag === 'KvmInjVirq') this.checked('window-kvm-interrupt-injected')
        this.windowInject.delete(k)
      } else if (o._tag === 'KvmEntry' && w) {
        this.windowInject.delete(k)
        if (w.interrupt !== undefined) {
          this.checked('window-kvm-interrupt-injected')
          this.fail(o, 'window-kvm-interrupt-injected', `a kvm_inj_virq first (the KVM_INTERRUPT on line ${w.interrupt} after the interrupt window exit on line ${w.exit}: the window was open, so kvm_check_and_inject_events injects the buffered vector before this entry)`, 'kvm_entry')
          return
        }
      }
    }

    // KVM_IRQ_LINE (kvm_vm_ioctl_irq_line → kvm_set_irq, which traces first, with source 0 =
    // KVM_USERSPACE_IRQ_SOURCE_ID). It fails before that only without an in-kernel irqchip (the harness
    // creates it first) or on a bad pointer (the harness passes its own struct), so each traces its
    // kvm_set_irq as the thread's next event. Conversely a
    // source-0 kvm_set_irq on a VMM thread outside KVM_RUN has no other origin (irqfd injects from a
    // kworker: eventfd.c irqfd_inject).
    if (this.ioctlsTraced) {
      const want = this.irqLineIoctl.get(k)
      if (want !== undefined) {
        this.irqLineIoctl.delete(k)
        this.checked('irq-line-ioctl-sets-irq')
        if (o._tag !== 'KvmSetIrq' || o.source !== 0) {
          this.fail(o, 'irq-line-ioctl-sets-irq', `kvm_set_irq with source 0 (the KVM_IRQ_LINE on line ${want}: kvm_vm_ioctl_irq_line calls kvm_set_irq)`, o._tag === 'KvmSetIrq' ? `kvm_set_irq source ${o.source}` : o.event)
          return
        }
      } else if (o._tag === 'KvmSetIrq' && o.source === 0 && this.ioctlThreads.has(k) && !this.inRun.has(k)) {
        this.checked('irq-line-ioctl-sets-irq')
        this.fail(o, 'irq-line-ioctl-sets-irq', 'a KVM_IRQ_LINE ioctl just before it on this thread (outside KVM_RUN a VMM thread sets a line only through it)', 'kvm_set_irq source 0')
        return
      }
      // KVM_SIGNAL_MSI (kvm_main.c → irq_comm.c kvm_send_userspace_msi → kvm_set_msi → kvm_set_msi_irq,
      // which traces kvm_msi_set_irq first). Only this direction: an eventfd write to an MSI irqfd traces
      // kvm_msi_set_irq in the writer's context (eventfd.c irqfd_wakeup → kvm_arch_set_irq_inatomic).
      const msi = this.signalMsiIoctl.get(k)
      if (msi !== undefined) {
        this.signalMsiIoctl.delete(k)
        this.checked('signal-msi-ioctl-traces-msi')
        if (o._tag !== 'KvmMsiSetIrq') {
          this.fail(o, 'signal-msi-ioctl-traces-msi', `kvm_msi_set_irq (the KVM_SIGNAL_MSI on line ${msi}: kvm_send_userspace_msi traces it before delivering)`, o.event)
          return
        }
      } else if (o._tag === 'KvmMsiSetIrq' && fo.irqchip === 'in-kernel' && this.resamplersKnown && this.ioctlThreads.has(k) && !this.inRun.has(k)) {
        // With the default routing no GSI is an MSI route, so an eventfd write cannot trace one either.
        this.checked('signal-msi-ioctl-traces-msi')
        this.fail(o, 'signal-msi-ioctl-traces-msi', 'a KVM_SIGNAL_MSI just before it on this thread (outside KVM_RUN, with the default routing, a VMM thread traces kvm_msi_set_irq only for that ioctl)', 'kvm_msi_set_irq')
        return
      }
      if (o._tag === 'SysEnterIoctl') {
        this.ioctlThreads.add(k)
        if (o.name === 'KVM_IRQ_LINE' || o.name === 'KVM_IRQ_LINE_STATUS') this.irqLineIoctl.set(k, o.line)
        if (o.name === 'KVM_SIGNAL_MSI') this.signalMsiIoctl.set(k, o.line)
      }
    }

    // The harness names each vCPU thread `CPU n/KVM` and runs vCPU n only there (native/virq-vmm.c).
    // A thread with another name (an earlier harness ran its only vCPU on the main thread) still runs one
    // vCPU: the first its kvm_entry/kvm_exit name.
    if ((o._tag === 'KvmEntry' || o._tag === 'KvmExit') && o.vcpu !== undefined) {
      const first = this.firstVcpu.get(k)
      const want = vcpuOf(o) ?? first?.vcpu
      if (first === undefined) this.firstVcpu.set(k, { vcpu: o.vcpu, line: o.line })
      if (want !== undefined) {
        this.checked('vcpu-matches-thread')
        if (o.vcpu !== want) {
          this.fail(o, 'vcpu-matches-thread', `vcpu ${want} (thread ${o.task} runs only that vCPU: ${vcpuOf(o) !== undefined ? 'its name says so' : `it ran vCPU ${want} on line ${first!.line}`}; native/virq-vmm.c runs each vCPU on its own thread)`, `vcpu ${o.vcpu}`)
          return
        }
      }
    }

    // xAPIC MMIO writes (x86.c write_mmio traces kvm_mmio, then vcpu_mmio_write → lapic.c apic_mmio_write:
    // a 4-byte write at a 16-byte aligned offset of the APIC page, with the APIC hardware-enabled and not
    // in x2APIC mode, calls kvm_lapic_reg_write, which traces kvm_apic first). At reset the APIC is enabled
    // at APIC_DEFAULT_PHYS_BASE in xAPIC mode (kvm_lapic_reset); a write of the APIC base MSR (any wrmsr
    // here), KVM_SET_MSRS or AVIC/APICv trap paths (kvm_apic without kvm_mmio) turn the rule off.
    if (!this.apicMmioOff) {
      if ((o._tag === 'KvmMsr' && o.rw === 'write') || (o._tag === 'SysEnterIoctl' && (o.name === 'KVM_SET_MSRS' || o.name === 'KVM_SET_LAPIC'))) this.apicMmioOff = `line ${o.line}: ${o.event}`
    }
    const ov = vcpuOf(o) ?? this.threadVcpu.get(k)
    const vs = this.strict(ov)
    if (!this.apicMmioOff && vs !== undefined) {
      const want = this.apicMmio.get(k)
      if (want) {
        this.apicMmio.delete(k)
        this.checked('apic-mmio-dispatch')
        if (!(o._tag === 'KvmApic' && o.rw === 'write' && o.offset === want.offset && o.value === want.val)) {
          this.fail(o, 'apic-mmio-dispatch', `kvm_apic apic_write of offset 0x${want.offset.toString(16)} = 0x${want.val.toString(16)} (the xAPIC MMIO write on line ${want.line})`, o._tag === 'KvmApic' ? `apic_${o.rw} ${o.reg} = 0x${o.value.toString(16)}` : o.event)
          return
        }
      } else if (o._tag === 'KvmApic' && o.rw === 'write') {
        this.checked('apic-mmio-dispatch')
        this.fail(o, 'apic-mmio-dispatch', 'a kvm_mmio write of that register just before it on this thread (in xAPIC mode without APICv a register write comes only from apic_mmio_write)', `apic_write ${o.reg}`)
        return
      }
      if (o._tag === 'KvmMmio' && o.type === 'write' && o.len === 4 && inApicPage(o.gpa) && (o.gpa & 0xfn) === 0n) this.apicMmio.set(k, { offset: Number(o.gpa - 0xfee00000n), val: o.val & 0xffffffffn, line: o.line })
    }

    // LAPIC register writes and what they trace next on the same thread (lapic.c kvm_lapic_reg_write
    // traces kvm_apic first; APIC_ICR calls kvm_apic_send_ipi, which traces kvm_apic_ipi with the
    // written ICR low; APIC_EOI calls apic_set_eoi, which traces kvm_eoi before anything else).
    const after = this.apicWrite.get(k)
    if (after) {
      this.apicWrite.delete(k)
      this.checked('apic-write-effect')
      // lapic.c kvm_apic_send_ipi prints dest_id = GET_XAPIC_DEST_FIELD(ICR2) in xAPIC mode (ICR2 resets to 0).
      const icr2 = ov !== undefined && !this.acceptCauseOff ? this.icr2.get(ov) : undefined
      const ok = after.reg === 'APIC_ICR' ? o._tag === 'KvmApicIpi' && o.icrLow === (after.value & 0xccfff) && (icr2 === undefined || o.destId === icr2 >>> 24) : o._tag === 'KvmEoi'
      if (!ok) {
        this.fail(o, 'apic-write-effect', after.reg === 'APIC_ICR' ? `kvm_apic_ipi with ICR low 0x${(after.value & 0xccfff).toString(16)}${icr2 !== undefined ? ` and dst ${(icr2 >>> 24).toString(16)} (ICR2 0x${icr2.toString(16)})` : ''} (the APIC_ICR write on line ${after.line})` : `kvm_eoi (the APIC_EOI write on line ${after.line})`, o._tag === 'KvmApicIpi' ? `kvm_apic_ipi with ICR low 0x${o.icrLow.toString(16)} dst ${o.destId.toString(16)}` : o.event)
        return
      }
    } else if (o._tag === 'KvmApicIpi' && vs !== undefined && !this.acceptCauseOff) {
      // Without x2APIC (an MSR write turns this off) and Hyper-V PV IPIs, an IPI is the guest's APIC_ICR write.
      this.checked('apic-write-effect')
      this.fail(o, 'apic-write-effect', 'a kvm_apic APIC_ICR write just before it on this thread (in xAPIC mode kvm_apic_send_ipi runs only for that write)', 'kvm_apic_ipi')
      return
    } else if (o._tag === 'KvmEoi' && this.strict(o.apicid) !== undefined && !this.acceptCauseOff) {
      // Without APICv/AVIC (strict(), see kvm_apicv_accept_irq) an EOI is the guest's APIC_EOI write.
      this.checked('apic-write-effect')
      this.fail(o, 'apic-write-effect', 'a kvm_apic APIC_EOI write just before it on this thread (with the LAPIC emulated, apic_set_eoi runs only for that write)', 'kvm_eoi')
      return
    }
    if (o._tag === 'KvmApic' && o.rw === 'write' && (o.reg === 'APIC_ICR' || o.reg === 'APIC_EOI')) this.apicWrite.set(k, { reg: o.reg, value: Number(o.value & 0xffffffffn), line: o.line })
    if (o._tag === 'KvmApic' && o.rw === 'write' && o.reg === 'APIC_ICR2' && ov !== undefined) this.icr2.set(ov, Number(o.value & 0xffffffffn))

    // Run loop (kvm_amd only: svm.c): one kvm_entry per VMRUN, one kvm_exit after it.
    if (fo.vendor === 'kvm_amd') {
      if (o._tag === 'KvmMmio' && o.type === 'write' && this.mmioDue.get(k)?.gpa === o.gpa) { this.checked('npf-mmio-write-traced'); this.mmioDue.delete(k) }
      if (o._tag === 'KvmUserspaceExit') this.mmioDue.delete(k)
      if (o._tag === 'KvmEntry' || o._tag === 'KvmExit') {
        this.checked('entry-exit-alternate')
        const since = this.inGuest.get(k)
        if (o._tag === 'KvmEntry' && since !== undefined) {
          this.fail(o, 'entry-exit-alternate', `a kvm_exit first (this vCPU thread entered the guest on line ${since}; svm.c traces one kvm_entry per VMRUN and one kvm_exit after it)`, 'kvm_entry')
          return
        }
        if (o._tag === 'KvmExit' && since === undefined) {
          this.fail(o, 'entry-exit-alternate', 'a kvm_entry first (tracing began before the first KVM_RUN, so every kvm_exit follows a traced kvm_entry of its thread)', 'kvm_exit')
          return
        }
        if (o._tag === 'KvmEntry') {
          // A port I/O exit traces its kvm_pio before the guest runs again (OUT: x86.c emulator_pio_out,
          // before the device or userspace sees it; IN: at once for an in-kernel device, else when the next
          // KVM_RUN completes it, complete_emulator_pio_in, before vcpu_enter_guest).
          const io = this.ioExit.get(k)
          this.ioExit.delete(k)
          if (io && !io.string && io.n === 0) {
            this.checked('pio-matches-io-exit')
            this.fail(o, 'pio-matches-io-exit', `a kvm_pio of port 0x${io.port.toString(16)} first (the io exit on line ${io.line}: svm.c io_interception → x86.c kvm_fast_pio traces it)`, 'kvm_entry')
            return
          }
          // An interrupt whose delivery an exit interrupted is re-injected before the next VMRUN
          // (svm.c svm_complete_interrupts queues it and sets KVM_REQ_EVENT; x86.c
          // kvm_check_and_inject_events re-injects it before any new event). Only an exception
          // (kvm_inj_exception, handled first there) may take its place; that drops the obligation below.
          const due = this.mmioDue.get(k)
          this.mmioDue.delete(k)
          if (due && !this.apicMmioOff) {
            this.checked('npf-mmio-write-traced')
            this.fail(o, 'npf-mmio-write-traced', `a kvm_mmio write of 0x${due.gpa.toString(16)} first (the write fault on line ${due.line} is emulated: x86.c write_mmio traces every emulated MMIO write before it dispatches it)`, 'kvm_entry')
            return
          }
          const p = this.injPending.get(k)
          const v = vcpuOf(o) ?? this.threadVcpu.get(k)
          if (p?.fromExit && !this.strictAllOff && (v === undefined || !this.strictOff.has(v))) {
            this.checked('reinjection-of-interrupted-event')
            this.fail(o, 'reinjection-of-interrupted-event', `a re-injection of vector 0x${p.vec.toString(16)} first (${p.why})`, 'kvm_entry')
            return
          }
          this.inGuest.set(k, o.line)
          this.injPending.delete(k)
        }
        else {
          this.inGuest.delete(k)
          // svm.c svm_get_exit_info prints EXITINTINFO: valid (bit 31) with type INTR (bits 10:8 = 0) is an
          // interrupt whose delivery the exit interrupted; svm_complete_interrupts queues it as injected.
          // svm.c io_interception: EXITINFO1 of an IOIO exit (AMD APM vol. 2, 15.10.2): bit 0 IN, bit 2
          // string, bits 4-6 operand size 1/2/4, bits 31:16 the port.
          const i1 = o.info1
          if (o.reason === 'io' && i1 !== undefined) this.ioExit.set(k, { port: Number((i1 >> 16n) & 0xffffn), in: (i1 & 1n) === 1n, size: (i1 & 0x10n) ? 1 : (i1 & 0x20n) ? 2 : (i1 & 0x40n) ? 4 : 0, string: (i1 & 4n) !== 0n, line: o.line, n: 0 })
          // A nested page fault (svm.c npf_interception, EXITINFO1 = page-fault error code, EXITINFO2 = the
          // guest physical address) that writes (PFERR_WRITE_MASK, bit 1) the IOAPIC or xAPIC page: no memslot
          // backs it, so mmu.c kvm_mmu_page_fault returns RET_PF_EMULATE and the emulator's store goes
          // through x86.c write_mmio, which traces kvm_mmio before the device handles it.
          const g = o.info2
          if (o.reason === 'npf' && g !== undefined && o.info1 !== undefined && (o.info1 & 2n) !== 0n && (inIoapicWindow(g) || inApicPage(g)))
            this.mmioDue.set(k, { gpa: g, line: o.line })
          const ii = o.intrInfo
          if (ii !== undefined && (ii & 0x80000000) !== 0 && ((ii >>> 8) & 7) === 0) this.injPending.set(k, { vec: ii & 0xff, line: o.line, fromExit: true, why: `the kvm_exit on line ${o.line} reports its delivery interrupted (intr_info 0x${(ii >>> 0).toString(16)})` })
        }
      } else if (o._tag === 'KvmInjVirq' && !o.soft && o.variant === undefined && !this.strictAllOff && !this.inGuest.has(k)) {
        const v = vcpuOf(o) ?? this.threadVcpu.get(k)
        if (v === undefined || !this.strictOff.has(v)) {
          // x86.c kvm_check_and_inject_events: an interrupt already injected (vcpu->arch.interrupt.injected:
          // not yet delivered by a VMRUN) is re-injected, printed [reinjected], before any new one is taken.
          this.checked('reinjection-of-interrupted-event')
          const p = this.injPending.get(k)
          const bad = o.reinjected
            ? (!p ? 'a fresh injection (no injection on this thread is waiting: none since its last kvm_entry, and no exit reported one interrupted)' : p.vec !== o.vector ? `a re-injection of vector 0x${p.vec.toString(16)} (${p.why})` : undefined)
            : p ? `a re-injection of vector 0x${p.vec.toString(16)} first (${p.why})` : undefined
          if (bad) {
            this.fail(o, 'reinjection-of-interrupted-event', bad, `${o.reinjected ? 're-injection' : 'injection'} of vector 0x${o.vector.toString(16)}`)
            return
          }
          this.injPending.set(k, { vec: o.vector, line: o.line, fromExit: false, why: `injected on line ${o.line} and not yet entered` })
        }
      } else if (o._tag === 'KvmVcpuWakeup' && this.injPending.has(k) && !this.inGuest.has(k)) {
        // x86.c vcpu_run blocks (vcpu_block → kvm_vcpu_halt, which traces kvm_vcpu_wakeup) only while the
        // vCPU is not runnable; an injected, not yet delivered interrupt is re-injected by vcpu_enter_guest,
        // which runs only for a running vCPU, before it can halt again.
        const p = this.injPending.get(k)!
        this.checked('reinjection-of-interrupted-event')
        this.fail(o, 'reinjection-of-interrupted-event', `the injection of vector 0x${p.vec.toString(16)} to be delivered first (${p.why}): a vCPU with an injection in flight does not block`, 'kvm_vcpu_wakeup')
        return
      } else if (o._tag === 'KvmUserspaceExit' && this.ioExit.get(k) && !this.ioExit.get(k)!.in && !this.ioExit.get(k)!.string && this.ioExit.get(k)!.n === 0) {
        // An OUT is traced before it goes to userspace (x86.c emulator_pio_out traces, then exits).
        const io = this.ioExit.get(k)!
        this.checked('pio-matches-io-exit')
        this.fail(o, 'pio-matches-io-exit', `a kvm_pio of port 0x${io.port.toString(16)} first (the io exit on line ${io.line}: x86.c emulator_pio_out traces it before the exit to userspace)`, 'kvm_userspace_exit')
        return
      } else if (o._tag === 'KvmInjException') {
        this.mmioDue.delete(k) // the instruction faulted instead
        this.injPending.delete(k) // an exception is injected instead; what becomes of the interrupt is not modelled
      } else if (VCPU_CONTEXT.has(o._tag) && this.inGuest.has(k)) {
        this.checked('vcpu-work-outside-guest')
        this.fail(o, 'vcpu-work-outside-guest', `a kvm_exit first: this thread has been in guest mode since its kvm_entry on line ${this.inGuest.get(k)}, and ${o.event} is traced only by the vCPU thread outside it`, o.event)
        return
      }
      // A kvm_pio after an io exit is that exit's access: same port, direction and size; one per non-string
      // instruction. (After other exits an emulated instruction may do port I/O: not checked.)
      const io = this.ioExit.get(k)
      if (o._tag === 'KvmPio' && io) {
        this.checked('pio-matches-io-exit')
        const bad = io.port !== o.port || io.in !== (o.rw === 'read') || (io.size !== 0 && io.size !== o.size)
          ? `a ${io.in ? 'pio_read' : 'pio_write'} at 0x${io.port.toString(16)} size ${io.size} (the io exit on line ${io.line})`
          : !io.string && io.n >= 1 ? `no second kvm_pio (the io exit on line ${io.line} is one non-string instruction, traced once)` : undefined
        if (bad) {
          this.fail(o, 'pio-matches-io-exit', bad, `pio_${o.rw} at 0x${o.port.toString(16)} size ${o.size}`)
          return
        }
        io.n++
      }
    }

    // Causes of accepts.
    const cause = this.acceptCause.get(k)
    if (o._tag === 'KvmApicAcceptIrq') {
      this.fanSince.get(k)?.push(o)
      if (this.acceptCauseOff) return
      this.checked('accept-has-traced-cause')
      if (!cause) {
        this.fail(o, 'accept-has-traced-cause', 'a traced cause just before it on this thread (kvm_apic_ipi, kvm_msi_set_irq, a kvm_set_irq fan-out, an IOAPIC kvm_ack_irq or kvm_ioapic_delayed_eoi_inj): lapic.c __apic_accept_irq traces every accept, and in a fully observed trace every path into it is traced first', `accept of vector ${o.vec} by APIC ${o.apicid}`)
        return
      }
      if (cause.n >= cause.max) {
        this.fail(o, 'accept-has-traced-cause', `no further accept (the ${cause.what} on line ${cause.line} has one destination, which accepted already)`, `accept of vector ${o.vec} by APIC ${o.apicid}`)
        return
      }
      if (cause.vec !== undefined && cause.vec !== o.vec) {
        this.fail(o, 'accept-has-traced-cause', `vector ${cause.vec} (the ${cause.what} on line ${cause.line})`, `accept of vector ${o.vec} by APIC ${o.apicid}`)
        return
      }
      cause.n++
      return
    }
    const fan = cause?.kind === 'fan'
    if (fan && (o._tag === 'KvmPicSetIrq' || o._tag === 'KvmIoapicSetIrq' || o._tag === 'KvmMsiSetIrq')) {
      if (o._tag === 'KvmIoapicSetIrq') {
        const acc = this.fanSince.get(k)
        const pl = this.pendingLines.get(k)
        if (acc) {
          this.checked('ioapic-delivers-its-entry')
          // ioapic.c ioapic_set_irq: a low line or a masked entry never reaches kvm_irq_delivery_to_apic;
          // ioapic_service delivers the entry's vector; a physical unicast reaches at most one APIC.
          const unicast = o.destMode === 'physical' && o.dst !== 0xff && o.deliveryMode !== 'LowPrio'
          const bad = (pl?.after === 0 || o.masked) && acc.length > 0 ? `no kvm_apic_accept_irq before it (the ${o.masked ? 'entry is masked' : 'line went low'}: ioapic_set_irq does not deliver)`
            : acc.find((a) => a.vec !== o.vec) ? `accepts of vector ${o.vec} only (the entry's vector)`
            : unicast && acc.length > 1 ? `at most one accept (physical destination ${o.dst})`
            : unicast && acc.find((a) => a.apicid !== o.dst) ? `an accept by APIC ${o.dst} (the entry's physical destination)` : undefined
          if (bad) {
            const a = acc[0]!
            this.fail(o, 'ioapic-delivers-its-entry', bad, `${acc.length} accept(s) before it (first: APIC ${a.apicid} vector ${a.vec} on line ${a.line})`)
            return
          }
        }
        this.fanSince.set(k, [])
      } else if (o._tag === 'KvmMsiSetIrq') this.fanSince.set(k, undefined) // its accepts follow it: stop the per-pin count
      return
    }
    if (cause && cause.min > cause.n && !this.acceptCauseOff) {
      this.checked('unicast-reaches-destination')
      this.fail(o, 'unicast-reaches-destination', `${cause.min === 1 ? 'a kvm_apic_accept_irq' : `${cause.min} kvm_apic_accept_irq records`} first: the ${cause.what} on line ${cause.line} names ${cause.min === 1 ? 'an APIC that exists' : 'APICs that exist'} (lapic.c kvm_irq_delivery_to_apic reaches __apic_accept_irq, which traces before anything else), and ${cause.n} accepted`, o.event)
      return
    }
    if (fan) {
      // The fan-out ended: an accept after the last IOAPIC item has no kvm_ioapic_set_irq after it.
      const acc = this.fanSince.get(k)
      this.fanSince.delete(k)
      if (acc && acc.length > 0 && !this.acceptCauseOff && !cause.afterAck) {
        this.checked('ioapic-delivers-its-entry')
        this.fail(o, 'ioapic-delivers-its-entry', `the kvm_ioapic_set_irq of the pin that delivered vector ${acc[0]!.vec} on line ${acc[0]!.line} (ioapic.c ioapic_set_irq traces it after ioapic_service)`, o.event)
        return
      }
    }
    this.acceptCause.delete(k)
    const unicastTo = (physical: boolean, dst: number, shorthand?: string): number => (physical && dst !== 0xff && dst !== 0xffffffff && (shorthand === undefined || shorthand === 'dst') ? 1 : shorthand === 'self' ? 1 : Infinity)
    // Accepts a Fixed unicast must produce: one, when its destination is one of the VMM's vCPUs (or itself).
    const exists = (dst: number): boolean => fo.vcpus !== undefined && dst < fo.vcpus
    switch (o._tag) {
      case 'KvmApicIpi': {
        // lapic.c kvm_irq_delivery_to_apic: a shorthand reaches every present APIC (all) or all but the
        // sender (all-but-self); each traces its accept (hardware-enabled at reset).
        const all = fo.vcpus !== undefined && o.deliveryMode === 'Fixed' && o.assert && (o.shorthand === 'all' || o.shorthand === 'all-but-self') ? fo.vcpus - (o.shorthand === 'all' ? 0 : 1) : undefined
        const max = all ?? unicastTo(o.destMode === 'physical', o.destId, o.shorthand)
        const min = all ?? (o.deliveryMode === 'Fixed' && o.assert && max === 1 && (o.shorthand === 'self' || exists(o.destId)) ? 1 : 0)
        this.acceptCause.set(k, { kind: 'ipi', what: `kvm_apic_ipi to ${o.shorthand === 'self' ? 'self' : o.destId.toString(16)}`, line: o.line, n: 0, vec: o.vec, max, min })
        return
      }
      case 'KvmMsiSetIrq': {
        const max = o.deliveryMode === 'LowPrio' ? 1 : unicastTo(o.destMode === 'physical', o.dst)
        const min = o.deliveryMode === 'Fixed' && max === 1 && exists(o.dst) ? 1 : 0
        this.acceptCause.set(k, { kind: 'msi', what: `kvm_msi_set_irq to ${o.dst.toString(16)}`, line: o.line, n: 0, vec: o.vec, max, min })
        return
      }
      case 'KvmSetIrq':
        // Right after an IOAPIC ack this is an ack notifier's (eventfd.c irqfd_resampler_ack lowers the
        // resample source); the ack's own re-delivery (ioapic_service) then follows the fan-out's items.
        this.acceptCause.set(k, { kind: 'fan', what: `kvm_set_irq of GSI ${o.gsi}`, line: o.line, n: 0, max: Infinity, min: 0, ...(cause?.kind === 'eoi' ? { afterAck: true } : {}) })
        this.fanSince.set(k, [])
        return
      case 'KvmAckIrq':
        if (o.irqchip === 'ioapic') {
          // ioapic.c kvm_ioapic_update_eoi_one: after the ack notifiers, ioapic_service re-delivers THIS pin's
          // entry (one destination for a physical unicast; logical or lowest-priority: not bounded here).
          const e = this.ioapicEntry.get(o.pin)
          this.acceptCause.set(k, { kind: 'eoi', what: `IOAPIC ack of pin ${o.pin} (re-delivery while its line is high)`, line: o.line, n: 0, max: e?.unicast ? 1 : Infinity, min: 0, ...(e ? { vec: e.vec } : {}) })
        }
        return
      case 'KvmMmio':
        // ioapic.c ioapic_write_indirect services a level pin whose line is high when the write leaves it
        // unmasked with remote IRR clear: its accept follows the guest's IOAPIC window write.
        if (o.type === 'write' && inIoapicWindow(o.gpa)) this.acceptCause.set(k, { kind: 'eoi', what: 'IOAPIC entry write (ioapic_write_indirect services a pending level pin)', line: o.line, n: 0, max: Infinity, min: 0 })
        return
      case 'KvmIoapicDelayedEoiInj':
        this.acceptCause.set(k, { kind: 'eoi', what: 'delayed IOAPIC EOI injection', line: o.line, n: 0, vec: o.vec, max: Infinity, min: 0 })
        return
      default:
        return
    }
  }

  private endOfTrace(endLine: number): void {
    const open: Array<[rule: string, line: number, what: string]> = []
    if (this.ioctlsTraced) for (const l of this.inRun.values()) open.push(['kvm-run-brackets', l, `a kvm_userspace_exit for the KVM_RUN on line ${l} (the harness stops tracing only after every vCPU thread has returned from KVM_RUN)`])
    for (const c of this.acceptCause.values()) if (!this.acceptCauseOff && c.min > c.n) open.push(['unicast-reaches-destination', c.line, `a kvm_apic_accept_irq for the ${c.what} on line ${c.line}`])
    for (const w of this.apicWrite.values()) open.push(['apic-write-effect', w.line, `the ${w.reg === 'APIC_ICR' ? 'kvm_apic_ipi' : 'kvm_eoi'} of the ${w.reg} write on line ${w.line}`])
    for (const l of this.irqLineIoctl.values()) open.push(['irq-line-ioctl-sets-irq', l, `the kvm_set_irq of the KVM_IRQ_LINE on line ${l}`])
    for (const l of this.signalMsiIoctl.values()) open.push(['signal-msi-ioctl-traces-msi', l, `the kvm_msi_set_irq of the KVM_SIGNAL_MSI on line ${l}`])
    if (!this.apicMmioOff) for (const m of this.apicMmio.values()) open.push(['apic-mmio-dispatch', m.line, `the kvm_apic write of the xAPIC MMIO write on line ${m.line}`])
    for (const io of this.ioExit.values()) if (!io.in && !io.string && io.n === 0) open.push(['pio-matches-io-exit', io.line, `the kvm_pio of the io exit on line ${io.line}`])
    for (const f of this.fanning.values()) {
      const route = this.routes.get(f.gsi)
      if (route && f.items.length < route.length) open.push(['set-irq-fans-out-as-routed', f.line, `${route[f.items.length]} (GSI ${f.gsi} set on line ${f.line}; its routing: ${route.join(', ')})`])
    }
    for (const [k, acc] of this.fanSince) {
      const c = this.acceptCause.get(k)
      if (acc && acc.length > 0 && !this.acceptCauseOff && !c?.afterAck) open.push(['ioapic-delivers-its-entry', acc[0]!.line, `the kvm_ioapic_set_irq of the pin that delivered vector ${acc[0]!.vec} on line ${acc[0]!.line}`])
    }
    for (const d of this.resampleDue.values()) open.push(['ack-runs-resampler', d.line, `the resampler's kvm_set_irq of GSI ${d.gsi} (the ack on line ${d.line})`])
    for (const d of this.picAckDue.values()) open.push(['pic-isr-clear-traces-ack', d.line, `the kvm_ack_irq of IRQ ${d.irqs[d.i]} (the PIC write on line ${d.line} clears it)`])
    for (const a of this.ackExpect.values()) if (a.i < a.pins.length) open.push(['eoi-acks-ioapic-pins', a.line, `the ack of IOAPIC pin ${a.pins[a.i]} (the EOI of vector ${a.vec} on line ${a.line})`])
    open.sort((a, b) => a[1] - b[1])
    const first = open[0]
    if (!first) return
    this.checked(first[0])
    this.failure = { file: this.file, line: endLine, rule: first[0], expected: `${first[2]} before the trace ends`, observed: 'the end of the trace', text: '(end of trace)' }
  }

  /** The fully observed vCPU `vcpu` (strict rules apply), or undefined. */
  private strict(vcpu: number | undefined): number | undefined {
    return this.opts.fullyObserved && !this.strictAllOff && vcpu !== undefined && !this.strictOff.has(vcpu) ? vcpu : undefined
  }

  /** The vectors the in-kernel 8259 could hand out now (`kvm_pic_read_irq`: irq_base + 0..7 of either chip). */
  private picVectors(): Set<number> {
    const out = new Set<number>()
    // kvm_create_pic zeroes the chips: irq_base 0 until an ICW2 is written.
    const bases = this.pics ? this.pics.flatMap((s) => [s.master.irqBase, s.slave.irqBase]) : [0, 8]
    for (const b of bases) for (let i = 0; i < 8; i++) out.add(b + i)
    return out
  }

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

  /**
   * Fully observed in-kernel captures: INTA (i8259.c kvm_pic_read_irq) runs only inside
   * x86.c kvm_cpu_get_interrupt, whose result kvm_check_and_inject_events injects (kvm_inj_virq) at once;
   * and kvm_cpu_get_extint takes the PIC's vector first whenever the PIC's INTR is high and the vCPU
   * accepts PIC interrupts (lapic.c kvm_apic_accept_pic_intr: LVT0 unmasked ExtINT, or the APIC
   * hardware-disabled). So at each fresh injection the PIC states are narrowed to those that explain it:
   * INTA handing out this vector, or (INTR low or not accepted) a LAPIC vector. Returns which source(s)
   * remain, or undefined when the rule does not apply.
   */
  private exactIntaAt(o: KvmInjVirq, vcpu: number, lapic: boolean): 'pic' | 'lapic' | 'both' | undefined {
    if (!this.exactInta || !this.pics) return undefined
    const acc = this.picAccept.get(vcpu)
    const next: PicState[] = []
    let pic = false
    let lap = false
    const handedOut = new Set<number>()
    for (const s of this.pics) {
      if (s.output && acc !== false) {
        const r = picAck(s)
        if (r.acked.length > 0) { this.exactInta = false; this.notes.push(`line ${o.line}: exact INTA off (auto-EOI: the INTA itself acks)`); return undefined }
        handedOut.add(r.vector)
        if (r.vector === o.vector) { next.push(r.state); pic = true }
        if (acc === undefined && lapic) { next.push(s); lap = true }
      } else if (lapic) { next.push(s); lap = true }
    }
    this.checked('pic-inta-yields-vector')
    if (next.length === 0) {
      const outs = [...handedOut].map((v) => `0x${v.toString(16)}`).join(' or ')
      this.fail(o, 'pic-inta-yields-vector', handedOut.size > 0 ? `vector ${outs}: the 8259's INTR is high and APIC ${vcpu} accepts ExtINT, so kvm_cpu_get_extint hands out the PIC's vector (kvm_pic_read_irq) before any LAPIC vector` : `a LAPIC vector (the 8259's INTR is low${acc === false ? ', and APIC ' + vcpu + "'s LVT0 does not accept ExtINT" : ''}, so this vector did not come from the PIC)`, `injection of vector 0x${o.vector.toString(16)}`)
      return undefined
    }
    this.pics = dedupePics(next)
    return pic && lap ? 'both' : pic ? 'pic' : 'lapic'
  }

  /** Close the PIC state set under untraced INTAs (each INTA is possible while INTR is high); none in an exact-INTA trace. */
  private withIntas(states: PicState[]): PicState[] {
    if (this.exactInta) return states
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
    if (o._tag === 'SysEnterIoctl' && o.name === 'KVM_SET_GSI_ROUTING') this.routes.clear() // learned again from here
    const k = threadKey(o)
    const cur = this.fanning.get(k)
    if (o._tag === 'KvmPicSetIrq' || o._tag === 'KvmIoapicSetIrq' || o._tag === 'KvmMsiSetIrq') {
      if (!cur) {
        // irq_comm.c kvm_set_pic_irq and kvm_set_ioapic_irq run only as routing entries of kvm_set_irq, which
        // traces first on the same thread (KVM_IRQ_LINE, irqfd_inject, the PIT, the resampler); the one other
        // caller of ioapic_set_irq is KVM_SET_IRQCHIP's kvm_ioapic_inject_all. (kvm_msi_set_irq also has
        // KVM_SIGNAL_MSI and the irqfd atomic path.) Known in a fully observed capture, where tracing starts
        // before any interrupt is raised, for as long as the IOAPIC is known from reset (ioapicRegs).
        if (o._tag !== 'KvmMsiSetIrq' && this.opts.fullyObserved?.irqchip === 'in-kernel' && this.ioapicRegs !== undefined) {
          this.checked('set-irq-fans-out-as-routed')
          this.fail(o, 'set-irq-fans-out-as-routed', 'a kvm_set_irq just before it on this thread (an irqchip set is one routing entry of kvm_set_irq, traced first)', o.event)
        }
        return
      }
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
    if ((o._tag === 'KvmEntry' || o._tag === 'KvmExit') && o.vcpu !== undefined) this.threadVcpu.set(threadKey(o), o.vcpu)
    if (o._tag === 'KvmApicvAcceptIrq') this.strictOff.add(o.apicid)
    if (o._tag === 'KvmApicAcceptIrq' && o.deliveryMode === 'INIT') this.strictOff.add(o.apicid)
    if (o._tag === 'SysEnterIoctl' && (o.name === 'KVM_SET_LAPIC' || o.name === 'KVM_SET_VCPU_EVENTS')) this.strictAllOff = true
    this.strictRules(o)
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
        const lists: ReadonlyArray<number>[] = []
        for (const s of this.withIntas(this.pics)) {
          const r = picStep(s, { _tag: 'PicPortWritten', port: o.port as PicPort, value: o.val & 0xff })
          next.push(r.state)
          acks.push(new Set(r.acked))
          lists.push(r.acked)
        }
        this.pics = next
        this.pendingAcks = acks
        if (this.exactInta && lists.length > 0) {
          const first = lists[0]!
          if (first.length > 0 && lists.every((l) => l.length === first.length && l.every((x, i) => x === first[i]))) this.picAckDue.set(threadKey(o), { irqs: [...first], i: 0, line: o.line })
        }
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
        let picSource = false
        const sv = this.strict(vcpuOf(o) ?? this.threadVcpu.get(k))
        if (sv !== undefined && !o.reinjected && !o.soft && o.variant === undefined) {
          this.checked('inj-virq-from-pending-irr')
          const lapic = this.accepted.get(sv)?.has(o.vector) ?? false
          const fo = this.opts.fullyObserved!
          const extint = fo.irqchip === 'split' ? this.kvmInterrupt.get(k) === true : this.picVectors().has(o.vector)
          // A consumed KVM_INTERRUPT: the split-irqchip rule below says the same more precisely.
          if (!lapic && !extint && !(fo.irqchip === 'split' && this.kvmInterrupt.get(k) === false)) {
            const src = fo.irqchip === 'split' ? 'a KVM_INTERRUPT on this thread not yet injected' : `an 8259 vector (${[...this.picVectors()].sort((a, b) => a - b).map((v) => `0x${v.toString(16)}`).join(', ')})`
            this.fail(o, 'inj-virq-from-pending-irr', `a kvm_apic_accept_irq of vector ${o.vector} for APIC ${sv} since its last injection, or ${src} (the trace is fully observed)`, `injection of vector 0x${o.vector.toString(16)}`)
            return
          }
          // Fully observed in-kernel 8259: INTA happens exactly here (see exactIntaAt).
          const src = this.exactIntaAt(o, sv, lapic)
          if (this.failure) return
          if (src === 'pic') picSource = true
          // Both sources possible: which one the kernel took is not known, nor whether ISR changed.
          if (src === 'both' || (src === undefined && lapic && extint)) this.strictOff.add(sv)
          else if (lapic && src !== 'pic') {
            // lapic.c apic_has_interrupt_for_ppr: the highest IRR vector is delivered only if its
            // priority class is above PPR's, and PPR >= the class of the highest ISR vector (apic_update_ppr).
            const isr = this.inService.get(sv) ?? []
            const top = isr.length ? Math.max(...isr) : -1
            this.checked('inj-virq-above-ppr')
            if (top >= 0 && (o.vector & 0xf0) <= (top & 0xf0)) {
              this.fail(o, 'inj-virq-above-ppr', `no LAPIC injection of class ${o.vector >> 4} or below: vector 0x${top.toString(16)} (class ${top >> 4}) is in service on APIC ${sv} and not yet EOIed (the trace is fully observed)`, `injection of vector 0x${o.vector.toString(16)}`)
              return
            }
          }
        }
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
        const vcpu = vcpuOf(o) ?? this.threadVcpu.get(k)
        if (vcpu === undefined) return
        const a = this.accepted.get(vcpu)
        if (o.reinjected) return // x86.c kvm_check_and_inject_events re-injects interrupt.nr: IRR and ISR are untouched
        if (!a?.has(o.vector) || picSource) return // ExtINT from the PIC or accepted before the trace: not a LAPIC vector we track
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
        if (this.strict(o.apicid) !== undefined) {
          this.checked('eoi-names-vector-in-service')
          const want = isr.length === 0 ? -1 : Math.max(...isr)
          if (o.vector !== want) {
            this.fail(o, 'eoi-names-vector-in-service', want === -1 ? `vector -1 (no vector injected on APIC ${o.apicid} is in service; the trace is fully observed)` : `vector ${want} (the highest vector injected on APIC ${o.apicid} and not yet EOIed; the trace is fully observed)`, `vector ${o.vector}`)
            return
          }
        }
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

  /**
   * `endLine`: the last physical line of the input. Given, a fully observed capture must also end with no
   * obligation open: native/virq-vmm.c joins every vCPU thread (each KVM_RUN returned) before it stops tracing.
   */
  end(endLine?: number): Verdict {
    if (endLine !== undefined && this.opts.fullyObserved && !this.failure) this.endOfTrace(endLine)
    const checks = Object.values(this.rules).reduce((a, b) => a + b, 0)
    const base = { file: this.file, observations: this.count, byEvent: this.byEvent, rulesChecked: this.rules, notes: this.notes }
    if (this.failure) return { ...base, verdict: 'diverges', contradiction: this.failure }
    return { ...base, verdict: checks > 0 ? 'conforms' : 'nothing-to-check' }
  }
}

/** A traced event an accept may follow from (fully observed traces). */
interface AcceptCause {
  readonly kind: 'ipi' | 'msi' | 'fan' | 'eoi'
  readonly what: string
  readonly line: number
  /** Accepts it can produce: 1 for a physical unicast, else unbounded. */
  readonly max: number
  /** Accepts it must produce before the thread traces anything else (a Fixed unicast to an existing APIC: 1). */
  readonly min: number
  /** The vector its accepts carry, when the cause prints it. */
  readonly vec?: number
  /** A fan-out that an IOAPIC ack notifier started (accepts after its items may be the ack's re-delivery). */
  readonly afterAck?: boolean
  n: number
}

/**
 * Events traced only by a vCPU thread outside guest mode (kvm_amd): port and MMIO emulation, the
 * LAPIC register emulation that traces kvm_apic/kvm_eoi, injection (svm.c svm_inject_irq, called from
 * x86.c vcpu_enter_guest before svm_vcpu_run), the return to userspace, and syscalls. Events that can
 * come from interrupt context on that thread (kvm_set_irq, accepts, kvm_vcpu_wakeup) are not here.
 */
const VCPU_CONTEXT = new Set(['KvmPio', 'KvmMmio', 'KvmInjVirq', 'KvmUserspaceExit', 'SysEnterIoctl', 'KvmApic', 'KvmEoi', 'KvmAckIrq', 'KvmVcpuWakeup'])
/** What may be traced between the IOAPIC acks of one EOI: notifiers' fan-outs, re-deliveries, the storm delay. */
const ACK_WINDOW = new Set(['KvmAckIrq', 'KvmSetIrq', 'KvmPicSetIrq', 'KvmIoapicSetIrq', 'KvmMsiSetIrq', 'KvmApicAcceptIrq', 'KvmIoapicDelayedEoiInj'])
/** Events traced only inside KVM_RUN on the vCPU's thread (x86.c vcpu_run and what it calls). */
const IN_RUN = new Set(['KvmPio', 'KvmMmio', 'KvmInjVirq', 'KvmApic', 'KvmEoi', 'KvmVcpuWakeup', 'KvmExit'])

/**
 * Undecoded events that deliver no interrupt (they are MMU, TSC, FPU, emulation and polling
 * tracepoints of x86.c/mmu and kvm_main.c); any other undecoded event turns `accept-has-traced-cause` off.
 */
const HARMLESS_UNKNOWN = new Set([
  'kvm_write_tsc_offset', 'kvm_fpu', 'kvm_emulate_insn', 'kvm_page_fault', 'kvm_unmap_hva_range', 'vcpu_match_mmio',
  'kvm_halt_poll_ns', 'kvm_age_hva', 'kvm_test_age_hva', 'kvm_set_spte_hva', 'kvm_cr', 'kvm_cpuid', 'kvm_track_tsc',
  'kvm_update_master_clock', 'kvm_pvclock_update', 'kvm_wait_lapic_expire', 'kvm_set_user_memory_region',
  'kvm_mmu_get_page', 'kvm_mmu_prepare_zap_page', 'kvm_mmu_spte_requested', 'kvm_mmu_set_spte', 'kvm_mmu_pagetable_walk',
  'kvm_mmu_paging_element', 'kvm_mmu_walker_error', 'kvm_mmu_sync_page', 'kvm_mmu_unsync_page', 'kvm_mmu_zap_all_fast',
  'kvm_tdp_mmu_spte_changed', 'kvm_mmu_split_huge_page', 'fast_page_fault', 'handle_mmio_page_fault', 'mark_mmio_spte',
  'kvm_dirty_ring_push', 'kvm_dirty_ring_reset', 'kvm_dirty_ring_exit', 'kvm_iocsr', 'kvm_smm_transition',
])

/** The thread an event was traced on: its pid, else its CPU, else one stream (an excerpt with the columns stripped). */
/** ioapic.c ioapic_in_range: IOAPIC_DEFAULT_BASE_ADDRESS, IOAPIC_MEM_LENGTH (0x100). */
const inIoapicWindow = (gpa: bigint): boolean => gpa >= 0xfec00000n && gpa < 0xfec00100n
/** The xAPIC page at APIC_DEFAULT_PHYS_BASE (lapic.c apic_mmio_in_range; the base is not moved while the rules that use this are on). */
const inApicPage = (gpa: bigint): boolean => gpa >= 0xfee00000n && gpa < 0xfee01000n
const threadKey = (o: Observation): string => (o.pid !== undefined ? `p${o.pid}` : o.cpu !== undefined ? `c${o.cpu}` : 'all')

/** The vCPU an observation ran on, from the task column (`CPU 1/KVM`); undefined if not printed. */
const vcpuOf = (o: Observation): number | undefined => {
  const m = /CPU (\d+)\/KVM/.exec(o.task ?? '')
  return m ? Number(m[1]) : undefined
}
