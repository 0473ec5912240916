/**
 * MSI address/data decode as KVM does it (`kvm_msi_to_lapic_irq`, arch/x86/kvm/irq.c,
 * formerly `kvm_set_msi_irq` in irq_comm.c; field layout SDM vol. 3A 11.11.1-2,
 * `struct msi_address_lo`/`msi_msg_data` in arch/x86/include/asm/msi.h):
 *   address: 0xFEE in 31:20, destination id 19:12, redirection hint bit 3,
 *            destination mode bit 2 (1 = logical);
 *   data:    vector 7:0, delivery mode 10:8, level (assert) bit 14, trigger bit 15.
 * KVM always sets level 1 and no shorthand. An MSI with the redirection hint is
 * delivered lowest-priority (`kvm_lowest_prio_delivery`: `msi_redir_hint`).
 * With `x2apicFormat` (KVM_CAP_X2APIC_API), address_hi bits 31:8 supply
 * destination bits 31:8 (`x86_msi_msg_get_destid`).
 */
import type { DeliveryMode } from './events.js'
import type { LapicMessage } from './message.js'

const MODES: ReadonlyArray<DeliveryMode | undefined> = ['Fixed', 'LowestPriority', 'SMI', undefined, 'NMI', 'INIT', 'StartUp', 'ExtINT']

export interface MsiOptions {
  /** High 32 address bits (`address_hi`); used only with `x2apicFormat`. */
  readonly addressHi?: number
  readonly x2apicFormat?: boolean
}

/** The LAPIC message of an MSI write, or undefined when the delivery mode is reserved (3). */
export const decodeMsi = (address: number, data: number, opts: MsiOptions = {}): LapicMessage | undefined => {
  const mode = MODES[(data >>> 8) & 7]
  if (mode === undefined) return undefined
  const redirHint = ((address >>> 3) & 1) === 1
  let dest = (address >>> 12) & 0xff
  if (opts.x2apicFormat) dest = (dest | ((opts.addressHi ?? 0) & 0xffffff00)) >>> 0
  return {
    vector: data & 0xff,
    deliveryMode: redirHint && mode === 'Fixed' ? 'LowestPriority' : mode,
    destMode: ((address >>> 2) & 1) === 1 ? 'logical' : 'physical',
    dest,
    trigger: ((data >>> 15) & 1) === 1 ? 'level' : 'edge',
    level: 1,
    shorthand: 'none',
  }
}

/** The inverse for tests and the CLI: an MSI address/data pair for a message (no redirection hint). */
export const encodeMsi = (m: Pick<LapicMessage, 'vector' | 'deliveryMode' | 'destMode' | 'dest' | 'trigger'>): { readonly address: number; readonly data: number } => {
  const code = MODES.indexOf(m.deliveryMode)
  return {
    address: (0xfee00000 | ((m.dest & 0xff) << 12) | (m.destMode === 'logical' ? 4 : 0)) >>> 0,
    data: (m.vector | (code << 8) | (1 << 14) | (m.trigger === 'level' ? 1 << 15 : 0)) >>> 0,
  }
}
