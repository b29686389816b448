package io.jgrad.layers;

import static com.google.common.base.Preconditions.checkArgument;

import io.jgrad.core.Block;
import io.jgrad.core.DType;
import io.jgrad.core.Generator;
import io.jgrad.core.Parameter;
import io.jgrad.core.ShapeException;
import io.jgrad.core.Tensor;

/**
 * Adds position information to a batch-first sequence x [N, T, E]: either the fixed sinusoids
 * of "Attention is all you need" (PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(...),
 * a buffer {@code pe [maxLength, E]}) or a learned table ({@code weight [maxLength, E]}, normal
 * initialisation like an embedding).
 */
public final class PositionalEncoding extends Block {
    private final int maxLength;
    private final int width;
    private final boolean learned;

    private PositionalEncoding(int maxLength, int width, boolean learned, Generator rng) {
        checkArgument(maxLength > 0 && width > 0, "PositionalEncoding: length and width must be positive, got %s, %s",
                maxLength, width);
        this.maxLength = maxLength;
        this.width = width;
        this.learned = learned;
        if (learned) {
            registerParameter("weight", new Parameter(Tensor.randn(rng, maxLength, width)));
        } else {
            double[] pe = new double[maxLength * width];
            for (int t = 0; t < maxLength; t++) {
                for (int i = 0; i < width; i++) {
                    double angle = t / Math.pow(10000, (double) (i - i % 2) / width);
                    pe[t * width + i] = i % 2 == 0 ? Math.sin(angle) : Math.cos(angle);
                }
            }
            registerBuffer("pe", Tensor.of(pe, maxLength, width).to(DType.FLOAT32));
        }
    }

    /** The fixed sinusoidal encoding for sequences up to {@code maxLength} of width {@code width}. */
    public static PositionalEncoding sinusoidal(int maxLength, int width) {
        return new PositionalEncoding(maxLength, width, false, null);
    }

    /** A learned position table. */
    public static PositionalEncoding learned(int maxLength, int width, Generator rng) {
        return new PositionalEncoding(maxLength, width, true, rng);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(2) != width || x.size(1) > maxLength) {
            throw new ShapeException("PositionalEncoding: input must be [N, T <= " + maxLength + ", " + width + "], got "
                    + x.shape());
        }
        Tensor table = learned ? param("weight") : namedBuffers().get("pe").to(x.dtype());
        return x.add(table.narrow(0, 0, x.size(1)));
    }

    @Override
    protected String extraRepr() {
        return (learned ? "learned" : "sinusoidal") + ", maxLength=" + maxLength + ", width=" + width;
    }
}
