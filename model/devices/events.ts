/**
 * Device-level events: the inputs of each substrate device's own reducer.
 * Facts, past tense, `_tag`-ged. The System (model/System.ts) turns its own
 * events into these. test/reference drives a naive model with structurally
 * identical events (it does not import this file).
 */

// ---------------------------------------------------------------- 8259 PIC pair
/** I/O ports of the PIC pair and the ELCR (arch/x86/kvm/i8259.c `picdev_write`, `elcr_ioport_write`). */
export type PicPort = 0x20 | 0x21 | 0xa0 | 0xa1 | 0x4d0 | 0x4d1

export type PicEvent =
  /** The (ORed) line level of IRQ `irq` (0..15) changed or was re-driven: `kvm_pic_set_irq` → `pic_set_irq1`. */
  | { readonly _tag: 'PicLineSet'; readonly irq: number; readonly level: 0 | 1 }
  /** An OUT to a PIC or ELCR port (ICW1-4, OCW1-3, ELCR). */
  | { readonly _tag: 'PicPortWritten'; readonly port: PicPort; readonly value: number }
  /** An IN from a PIC or ELCR port (read IRR/ISR/IMR, poll command). */
  | { readonly _tag: 'PicPortRead'; readonly port: PicPort }
  /** The CPU's interrupt acknowledge cycle (INTA): `kvm_pic_read_irq`. */
  | { readonly _tag: 'PicAcknowledged' }

// ---------------------------------------------------------------- IOAPIC
export type IoapicEvent =
  /** The (ORed) level of input pin `pin` (0..23): `kvm_ioapic_set_irq` → `ioapic_set_irq` (IRR update only). */
  | { readonly _tag: 'IoapicLineSet'; readonly pin: number; readonly level: 0 | 1 }
  /** A guest write of one half of a redirection entry (IOREGSEL 0x10+2*pin (+1), then IOWIN): `ioapic_write_indirect`. */
  | { readonly _tag: 'IoapicEntryWritten'; readonly pin: number; readonly half: 'low' | 'high'; readonly value: number }
  /** The IOAPIC turned pending pin `pin` into a LAPIC message: `ioapic_service` (the message itself is returned by `Ioapic.service`). */
  | { readonly _tag: 'IoapicPinServiced'; readonly pin: number }
  /** An EOI for `vector` broadcast from a LAPIC: `kvm_ioapic_update_eoi` (clears remote IRR of level pins with that vector). */
  | { readonly _tag: 'IoapicEoiReceived'; readonly vector: number }

// ---------------------------------------------------------------- LAPIC
/** Delivery modes (SDM vol. 3A, 11.6.1; ICR bits 10:8, also IOAPIC redirection entries and MSI data). */
export type DeliveryMode = 'Fixed' | 'LowestPriority' | 'SMI' | 'NMI' | 'INIT' | 'StartUp' | 'ExtINT'
/** Registers a guest may write in this model (xAPIC offsets: TPR 0x80, LDR 0xD0, DFR 0xE0, SVR 0xF0, LVT0 0x350; ID 0x20). */
export type LapicReg = 'ID' | 'TPR' | 'LDR' | 'DFR' | 'SVR' | 'LVT0'

export type LapicEvent =
  /** An interrupt message arrived: `__apic_accept_irq(apic, delivery_mode, vector, level, trig_mode)`. */
  | {
      readonly _tag: 'LapicIrqAccepted'
      readonly deliveryMode: DeliveryMode
      readonly vector: number
      /** 1 = assert, 0 = deassert (level-triggered INIT de-assert; a Fixed/LowPrio with trigger level and level 0 is dropped). */
      readonly level: 0 | 1
      readonly trigger: 'edge' | 'level'
    }
  /** A guest register write (`kvm_lapic_reg_write`). */
  | { readonly _tag: 'LapicRegWritten'; readonly reg: LapicReg; readonly value: number }
  /** IA32_APIC_BASE: x2APIC mode switched on or off (EXTD bit). Enables/disables x2APIC ID/LDR semantics. */
  | { readonly _tag: 'LapicModeSet'; readonly x2apic: boolean }
  /** A guest write to the EOI register: `apic_set_eoi`. */
  | { readonly _tag: 'LapicEoiWritten' }
  /** The CPU acknowledged the highest deliverable vector (IRR→ISR): `kvm_apic_ack_interrupt` at injection. */
  | { readonly _tag: 'LapicInterruptAcked' }
