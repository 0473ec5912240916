/**
 * A LAPIC interrupt message: what an ICR write, an IOAPIC redirection entry or an MSI
 * decodes to before KVM routes it (`struct kvm_lapic_irq`, arch/x86/include/asm/kvm_host.h;
 * SDM vol. 3A 11.6.1 for the ICR fields).
 */
import type { DeliveryMode } from './events.js'

export interface LapicMessage { readonly vector: number; readonly deliveryMode: DeliveryMode; readonly destMode: 'physical' | 'logical'; readonly dest: number; readonly trigger: 'edge' | 'level'; readonly level: 0 | 1; readonly shorthand: 'none' | 'self' | 'all' | 'allButSelf' }
