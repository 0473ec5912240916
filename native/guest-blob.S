/* The guest image (guest.bin, built from guest.S) embedded in virq-vmm. */
        .section .rodata
        .balign 16
        .globl guest_bin, guest_bin_len
guest_bin:
        .incbin "build/guest.bin"
guest_bin_end:
        .balign 4
guest_bin_len:
        .long guest_bin_end - guest_bin
        .section .note.GNU-stack,"",@progbits
