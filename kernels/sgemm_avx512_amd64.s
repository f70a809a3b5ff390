// Hand-written AVX-512 micro-kernels for the float32 product.

#include "textflag.h"

// Register use in both kernels:
//   CX  steps of k left
//   R8  A's row 0 at the current step, R9 its row 5
//   R10 bytes between rows of A, R11 three times that
//   R12 bytes between steps of k in A
//   BX  B's row at the current step, R13 bytes between its rows
//   DI  C's row, DX bytes between rows of C
//   SI  rows to store, K1 and K2 the column masks of the two halves
//   Z31 alpha, Z30 and Z29 B's row, Z28 the broadcast of A

// The eight rows of A at the current step of k.
#define A0 (R8)
#define A1 (R8)(R10*1)
#define A2 (R8)(R10*2)
#define A3 (R8)(R11*1)
#define A4 (R8)(R10*4)
#define A5 (R9)
#define A6 (R9)(R10*1)
#define A7 (R9)(R10*2)

#define PROLOGUE \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), R8; \
	MOVQ rsa+16(FP), R10; \
	MOVQ csa+24(FP), R12; \
	MOVQ b+32(FP), BX; \
	MOVQ ldb+40(FP), R13; \
	MOVQ c+48(FP), DI; \
	MOVQ ldc+56(FP), DX; \
	MOVQ rows+64(FP), SI; \
	SHLQ $2, R13; \
	SHLQ $2, R10; \
	SHLQ $2, R12; \
	SHLQ $2, DX; \
	LEAQ (R10)(R10*2), R11; \
	LEAQ (R8)(R10*4), R9; \
	ADDQ R10, R9; \
	MOVL mask+72(FP), AX; \
	KMOVW AX, K1; \
	SHRL $16, AX; \
	KMOVW AX, K2; \
	VBROADCASTSS alpha+76(FP), Z31

// One row of the 8×32 kernel's step: Z(lo) and Z(hi) += A[r]·B.
#define FMA32(addr, lo, hi) \
	VBROADCASTSS addr, Z28; \
	VFMADD231PS Z30, Z28, lo; \
	VFMADD231PS Z29, Z28, hi

// Store one row of 32: C = C + alpha·acc (accumulate) or alpha·acc.
#define ADD32(lo, hi) \
	VMOVUPS.Z (DI), K1, Z28; \
	VFMADD231PS Z31, lo, Z28; \
	VMOVUPS Z28, K1, (DI); \
	VMOVUPS.Z 64(DI), K2, Z28; \
	VFMADD231PS Z31, hi, Z28; \
	VMOVUPS Z28, K2, 64(DI); \
	DECQ SI; \
	JZ   done; \
	ADDQ DX, DI

#define SET32(lo, hi) \
	VMULPS Z31, lo, Z28; \
	VMOVUPS Z28, K1, (DI); \
	VMULPS Z31, hi, Z28; \
	VMOVUPS Z28, K2, 64(DI); \
	DECQ SI; \
	JZ   done; \
	ADDQ DX, DI

// func sgemmKernel8x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool)
//
// C[rows×32] = alpha·A·B (+ C when acc) for the first rows <= 8 rows of
// C and the columns whose bit is set in mask. A is 8×k with element
// (i, p) at a[i*rsa + p*csa] (all eight rows readable); B is k×32 with
// rows ldb floats apart (packed: 32); C's rows are ldc floats apart.
// Sixteen accumulators, eight broadcasts of A and two loads of B per step
// of k. The masked loads and stores of B and C touch no column outside
// mask.
TEXT ·sgemmKernel8x32(SB), NOSPLIT, $0-81
	PROLOGUE
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	TESTQ CX, CX
	JZ    store32

loop32:
	VMOVUPS.Z (BX), K1, Z30
	VMOVUPS.Z 64(BX), K2, Z29
	FMA32(A0, Z0, Z1)
	FMA32(A1, Z2, Z3)
	FMA32(A2, Z4, Z5)
	FMA32(A3, Z6, Z7)
	FMA32(A4, Z8, Z9)
	FMA32(A5, Z10, Z11)
	FMA32(A6, Z12, Z13)
	FMA32(A7, Z14, Z15)
	ADDQ R12, R8
	ADDQ R12, R9
	ADDQ R13, BX
	DECQ CX
	JNZ  loop32

store32:
	CMPB acc+80(FP), $0
	JEQ  set32
	ADD32(Z0, Z1)
	ADD32(Z2, Z3)
	ADD32(Z4, Z5)
	ADD32(Z6, Z7)
	ADD32(Z8, Z9)
	ADD32(Z10, Z11)
	ADD32(Z12, Z13)
	ADD32(Z14, Z15)
	JMP  done

set32:
	SET32(Z0, Z1)
	SET32(Z2, Z3)
	SET32(Z4, Z5)
	SET32(Z6, Z7)
	SET32(Z8, Z9)
	SET32(Z10, Z11)
	SET32(Z12, Z13)
	SET32(Z14, Z15)

done:
	VZEROUPPER
	RET

// One row of the 8×16 kernel's step, two steps of k at once into two
// accumulators per row (Z(r) and Z(r+8)) to keep enough products in
// flight.
#define FMA16(addr, acc) \
	VBROADCASTSS addr, Z28; \
	VFMADD231PS Z30, Z28, acc

#define ADD16(lo, hi) \
	VADDPS hi, lo, lo; \
	VMOVUPS.Z (DI), K1, Z28; \
	VFMADD231PS Z31, lo, Z28; \
	VMOVUPS Z28, K1, (DI); \
	DECQ SI; \
	JZ   done16; \
	ADDQ DX, DI

#define SET16(lo, hi) \
	VADDPS hi, lo, lo; \
	VMULPS Z31, lo, Z28; \
	VMOVUPS Z28, K1, (DI); \
	DECQ SI; \
	JZ   done16; \
	ADDQ DX, DI

// func sgemmKernel8x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc, rows int, mask uint32, alpha float32, acc bool)
//
// sgemmKernel8x32 for a strip of B 16 wide (packed: ldb 16), the last
// strip of a product whose width leaves 16 columns or fewer; mask's low
// 16 bits choose the columns.
TEXT ·sgemmKernel8x16(SB), NOSPLIT, $0-81
	PROLOGUE
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	CMPQ CX, $2
	JLT  tail16

loop16:
	VMOVUPS.Z (BX), K1, Z30
	FMA16(A0, Z0)
	FMA16(A1, Z1)
	FMA16(A2, Z2)
	FMA16(A3, Z3)
	FMA16(A4, Z4)
	FMA16(A5, Z5)
	FMA16(A6, Z6)
	FMA16(A7, Z7)
	ADDQ R12, R8
	ADDQ R12, R9
	VMOVUPS.Z (BX)(R13*1), K1, Z30
	FMA16(A0, Z8)
	FMA16(A1, Z9)
	FMA16(A2, Z10)
	FMA16(A3, Z11)
	FMA16(A4, Z12)
	FMA16(A5, Z13)
	FMA16(A6, Z14)
	FMA16(A7, Z15)
	ADDQ R12, R8
	ADDQ R12, R9
	LEAQ (BX)(R13*2), BX
	SUBQ $2, CX
	CMPQ CX, $2
	JGE  loop16

tail16:
	TESTQ CX, CX
	JZ    store16
	VMOVUPS.Z (BX), K1, Z30
	FMA16(A0, Z0)
	FMA16(A1, Z1)
	FMA16(A2, Z2)
	FMA16(A3, Z3)
	FMA16(A4, Z4)
	FMA16(A5, Z5)
	FMA16(A6, Z6)
	FMA16(A7, Z7)

store16:
	CMPB acc+80(FP), $0
	JEQ  set16
	ADD16(Z0, Z8)
	ADD16(Z1, Z9)
	ADD16(Z2, Z10)
	ADD16(Z3, Z11)
	ADD16(Z4, Z12)
	ADD16(Z5, Z13)
	ADD16(Z6, Z14)
	ADD16(Z7, Z15)
	JMP  done16

set16:
	SET16(Z0, Z8)
	SET16(Z1, Z9)
	SET16(Z2, Z10)
	SET16(Z3, Z11)
	SET16(Z4, Z12)
	SET16(Z5, Z13)
	SET16(Z6, Z14)
	SET16(Z7, Z15)

done16:
	VZEROUPPER
	RET
