package io.pgsentinel.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/** Percentiles of measured samples, and a place to record benchmark results. */
public final class Stats {
    private final double[] sorted;

    public Stats(List<? extends Number> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
        this.sorted = samples.stream().mapToDouble(Number::doubleValue).sorted().toArray();
    }

    public int count() {
        return sorted.length;
    }

    /** The nearest-rank percentile, {@code p} in 0..100. */
    public double percentile(double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public double median() {
        return percentile(50);
    }

    public double min() {
        return sorted[0];
    }

    public double max() {
        return sorted[sorted.length - 1];
    }

    public double mean() {
        return Arrays.stream(sorted).average().orElse(Double.NaN);
    }

    /** Appends {@code line} to {@code target/benchmarks/<file>} of the current module, and prints it. */
    public static void record(String file, String line) {
        System.out.println(line);
        try {
            Path dir = Path.of("target", "benchmarks");
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(file), line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
