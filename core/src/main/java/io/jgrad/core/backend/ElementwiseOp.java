package io.jgrad.core.backend;

import java.util.Locale;

/**
 * The elementwise ops a backend runs, each with the scalar function that defines it. A backend
 * may run an op through loops of its own (vectorized, fused with its neighbours), but the values
 * must be the scalar function's: a FLOAT64 element is exactly {@code unary(x, p, q)} or
 * {@code binary(a, b)} (transcendental functions aside, which may differ in the last bit), a
 * FLOAT32 element that value rounded to float, and an INT64 element {@code unaryLong} or
 * {@code binaryLong}. An op a backend has no loop of its own for runs through the scalar
 * function, so a new op is one constant here (plus its method in the API and a test row).
 *
 * <p>Unary ops take up to two parameters ({@link #POW}'s exponent, {@link #CLAMP}'s bounds). A
 * {@linkplain Kind#COMPARISON comparison} gives 1 or 0 in its operands' type.
 */
public enum ElementwiseOp {
    /** -x. */
    NEG(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return -x;
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return -x;
        }
    },
    /** e^x. */
    EXP(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.exp(x);
        }
    },
    /** ln x. */
    LOG(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.log(x);
        }
    },
    /** √x. */
    SQRT(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.sqrt(x);
        }
    },
    /** |x|. */
    ABS(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.abs(x);
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return Math.abs(x);
        }
    },
    /** tanh x. */
    TANH(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.tanh(x);
        }
    },
    /** 1 / (1 + e^-x), without overflow on either side. */
    SIGMOID(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
        }
    },
    /** max(x, 0); NaN stays NaN. */
    RELU(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.max(x, 0.0);
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return Math.max(x, 0L);
        }
    },
    /** -1, 0 or 1 by the sign of x (NaN stays NaN). */
    SIGN(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.signum(x);
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return Long.signum(x);
        }
    },
    /** 1 / x. */
    RECIPROCAL(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return 1 / x;
        }
    },
    /** x^p. */
    POW(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return p == 2 ? x * x : Math.pow(x, p);
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return (long) Math.pow(x, p);
        }
    },
    /** min(max(x, p), q). */
    CLAMP(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.min(Math.max(x, p), q);
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return (long) Math.min(Math.max(x, p), q);
        }
    },
    /** ln(1 + x), accurate for small x. */
    LOG1P(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.log1p(x);
        }
    },
    /** sin x. */
    SIN(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.sin(x);
        }
    },
    /** cos x. */
    COS(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return Math.cos(x);
        }
    },
    /** The error function (see {@link #erf}). */
    ERF(Kind.UNARY, false) {
        @Override
        public double unary(double x, double p, double q) {
            return erf(x);
        }
    },
    /** 1 where x is neither NaN nor infinite, else 0. */
    IS_FINITE(Kind.UNARY, true) {
        @Override
        public double unary(double x, double p, double q) {
            return Double.isFinite(x) ? 1 : 0;
        }

        @Override
        public long unaryLong(long x, double p, double q) {
            return 1;
        }
    },

    /** a + b. */
    ADD(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return a + b;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a + b;
        }
    },
    /** a - b. */
    SUB(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return a - b;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a - b;
        }
    },
    /** a · b. */
    MUL(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return a * b;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a * b;
        }
    },
    /** a / b; for INT64 the floor of the quotient, and a division by zero throws. */
    DIV(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return a / b;
        }

        @Override
        public long binaryLong(long a, long b) {
            if (b == 0) {
                throw new ArithmeticException("div: integer division by zero");
            }
            return Math.floorDiv(a, b);
        }
    },
    /** max(a, b); a NaN wins. */
    MAXIMUM(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return Math.max(a, b);
        }

        @Override
        public long binaryLong(long a, long b) {
            return Math.max(a, b);
        }
    },
    /** min(a, b); a NaN wins. */
    MINIMUM(Kind.BINARY, true) {
        @Override
        public double binary(double a, double b) {
            return Math.min(a, b);
        }

        @Override
        public long binaryLong(long a, long b) {
            return Math.min(a, b);
        }
    },
    /** 1 where a > b. */
    GT(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a > b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a > b ? 1 : 0;
        }
    },
    /** 1 where a >= b. */
    GE(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a >= b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a >= b ? 1 : 0;
        }
    },
    /** 1 where a &lt; b. */
    LT(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a < b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a < b ? 1 : 0;
        }
    },
    /** 1 where a &lt;= b. */
    LE(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a <= b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a <= b ? 1 : 0;
        }
    },
    /** 1 where a == b. */
    EQ(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a == b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a == b ? 1 : 0;
        }
    },
    /** 1 where a != b. */
    NE(Kind.COMPARISON, true) {
        @Override
        public double binary(double a, double b) {
            return a != b ? 1 : 0;
        }

        @Override
        public long binaryLong(long a, long b) {
            return a != b ? 1 : 0;
        }
    },
    /**
     * relu's backward: the gradient a where the input b is above 0 or NaN, else +0 (PyTorch's
     * {@code threshold_backward}).
     */
    RELU_BACKWARD(Kind.BINARY, false) {
        @Override
        public double binary(double a, double b) {
            return b <= 0 ? 0 : a;
        }
    },
    /**
     * sigmoid's backward from the gradient a and the forward's output b: a·b·(1 − b), rounded as
     * the three float ops (a·b)·(1 − b) in FLOAT32.
     */
    SIGMOID_BACKWARD(Kind.BINARY, false) {
        @Override
        public double binary(double a, double b) {
            return a * b * (1 - b);
        }
    },
    /** tanh's backward from the gradient a and the forward's output b: a·(1 − b²), rounded as a·(1 − b·b) in FLOAT32. */
    TANH_BACKWARD(Kind.BINARY, false) {
        @Override
        public double binary(double a, double b) {
            return a * (1 - b * b);
        }
    },
    /** atan2(a, b): the angle of the point (b, a), in [−π, π]. */
    ATAN2(Kind.BINARY, false) {
        @Override
        public double binary(double a, double b) {
            return Math.atan2(a, b);
        }
    };

    /** How many operands an op takes, and what it gives. */
    public enum Kind {
        /** One operand (and up to two parameters). */
        UNARY,
        /** Two operands, a value of their type. */
        BINARY,
        /** Two operands, 1 where the relation holds, else 0, in their type. */
        COMPARISON
    }

    private final Kind kind;
    private final boolean int64;

    ElementwiseOp(Kind kind, boolean int64) {
        this.kind = kind;
        this.int64 = int64;
    }

    /** Unary, binary or a comparison. */
    public Kind kind() {
        return kind;
    }

    /** Whether the op takes one operand. */
    public boolean isUnary() {
        return kind == Kind.UNARY;
    }

    /** Whether the op is a comparison (its result is 1 or 0). */
    public boolean isComparison() {
        return kind == Kind.COMPARISON;
    }

    /** Whether INT64 operands are defined ({@link #unaryLong} or {@link #binaryLong}); else the op needs floats. */
    public boolean takesInt64() {
        return int64;
    }

    /** The op's name as messages spell it ({@code add}, {@code relu_backward}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The value of a unary op at x, with parameters p and q (where the op has them). */
    public double unary(double x, double p, double q) {
        throw new UnsupportedOperationException(label() + " is not a unary op");
    }

    /** The value of a binary op at (a, b). */
    public double binary(double a, double b) {
        throw new UnsupportedOperationException(label() + " is not a binary op");
    }

    /** The value of a unary op at an INT64 x. */
    public long unaryLong(long x, double p, double q) {
        throw new UnsupportedOperationException(label() + " is not defined for int64");
    }

    /** The value of a binary op at INT64 (a, b). */
    public long binaryLong(long a, long b) {
        throw new UnsupportedOperationException(label() + " is not defined for int64");
    }

    /**
     * The error function to about 1e-15 relative: for |x| &lt; 3 the series
     * 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), whose terms are all positive (no cancellation);
     * beyond, 1 − erfc(x) with erfc's continued fraction.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a;
            double sum = a;
            double twoX2 = 2 * a * a;
            for (int n = 0; n < 200 && term > sum * 1e-17; n++) {
                term *= twoX2 / (2 * n + 3);
                sum += term;
            }
            r = 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
        } else if (a < 27) {
            double f = a; // erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))
            for (int k = 80; k >= 1; k--) {
                f = a + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
        } else {
            r = 1;
        }
        return x < 0 ? -r : r;
    }
}
