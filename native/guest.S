/*
 * Guest code for the capture harness (native/virq-vmm.c). One flat image, loaded at guest physical
 * 0x1000; its first words are the entry point of each scenario (the VMM reads them, see ENTRY_*).
 *
 * The guest talks to the VMM through four I/O ports that the VMM emulates (KVM_EXIT_IO):
 *   0x500 REQ   out al: ask the scenario's device to interrupt (al = how many services it needs)
 *   0x501 ACK   out al: the ISR services the device once (a level device lowers its line at 0)
 *   0x502 DONE  out al: the scenario finished; al = interrupts handled
 *   0x503 FAIL  out al: the guest saw something impossible (al = code); the VMM reports it
 * Everything interrupt-related is the real hardware interface: 8259 ports 0x20/0x21/0xa0/0xa1 and
 * ELCR 0x4d0/0x4d1 (8259A data sheet; i8259.c), the IOAPIC at 0xfec00000 (IOREGSEL/IOWIN, 82093AA),
 * the LAPIC at 0xfee00000 (SDM vol. 3 ch. 11: SVR 0xf0, EOI 0xb0, LVT0 0x350, ICR 0x300/0x310).
 *
 * Waiting never loses a wakeup: `cli; compare; sti; hlt` (the STI shadow covers the HLT, SDM vol. 2
 * STI: "interrupts are recognized after the instruction following STI").
 */
        .set REQ, 0x500
        .set ACK, 0x501
        .set DONE, 0x502
        .set FAIL, 0x503
        .set LAPIC, 0xfee00000
        .set IOAPIC, 0xfec00000
        .set BASE, 0x1000

        .text
        .code16
        .globl _start
_start:
        /* entry table: order matches enum scenario in virq-vmm.c */
        .long rm_pic_edge, rm_pic_level, rm_split, pm_ioapic, pm_msi, pm_ipi_bsp, pm_ipi_ap, pm_irqfd

/* ---------------------------------------------------------------- real mode ---------------- */

rm_setup:                               /* flat segments, stack at 0x8000 */
        xorw %ax, %ax
        movw %ax, %ds
        movw %ax, %es
        ret

/* ICW1-4 for the pair: master vectors 0x20-0x27, slave 0x28-0x2f, slave on IRQ2, 8086 mode,
 * normal EOI; all lines masked afterwards. */
rm_pic_init:
        movb $0x11, %al ; outb %al, $0x20 ; outb %al, $0xa0   /* ICW1: edge, cascade, ICW4 */
        movb $0x20, %al ; outb %al, $0x21                      /* ICW2 master base */
        movb $0x28, %al ; outb %al, $0xa1                      /* ICW2 slave base */
        movb $0x04, %al ; outb %al, $0x21                      /* ICW3: slave on IR2 */
        movb $0x02, %al ; outb %al, $0xa1                      /* ICW3: slave id 2 */
        movb $0x01, %al ; outb %al, $0x21 ; outb %al, $0xa1   /* ICW4: 8086 */
        movb $0xff, %al ; outb %al, $0x21 ; outb %al, $0xa1   /* OCW1: all masked */
        ret

/* wait until count >= target, without losing the wakeup */
rm_wait:
        cli
        movw count, %ax
        cmpw target, %ax
        jae 1f
        sti
        hlt
        jmp rm_wait
1:      ret

/* edge: IRQ0 (master), three single pulses */
rm_pic_edge:
        cli
        call rm_setup
        movw $isr_rm_edge, 0x20*4
        movw $0, 0x20*4+2
        call rm_pic_init
        movb $0xfe, %al ; outb %al, $0x21                      /* unmask IRQ0 */
        movw $3, %cx
2:      addw $1, target
        movb $1, %al ; movw $REQ, %dx ; outb %al, %dx
        pushw %cx
        call rm_wait
        popw %cx
        loop 2b
        jmp rm_done

isr_rm_edge:
        pushw %ax
        incw count
        movb $0x20, %al ; outb %al, $0x20                      /* non-specific EOI */
        popw %ax
        iret

/* level: IRQ10 (slave, cascaded through master IR2), ELCR bit 10 set. The device needs
 * 1, then 2 services: the second request keeps the line high across the first EOI, so the
 * 8259 must deliver it again (level-sensitive IRR follows the line). */
rm_pic_level:
        cli
        call rm_setup
        movw $isr_rm_level, 0x2a*4
        movw $0, 0x2a*4+2
        call rm_pic_init
        movb $0x04, %al ; movw $0x4d1, %dx ; outb %al, %dx     /* ELCR2: IRQ10 level */
        movb $0xfb, %al ; outb %al, $0x21                      /* unmask IR2 (cascade) */
        movb $0xfb, %al ; outb %al, $0xa1                      /* unmask IRQ10 */
        movw $1, target
        movb $1, %al ; movw $REQ, %dx ; outb %al, %dx
        call rm_wait
        movw $3, target
        movb $2, %al ; movw $REQ, %dx ; outb %al, %dx
        call rm_wait
        jmp rm_done

isr_rm_level:
        pushw %ax
        pushw %dx
        incw count
        movb $1, %al ; movw $ACK, %dx ; outb %al, %dx          /* service the device */
        movb $0x20, %al ; outb %al, $0xa0                      /* EOI slave, then master */
        outb %al, $0x20
        popw %dx
        popw %ax
        iret

/* split irqchip: the 8259 is the VMM's (every port access exits), IRQ4, vector 0x24. The guest
 * asks with IF clear and keeps it clear for a while, so the device's kick usually finds it not
 * ready (ready_for_interrupt_injection = 0) and the VMM must request an interrupt window. */
rm_split:
        cli
        call rm_setup
        movw $isr_rm_split, 0x24*4
        movw $0, 0x24*4+2
        call rm_pic_init
        movb $0xef, %al ; outb %al, $0x21                      /* unmask IRQ4 */
        movw $3, %cx
2:      addw $1, target
        movb $1, %al ; movw $REQ, %dx ; outb %al, %dx
        pushw %cx
        movl $200000, %ecx                                     /* IF=0 for a while */
3:      addr32 loop 3b
        call rm_wait
        popw %cx
        loop 2b
        jmp rm_done

isr_rm_split:
        pushw %ax
        incw count
        movb $0x20, %al ; outb %al, $0x20
        popw %ax
        iret

rm_done:
        movb count, %al
        movw $DONE, %dx
        outb %al, %dx
        hlt
        jmp rm_done

/* ---------------------------------------------------------------- protected mode ----------- */
        .code32

/* The VMM enters with CS=0x08, DS=ES=SS=0x10 (flat), already cached; the GDT makes them real for
 * the interrupt gates and IRET. esp is set by the VMM per vCPU. */
pm_setup:
        lgdt gdtr
        lidt idtr
        movl $LAPIC, %ebx
        movl $0x1ff, 0xf0(%ebx)                                /* SVR: software enable, spurious 0xff */
        movl $0x10000, 0x350(%ebx)                             /* LVT0 masked: no ExtINT from the 8259 */
        movb $0xff, %al ; outb %al, $0x21 ; outb %al, $0xa1   /* 8259 lines masked (OCW1) */
        ret

/* set_gate(vector=%eax, handler=%edx): 32-bit interrupt gate, selector 0x08, DPL 0 */
set_gate:
        leal idt(,%eax,8), %edi
        movw %dx, (%edi)
        movw $0x08, 2(%edi)
        movw $0x8e00, 4(%edi)
        shrl $16, %edx
        movw %dx, 6(%edi)
        ret

pm_wait:                                                       /* count >= target */
        cli
        movl count32, %eax
        cmpl target32, %eax
        jae 1f
        sti
        hlt
        jmp pm_wait
1:      ret

pm_request:                                                    /* %al = services, target += %ecx */
        addl %ecx, target32
        movw $REQ, %dx
        outb %al, %dx
        ret

lapic_eoi:
        movl $0, LAPIC+0xb0
        ret

/* IOAPIC level: pin 10, vector 0x40, level, active high, fixed, physical destination 0. Requests
 * of 1 then 2 services: the second keeps the line high across the first EOI, so remote IRR
 * clears with the line still asserted and the IOAPIC delivers again (82093AA, EOI broadcast). */
pm_ioapic:
        call pm_setup
        movl $0x40, %eax ; movl $isr_pm_level, %edx ; call set_gate
        movl $IOAPIC, %ebx
        movl $0x25, (%ebx) ; movl $0x00000000, 0x10(%ebx)     /* redirection 10 high: dest 0 */
        movl $0x24, (%ebx) ; movl $0x00008040, 0x10(%ebx)     /* low: level, unmasked, vector 0x40 */
        movb $1, %al ; movl $1, %ecx ; call pm_request
        call pm_wait
        movb $2, %al ; movl $2, %ecx ; call pm_request
        call pm_wait
        jmp pm_done

isr_pm_level:
        pushl %eax
        pushl %edx
        incl count32
        movb $1, %al ; movw $ACK, %dx ; outb %al, %dx
        call lapic_eoi
        popl %edx
        popl %eax
        iret

/* irqfd with resamplefd: pin 11, vector 0x45, level. The VMM's device asserts through the irqfd;
 * the kernel de-asserts on EOI and signals the resamplefd; the device re-asserts while it still
 * needs service. Requests of 1 then 2 services, as for pm_ioapic. */
pm_irqfd:
        call pm_setup
        movl $0x45, %eax ; movl $isr_pm_level, %edx ; call set_gate
        movl $IOAPIC, %ebx
        movl $0x27, (%ebx) ; movl $0x00000000, 0x10(%ebx)
        movl $0x26, (%ebx) ; movl $0x00008045, 0x10(%ebx)
        movb $1, %al ; movl $1, %ecx ; call pm_request
        call pm_wait
        movb $2, %al ; movl $2, %ecx ; call pm_request
        call pm_wait
        jmp pm_done

/* MSI: the VMM signals KVM_SIGNAL_MSI (address 0xfee00000, dest 0; data = vector 0x41 fixed edge),
 * three times. */
pm_msi:
        call pm_setup
        movl $0x41, %eax ; movl $isr_pm_edge, %edx ; call set_gate
        movl $3, %esi
2:      movb $1, %al ; movl $1, %ecx ; call pm_request
        call pm_wait
        decl %esi
        jnz 2b
        jmp pm_done

isr_pm_edge:
        pushl %eax
        incl count32
        call lapic_eoi
        popl %eax
        iret

/* IPIs between vCPU 0 (APIC id 0) and vCPU 1 (APIC id 1): three round trips of a fixed,
 * physical IPI (0x42 to id 1, the AP answers 0x43 to id 0), then a self IPI (shorthand self,
 * vector 0x44) and an all-but-self IPI (vector 0x42 again; the AP answers). */
pm_ipi_bsp:
        call pm_setup
        movl $0x43, %eax ; movl $isr_pm_edge, %edx ; call set_gate
        movl $0x44, %eax ; movl $isr_pm_edge, %edx ; call set_gate
        movl $0x42, %eax ; movl $isr_ap_ipi, %edx ; call set_gate   /* the AP's gate (shared IDT) */
        /* wait for the AP to come up (it sets ap_ready after enabling its LAPIC) */
1:      pause
        cmpl $0, ap_ready
        je 1b
        movl $3, %esi
2:      cli
        addl $1, target32
        movl $0x01000000, LAPIC+0x310                          /* ICR high: destination 1 */
        movl $0x00004042, LAPIC+0x300                          /* ICR low: fixed, physical, assert, 0x42 */
        call pm_wait
        decl %esi
        jnz 2b
        cli
        addl $1, target32
        movl $0x00044044, LAPIC+0x300                          /* shorthand self, vector 0x44 */
        call pm_wait
        cli
        addl $1, target32
        movl $0x000c4042, LAPIC+0x300                          /* shorthand all-but-self, 0x42 */
        call pm_wait
        jmp pm_done

pm_ipi_ap:
        lgdt gdtr
        lidt idtr
        movl $LAPIC, %ebx
        movl $0x1ff, 0xf0(%ebx)
        movl $1, ap_ready
3:      sti
        hlt
        jmp 3b

isr_ap_ipi:                                                    /* on the AP: answer vCPU 0 */
        pushl %eax
        incl ap_count
        movl $0x00000000, LAPIC+0x310
        movl $0x00004043, LAPIC+0x300
        call lapic_eoi
        popl %eax
        iret

pm_done:
        movl count32, %eax
        movw $DONE, %dx
        outb %al, %dx
        cli
        hlt
        jmp pm_done

        .data
        .align 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff                               /* 0x08: code, flat, 32-bit */
        .quad 0x00cf92000000ffff                               /* 0x10: data, flat */
gdtr:   .word 3*8-1
        .long gdt
        .align 8
idtr:   .word 0x50*8-1
        .long idt
count:  .word 0
target: .word 0
count32:  .long 0
target32: .long 0
ap_ready: .long 0
ap_count: .long 0
        .align 8
idt:    .fill 0x50*8, 1, 0
