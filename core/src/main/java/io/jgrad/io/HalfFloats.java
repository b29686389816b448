package io.jgrad.io;

/**
 * Conversions between float32 and the 16-bit formats safetensors files hold: IEEE binary16
 * ({@code F16}) and bfloat16 ({@code BF16}). To 16 bits: round to nearest, ties to even;
 * overflow to infinity; NaN to a quiet NaN with the value's sign ({@code 0x7E00},
 * {@code 0x7FC0}; PyTorch's NaN payloads differ between its versions and CPUs). From 16 bits:
 * exact (every value, subnormals included, is a float32).
 */
final class HalfFloats {
    private HalfFloats() {}

    /** The binary16 bits nearest to {@code f}. */
    static short toF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | (mant != 0 ? 0x7E00 : 0x7C00));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00); // beyond 65504 (after rounding below): infinity
        }
        if (e <= 0) { // a binary16 subnormal, or zero
            if (e < -10) {
                return (short) sign; // below half the smallest subnormal: rounds to zero
            }
            int m = mant | 0x800000; // the implicit leading 1
            int shift = 14 - e;      // 14 to 24 bits dropped
            int h = m >>> shift;
            int rest = m & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || rest == halfway && (h & 1) == 1) {
                h++; // may become the smallest normal: the bits carry into the exponent as they should
            }
            return (short) (sign | h);
        }
        int h = (e << 10) | (mant >>> 13);
        int rest = mant & 0x1FFF;
        if (rest > 0x1000 || rest == 0x1000 && (h & 1) == 1) {
            h++; // a carry into the exponent is right too, up to 0x7C00, infinity
        }
        return (short) (sign | h);
    }

    /** The value of the binary16 bits {@code h}. */
    static float fromF16(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact in float32
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** The bfloat16 bits nearest to {@code f}. */
    static short toBf16(float f) {
        if (Float.isNaN(f)) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7FC0);
        }
        int bits = Float.floatToRawIntBits(f);
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }

    /** The value of the bfloat16 bits {@code b}. */
    static float fromBf16(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }
}
