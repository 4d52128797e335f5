package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JVM's run of the kit: a directory that holds everything the kit starts (data
 * directories, logs, child JVM markers), and the cleanup that cannot be forgotten.
 *
 * <ul>
 *   <li>{@link #register} closes a resource at {@link AutoCloseable#close()} time or, failing
 *       that, in a JVM shutdown hook;</li>
 *   <li>every process the kit starts names the run directory on its command line (a data
 *       directory under it, or a {@code -Dpgsentinel.kit.run=} marker), so the shutdown hook and
 *       the next run's sweep find leftovers by directory, never by process name;</li>
 *   <li>at start, runs whose owner JVM is gone (killed with -9) are swept: their processes
 *       killed, their directories deleted.</li>
 * </ul>
 */
public final class KitRun {
    private static final Logger LOG = LoggerFactory.getLogger(KitRun.class);
    /** System property naming where runs live; default {@code /tmp/pg-sentinel-kit-<user>}. */
    public static final String ROOT_PROPERTY = "pgsentinel.kit.root";
    /** Marker property put on every child JVM's command line. */
    public static final String MARKER_PROPERTY = "pgsentinel.kit.run";
    private static final String OWNER_FILE = "owner";

    private static KitRun current;

    private final Path dir;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    private KitRun(Path dir) {
        this.dir = dir;
    }

    /** The run of this JVM, created (after a sweep of dead runs) on first use. */
    public static synchronized KitRun get() {
        if (current == null) {
            Path root = root();
            try {
                Files.createDirectories(root);
                sweep(root);
                ProcessHandle self = ProcessHandle.current();
                Path dir = Files.createDirectory(root.resolve("run-" + self.pid() + "-" + System.nanoTime()));
                // PostgreSQL runs as another user when the tests run as root: it must traverse this
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.writeString(dir.resolve(OWNER_FILE), ownerStamp(self), StandardCharsets.UTF_8);
                current = new KitRun(dir);
                Runtime.getRuntime().addShutdownHook(new Thread(current::shutdown, "pg-sentinel-kit-cleanup"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the kit's run directory under " + root, e);
            }
        }
        return current;
    }

    public static Path root() {
        return Path.of(System.getProperty(ROOT_PROPERTY, "/tmp/pg-sentinel-kit-" + System.getProperty("user.name")));
    }

    public Path dir() {
        return dir;
    }

    /** A new directory under the run, readable by the server user. */
    public Path newDirectory(String prefix) {
        try {
            Path created = Files.createTempDirectory(dir, prefix);
            Files.setPosixFilePermissions(created, PosixFilePermissions.fromString("rwxr-xr-x"));
            return created;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes {@code resource} at JVM exit unless it was closed and {@link #unregister}ed first. */
    public synchronized void register(AutoCloseable resource) {
        resources.push(resource);
    }

    public synchronized void unregister(AutoCloseable resource) {
        resources.remove(resource);
    }

    /** Processes still alive that name this run's directory on their command line. */
    public List<Long> leftoverProcesses() {
        return Processes.withCommandLineContaining(marker(dir));
    }

    private void shutdown() {
        List<AutoCloseable> toClose;
        synchronized (this) {
            toClose = List.copyOf(resources);
            resources.clear();
        }
        for (AutoCloseable resource : toClose) {
            try {
                resource.close();
            } catch (Exception e) {
                LOG.warn("kit cleanup: closing {} failed: {}", resource, e.toString());
            }
        }
        killAndDelete(dir);
    }

    /** Removes runs whose owner JVM is gone, with every process that names them. */
    static void sweep(Path root) throws IOException {
        try (Stream<Path> runs = Files.list(root)) {
            for (Path run : runs.filter(p -> p.getFileName().toString().startsWith("run-")).toList()) {
                if (!ownerAlive(run)) {
                    LOG.info("kit: sweeping leftovers of a dead run in {}", run);
                    killAndDelete(run);
                }
            }
        }
    }

    private static void killAndDelete(Path run) {
        for (long pid : Processes.withCommandLineContaining(marker(run))) {
            Processes.killTree(pid, Duration.ofSeconds(10));
        }
        deleteTree(run);
    }

    /** The text every process of {@code run} has on its command line: the directory and a slash. */
    static String marker(Path run) {
        return run + "/";
    }

    /** Deletes {@code path} recursively; tolerant of files vanishing meanwhile. */
    public static void deleteTree(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a file a dying process still writes; the next sweep gets it
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("kit cleanup: could not delete {}: {}", path, e.toString());
        }
    }

    private static String ownerStamp(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().map(Object::toString).orElse("?");
    }

    private static boolean ownerAlive(Path run) {
        try {
            String[] stamp = Files.readString(run.resolve(OWNER_FILE), StandardCharsets.UTF_8).strip().split(" ");
            Optional<ProcessHandle> owner = ProcessHandle.of(Long.parseLong(stamp[0]));
            // the start time guards against a recycled pid
            return owner.isPresent() && owner.get().isAlive() && ownerStamp(owner.get()).equals(String.join(" ", stamp));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
