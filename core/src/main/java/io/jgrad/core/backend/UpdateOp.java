package io.jgrad.core.backend;

/**
 * The in-place updates optimizers make, {@code x = f(x, a, b; alpha, beta)} elementwise, each with
 * its scalar function. In FLOAT32 each update is the float operations in the order the Javadoc
 * writes them (so {@code x·alpha + beta·a} rounds {@code x·alpha} and {@code beta·a} to float and
 * then their sum), which is what PyTorch's in-place ops give one after another.
 */
public enum UpdateOp {
    /** x = x·alpha (PyTorch's {@code mul_}). */
    SCALE(0) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x * alpha;
        }
    },
    /** x = x + alpha (PyTorch's {@code add_} of a number). */
    ADD_SCALAR(0) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x + alpha;
        }
    },
    /** x = x + alpha·a (PyTorch's {@code add_(a, alpha=alpha)}). */
    ADD_SCALED(1) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x + alpha * a;
        }
    },
    /** x = x·alpha + beta·a (PyTorch's {@code mul_(alpha).add_(a, alpha=beta)}: a momentum buffer's update). */
    SCALE_ADD(1) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x * alpha + beta * a;
        }
    },
    /** x = x + alpha·a·b (PyTorch's {@code addcmul_}). */
    ADD_PRODUCT(2) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x + alpha * a * b;
        }
    },
    /** x = x + alpha·a / b (PyTorch's {@code addcdiv_}). */
    ADD_QUOTIENT(2) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return x + alpha * a / b;
        }
    },
    /** x = √x. */
    SQRT(0) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return Math.sqrt(x);
        }
    },
    /** x = max(x, a); a NaN wins. */
    MAXIMUM(1) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return Math.max(x, a);
        }
    },
    /** x = min(max(x, alpha), beta). */
    CLAMP(0) {
        @Override
        public double apply(double x, double a, double b, double alpha, double beta) {
            return Math.min(Math.max(x, alpha), beta);
        }
    };

    private final int operands;

    UpdateOp(int operands) {
        this.operands = operands;
    }

    /** How many tensor operands (a, b) the update reads: 0, 1 or 2. */
    public int operands() {
        return operands;
    }

    /** The new value of an element x, given the operands' elements a and b (0 where unused). */
    public abstract double apply(double x, double a, double b, double alpha, double beta);
}
