// AVX-512 kernels of the Transformer's element-wise functions: the exact
// GELU with its derivative, and the exponentials of a softmax row.

#include "textflag.h"

// EXPNEG sets Z4 = e^Z1 for Z1 <= 0, exp32's formula: Z1 clamped to
// [-87, 0], Z1 = k·ln2 + r, e^r from Cephes's polynomial, 2^k put into
// the exponent bits. Z1 to Z5 are clobbered; Z20 holds -87, Z19 log2e,
// Z18 ln2hi, Z17 ln2lo, Z16 the integer 127, Z10 to Z15 the polynomial's
// coefficients c5 .. c0 and Z30 1.
#define EXPNEG \
	VMAXPS  Z20, Z1, Z1; \
	VMULPS  Z19, Z1, Z2; \
	VRNDSCALEPS $0, Z2, Z2; \
	VCVTPS2DQ Z2, Z3; \
	VFNMADD231PS Z18, Z2, Z1; \
	VFNMADD231PS Z17, Z2, Z1; \
	VMOVAPS Z15, Z4; \
	VFMADD213PS Z14, Z1, Z4; \
	VFMADD213PS Z13, Z1, Z4; \
	VFMADD213PS Z12, Z1, Z4; \
	VFMADD213PS Z11, Z1, Z4; \
	VFMADD213PS Z10, Z1, Z4; \
	VMULPS  Z1, Z1, Z5; \
	VFMADD213PS Z1, Z5, Z4; \
	VADDPS  Z30, Z4, Z4; \
	VPADDD  Z16, Z3, Z3; \
	VPSLLD  $23, Z3, Z3; \
	VMULPS  Z3, Z4, Z4

// EXPCONSTS loads the constants of EXPNEG.
#define EXPCONSTS \
	MOVL $0xc2ae0000, AX; \
	VPBROADCASTD AX, Z20; \
	MOVL $0x3fb8aa3b, AX; \
	VPBROADCASTD AX, Z19; \
	MOVL $0x3f318000, AX; \
	VPBROADCASTD AX, Z18; \
	MOVL $0xb95e8083, AX; \
	VPBROADCASTD AX, Z17; \
	MOVL $127, AX; \
	VPBROADCASTD AX, Z16; \
	MOVL $0x39506967, AX; \
	VPBROADCASTD AX, Z15; \
	MOVL $0x3ab743ce, AX; \
	VPBROADCASTD AX, Z14; \
	MOVL $0x3c088908, AX; \
	VPBROADCASTD AX, Z13; \
	MOVL $0x3d2aa9c1, AX; \
	VPBROADCASTD AX, Z12; \
	MOVL $0x3e2aaaaa, AX; \
	VPBROADCASTD AX, Z11; \
	MOVL $0x3f000000, AX; \
	VPBROADCASTD AX, Z10; \
	MOVL $0x3f800000, AX; \
	VPBROADCASTD AX, Z30

// func geluAVX512(x, y, d []float32)
//
// y[i] = x[i]·Φ(x[i]) and d[i] = Φ(x[i]) + x[i]·φ(x[i]) for all of x, as
// normalFromExp32 computes them: e = e^(-x²/2), t = 1/(1 + p·|x|/√2),
// half = t·(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e/2 (Abramowitz & Stegun
// 7.1.26), Φ = half for x < 0 and 1 - half otherwise, φ = e/√(2π). The
// last len(x) mod 16 elements go through masked loads and stores.
TEXT ·geluAVX512(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), DI
	MOVQ d_base+48(FP), BX
	EXPCONSTS
	MOVL $0xbf000000, AX // -0.5
	VPBROADCASTD AX, Z31
	MOVL $0x3f000000, AX // 0.5
	VPBROADCASTD AX, Z29
	MOVL $0x3f3504f3, AX // 1/√2
	VPBROADCASTD AX, Z28
	MOVL $0x3ea7ba05, AX // p = 0.3275911
	VPBROADCASTD AX, Z27
	MOVL $0x3e827906, AX // a1 = 0.254829592
	VPBROADCASTD AX, Z26
	MOVL $0xbe91a98e, AX // a2 = -0.284496736
	VPBROADCASTD AX, Z25
	MOVL $0x3fb5f0e3, AX // a3 = 1.421413741
	VPBROADCASTD AX, Z24
	MOVL $0xbfba00e3, AX // a4 = -1.453152027
	VPBROADCASTD AX, Z23
	MOVL $0x3f87dc22, AX // a5 = 1.061405429
	VPBROADCASTD AX, Z22
	MOVL $0x3ecc422a, AX // 1/√(2π)
	VPBROADCASTD AX, Z21
	MOVL $0x7fffffff, AX // |·|
	VPBROADCASTD AX, Z9
	VPXORD Z8, Z8, Z8 // 0

gloop:
	TESTQ CX, CX
	JLE   gdone
	MOVL $0xffff, AX
	CMPQ CX, $16
	JGE  4(PC)
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0 // x
	VMULPS  Z0, Z0, Z1
	VMULPS  Z31, Z1, Z1    // -x²/2
	EXPNEG                 // Z4 = e
	VPANDD  Z9, Z0, Z5
	VMULPS  Z28, Z5, Z5    // z = |x|/√2
	VFMADD213PS Z30, Z27, Z5 // 1 + p·z
	VDIVPS  Z5, Z30, Z5    // t
	VMOVAPS Z22, Z6
	VFMADD213PS Z23, Z5, Z6
	VFMADD213PS Z24, Z5, Z6
	VFMADD213PS Z25, Z5, Z6
	VFMADD213PS Z26, Z5, Z6
	VMULPS  Z29, Z5, Z7    // t/2
	VMULPS  Z7, Z6, Z6
	VMULPS  Z4, Z6, Z6     // half = erfc(z)/2
	VSUBPS  Z6, Z30, Z7    // 1 - half
	VCMPPS  $1, Z8, Z0, K2 // x < 0
	VMOVAPS Z6, K2, Z7     // Φ
	VMULPS  Z7, Z0, Z1
	VMOVUPS Z1, K1, (DI)   // y = x·Φ
	VMULPS  Z21, Z4, Z4    // φ
	VFMADD231PS Z4, Z0, Z7 // Φ + x·φ
	VMOVUPS Z7, K1, (BX)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  gloop

gdone:
	VZEROUPPER
	RET

// func expShiftAVX512(dst, x []float32, shift float32) float32
//
// dst[i] = e^(x[i] - shift) for all of x, x[i] <= shift, by exp32's
// formula, and returns their sum. dst may be x.
TEXT ·expShiftAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	EXPCONSTS
	VBROADCASTSS shift+48(FP), Z31
	VPXORD Z29, Z29, Z29 // the sum

eloop:
	TESTQ CX, CX
	JLE   edone
	MOVL $0xffff, AX
	CMPQ CX, $16
	JGE  4(PC)
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z1
	VSUBPS  Z31, Z1, Z1
	EXPNEG
	VMOVUPS Z4, K1, (DI)
	VADDPS  Z4, Z29, K1, Z29
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  eloop

edone:
	VEXTRACTF32X8 $1, Z29, Y1
	VADDPS  Y1, Y29, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPS  X2, X1, X1
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VMOVSS  X1, ret+56(FP)
	VZEROUPPER
	RET
