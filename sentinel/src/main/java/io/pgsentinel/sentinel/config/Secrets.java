package io.pgsentinel.sentinel.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Secrets are read from files named in the configuration, never written in it. The value is
 * never logged or put in an exception message: errors name the file, not its content.
 */
public final class Secrets {
    private Secrets() {
    }

    static boolean isReadableOrUnset(String file) {
        return file == null || file.isEmpty() || (Files.isRegularFile(Path.of(file)) && Files.isReadable(Path.of(file)));
    }

    /** The first line of {@code file}, stripped; empty when no file is configured. */
    public static Optional<String> read(String file) {
        if (file == null || file.isEmpty()) {
            return Optional.empty();
        }
        try {
            String content = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            String first = content.lines().findFirst().orElse("").strip();
            return first.isEmpty() ? Optional.empty() : Optional.of(first);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the secret file " + file + " (" + e.getClass().getSimpleName() + ")",
                    new IOException("unreadable"));
        }
    }
}
