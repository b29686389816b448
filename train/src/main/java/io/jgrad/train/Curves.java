package io.jgrad.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * Loss and accuracy curves of the whole run (a resumed run's earlier epochs included) as a PNG,
 * rewritten after every epoch: losses on the left axis, accuracies on their own right axis
 * (from 0 to 1), epochs along the bottom, a legend naming each series.
 */
public final class Curves implements Callback {
    private final Path png;
    private final String title;

    /** Draws to {@code png} (its folder is created) under {@code title}. */
    public Curves(Path png, String title) {
        this.png = png;
        this.title = title;
    }

    @Override
    public void onEpochEnd(TrainState s) throws IOException {
        write(s.history());
    }

    /** Draws {@code epochs} now; returns the file, or null when there is nothing to draw. */
    public Path write(List<EpochMetrics> epochs) throws IOException {
        if (epochs.isEmpty()) {
            return null;
        }
        if (png.getParent() != null) {
            Files.createDirectories(png.getParent());
        }
        double[] x = epochs.stream().mapToDouble(EpochMetrics::epoch).toArray();
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("epoch").build();
        chart.setYAxisGroupTitle(0, "loss");
        chart.setYAxisGroupTitle(1, "accuracy");
        chart.getStyler().setYAxisGroupPosition(1, org.knowm.xchart.style.Styler.YAxisPosition.Right);
        for (String name : List.of("loss", "val_loss", "accuracy", "val_accuracy")) {
            double[] y = epochs.stream().mapToDouble(e -> e.get(name)).toArray();
            if (java.util.Arrays.stream(y).allMatch(Double::isNaN)) {
                continue;
            }
            String label = (name.startsWith("val_") ? "validation " : "training ") + name.replace("val_", "");
            XYSeries series = chart.addSeries(label, x, y);
            series.setYAxisGroup(name.endsWith("accuracy") ? 1 : 0);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        return png;
    }

    /** The file this callback writes. */
    public Path file() {
        return png;
    }
}
