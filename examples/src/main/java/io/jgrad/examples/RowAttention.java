package io.jgrad.examples;

import io.jgrad.core.Block;
import io.jgrad.core.Generator;
import io.jgrad.core.Tensor;
import io.jgrad.layers.LayerNorm;
import io.jgrad.layers.Linear;
import io.jgrad.layers.PositionalEncoding;
import io.jgrad.layers.TransformerEncoderLayer;
import java.util.List;

/**
 * Sequence classification with attention: each Fashion-MNIST image read as a sequence of its
 * 28 rows (28 pixels each; a CIFAR-10 image's 32 rows of 3 × 32), embedded (linear 28 → 64), given sinusoidal positions, passed through
 * one pre-norm Transformer encoder layer (4 heads, GELU feed-forward of 128), averaged over the
 * rows and classified (linear 64 → 10). Trained like {@link LinearClassifier} (same options).
 */
public final class RowAttention {
    static final FashionMnistProgram PROGRAM = new FashionMnistProgram("RowAttention", false,
            (shape, rng) -> new Model(shape[0] * shape[2], shape[1], 64, rng), (model, out, name, shape, classes) -> List.of(),
            "3", "0.02");

    /** The model: [N, C, H, W] images as H tokens of C·W values to 10 class scores. */
    static final class Model extends Block {
        private final Linear embed;
        private final PositionalEncoding positions;
        private final TransformerEncoderLayer encoder;
        private final LayerNorm norm;
        private final Linear head;

        Model(int rowWidth, int rows, int width, Generator rng) {
            embed = registerChild("embed", new Linear(rowWidth, width, true, rng));
            positions = registerChild("positions", PositionalEncoding.sinusoidal(rows, width));
            encoder = registerChild("encoder", new TransformerEncoderLayer(width, 4, 2 * width, true, true, true, rng));
            norm = registerChild("norm", new LayerNorm(width));
            head = registerChild("head", new Linear(width, 10, true, rng));
        }

        @Override
        public Tensor forward(Tensor images) {
            int n = images.size(0);
            int h = images.size(2);
            // [N, C, H, W] -> [N, H, C·W]: row r of every channel is token r
            Tensor rows = images.permute(0, 2, 1, 3).reshape(n, h, images.size(1) * images.size(3));
            Tensor encoded = encoder.forward(positions.forward(embed.forward(rows)));
            return head.forward(norm.forward(encoded).mean(1));
        }
    }

    private RowAttention() {}

    /** Runs the program; {@code --help} lists the options. */
    public static void main(String[] argv) {
        System.exit(run(argv));
    }

    /** Runs the program; returns the exit status. */
    static int run(String... argv) {
        return PROGRAM.run(argv);
    }
}
