package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external command with a timeout. Output goes to a file rather than a pipe:
 * {@code pg_ctl start} leaves a postmaster behind that would hold a pipe open forever.
 */
public final class Command {
    private Command() {
    }

    /** The result of a finished command: its exit code and its merged stdout and stderr. */
    public record Result(List<String> command, int exitCode, String output) {
        public Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException(
                        String.join(" ", command) + " exited with " + exitCode + ": " + output.strip());
            }
            return this;
        }
    }

    public static Result run(List<String> command, Duration timeout) {
        return run(command, timeout, null);
    }

    /** Runs {@code command} in {@code workDir} (or the current one); kills it at {@code timeout}. */
    public static Result run(List<String> command, Duration timeout, Path workDir) {
        return run(command, timeout, workDir, java.util.Map.of());
    }

    /** The same with {@code environment} added to this process's environment. */
    public static Result run(List<String> command, Duration timeout, Path workDir, java.util.Map<String, String> environment) {
        Path out = null;
        try {
            out = Files.createTempFile("pg-sentinel-cmd", ".out");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within "
                        + timeout.toMillis() + " ms: " + Files.readString(out, StandardCharsets.UTF_8).strip());
            }
            return new Result(List.copyOf(command), process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    /** {@code command} prefixed to run as {@code user} when this JVM is root, unchanged otherwise. */
    public static List<String> as(String user, List<String> command) {
        if (!OsUser.isRoot() || user == null || user.equals("root")) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", user, "--"));
        wrapped.addAll(command);
        return wrapped;
    }
}
