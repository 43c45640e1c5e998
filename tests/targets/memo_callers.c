// SPDX-License-Identifier: MIT
/*
 * memo_callers - the walker's memo (bpf/unwind.bpf.h) must follow the
 * caller. leaf() mallocs; via_x() and via_y() are the same code, so when
 * main calls one and then the other, malloc returns to the same place in
 * leaf() with the same stack pointer, and only a return address on the
 * stack tells the two stacks apart. outer_a() and outer_b() do the same
 * one frame further up. Built -O2 -fomit-frame-pointer (mk/unwind.mk).
 *
 * Usage: memo_callers [ROUNDS]   (default 50). Per round:
 *	via_x(24) twice, via_y(40) once, outer_a(56) once, outer_b(72) twice;
 * nothing is freed, so each stack's outstanding bytes are exact:
 *	leaf<-via_x<-main		ROUNDS * 2 * 24
 *	leaf<-via_y<-main		ROUNDS * 40
 *	leaf<-via_x<-outer_a<-main	ROUNDS * 56
 *	leaf<-via_x<-outer_b<-main	ROUNDS * 2 * 72
 */
#include <stdlib.h>

#define CALL __attribute__((noipa))

static volatile unsigned long sink;	/* work after each call: no tail calls */

CALL void *leaf(size_t n)
{
	void *p = malloc(n);

	sink += (unsigned long)p & 1;
	return p;
}

CALL void *via_x(size_t n)
{
	void *p = leaf(n);

	sink++;
	return p;
}

CALL void *via_y(size_t n)
{
	void *p = leaf(n);

	sink++;
	return p;
}

CALL void *outer_a(size_t n)
{
	void *p = via_x(n);

	sink++;
	return p;
}

CALL void *outer_b(size_t n)
{
	void *p = via_x(n);

	sink++;
	return p;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;

	for (int i = 0; i < rounds; i++) {
		via_x(24);
		via_x(24);
		via_y(40);
		outer_a(56);
		outer_b(72);
		outer_b(72);
	}
	return 0;
}
