/* wxface Android stub sysroot: the end object of every shared library (hand-written). It only
 * marks the stack non-executable; the NDK's crtend_so.o carries the same note. */
	.section .note.GNU-stack,"",%progbits
