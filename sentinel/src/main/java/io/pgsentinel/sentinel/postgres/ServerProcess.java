package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.OsUser;
import io.pgsentinel.localcluster.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local server as processes: whether its postmaster runs, and stopping it until certain.
 * Used by the sentinel and by its guard (a separate process that needs nothing else).
 *
 * <p>A postmaster is this data directory's when its working directory (PostgreSQL changes into
 * its data directory) is the same directory as ours, compared by real path: a data directory
 * reached through a symlink, or spelled differently, is still the same server. A running server
 * taken for a stopped one would be reported fenced while it accepts writes.
 */
public final class ServerProcess {
    private static final Logger LOG = LoggerFactory.getLogger(ServerProcess.class);

    private final Path binDirectory;
    private final Path dataDirectory;
    private final String stopCommand;

    public ServerProcess(Path binDirectory, Path dataDirectory, String stopCommand) {
        this.binDirectory = binDirectory;
        this.dataDirectory = dataDirectory;
        this.stopCommand = stopCommand == null ? "" : stopCommand;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The owner of the data directory: external programs run as this user. */
    String owner() {
        Path existing = Files.exists(dataDirectory) ? dataDirectory : dataDirectory.getParent();
        return OsUser.ownerOf(existing);
    }

    List<String> asOwner(List<String> command) {
        return Command.as(owner(), command);
    }

    String bin(String program) {
        return binDirectory.resolve(program).toString();
    }

    /** The running postmaster's pid, or empty (also for a stale postmaster.pid). */
    public OptionalLong postmasterPid() {
        try {
            Path pidFile = dataDirectory.resolve("postmaster.pid");
            if (!Files.exists(pidFile)) {
                return OptionalLong.empty();
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).strip());
            return Processes.isAlive(pid) && isOurs(pid) ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** Whether {@code pid} works in this data directory (by real path), falling back to its command line. */
    private boolean isOurs(long pid) {
        try {
            Path real = dataDirectory.toRealPath();
            Path cwd = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd"));
            return cwd.equals(real);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            // /proc/<pid>/cwd of another user's process cannot be read: its command line names the directory
            String commandLine = Processes.commandLine(pid);
            try {
                return commandLine.contains(dataDirectory.toString())
                        || commandLine.contains(dataDirectory.toRealPath().toString());
            } catch (IOException gone) {
                return false;
            }
        }
    }

    public boolean isRunning() {
        return postmasterPid().isPresent();
    }

    /**
     * Whether pg_controldata says the server runs as a primary ("in production"), without a
     * connection: the guard has no credentials.
     */
    public boolean inProduction() {
        Command.Result r = Command.run(asOwner(List.of(bin("pg_controldata"), "-D", dataDirectory.toString())),
                Duration.ofSeconds(10));
        return r.exitCode() == 0 && r.output().lines().anyMatch(l -> l.startsWith("Database cluster state:")
                && l.strip().endsWith("in production"));
    }

    /**
     * Stops the server until certain, within about {@code budget}: the configured stop
     * command or {@code pg_ctl stop -m fast}, then {@code -m immediate}, then SIGKILL of the
     * postmaster and its children (a frozen postmaster never finishes a pg_ctl stop).
     * With {@code urgent} (a self-fence) the fast step is skipped.
     *
     * @return how it ended: "fast", "immediate", "killed", or "already stopped"
     */
    public String stop(Duration budget, boolean urgent) {
        if (!isRunning()) {
            return "already stopped";
        }
        long step = Math.max(1, budget.toMillis() / 3);
        OptionalLong frozen = postmasterPid();
        if (frozen.isPresent() && "T".equals(Processes.state(frozen.getAsLong()))) {
            // a stopped (frozen) postmaster handles no signal pg_ctl sends: only SIGKILL ends it
            return kill();
        }
        if (!urgent) {
            if (!stopCommand.isEmpty()) {
                Command.run(List.of("sh", "-c", stopCommand), Duration.ofMillis(step));
            } else {
                pgCtlStop("fast", step);
            }
            if (!isRunning()) {
                return "fast";
            }
        }
        pgCtlStop("immediate", step);
        if (!isRunning()) {
            return "immediate";
        }
        return kill();
    }

    /** SIGKILL of the postmaster and every process of the server, until certain. */
    private String kill() {
        OptionalLong pid = postmasterPid();
        if (pid.isPresent()) {
            LOG.warn("PostgreSQL did not stop: killing postmaster {} and its children", pid.getAsLong());
            List<String> lock = lockFileLines();
            List<Long> strays = Processes.killServer(pid.getAsLong(), dataDirectory, Duration.ofSeconds(10));
            if (!strays.isEmpty()) {
                LOG.warn("killed {} processes of the server that outlived its postmaster: {}", strays.size(), strays);
            }
            removeStaleLocks(pid.getAsLong(), lock);
        }
        return "killed";
    }

    /**
     * A planned stop: {@code pg_ctl stop -m fast} given {@code fast} (it writes the shutdown
     * checkpoint), then the escalation of {@link #stop} within {@code escalation}.
     *
     * @return "fast", "immediate", "killed", or "already stopped"
     */
    public String stopPlanned(Duration fast, Duration escalation) {
        if (!isRunning()) {
            return "already stopped";
        }
        if (!stopCommand.isEmpty()) {
            Command.run(List.of("sh", "-c", stopCommand), fast);
        } else {
            pgCtlStop("fast", fast.toMillis());
        }
        return isRunning() ? stop(escalation, true) : "fast";
    }

    private void pgCtlStop(String mode, long millis) {
        // pg_ctl's -t is in whole seconds: bound the wait ourselves as well
        Command.run(asOwner(List.of(bin("pg_ctl"), "-D", dataDirectory.toString(), "-m", mode, "-w", "-t",
                Long.toString(Math.max(1, (millis + 999) / 1000)), "stop")), Duration.ofMillis(millis + 500));
    }

    private List<String> lockFileLines() {
        try {
            return Files.readAllLines(dataDirectory.resolve("postmaster.pid"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * After SIGKILL every process of the server is dead, but until its parent reaps it the
     * postmaster keeps its pid, and PostgreSQL takes that zombie for a running server ("lock file
     * postmaster.pid already exists"). Both lock files name a dead server: remove them.
     */
    private void removeStaleLocks(long pid, List<String> lock) {
        try {
            if (lockFileLines().stream().findFirst().map(l -> l.strip().equals(Long.toString(pid))).orElse(false)) {
                Files.deleteIfExists(dataDirectory.resolve("postmaster.pid"));
            }
            if (lock.size() >= 5 && !lock.get(4).isBlank()) {
                Path socketLock = Path.of(lock.get(4).strip(), ".s.PGSQL." + lock.get(3).strip() + ".lock");
                if (Files.exists(socketLock) && Files.readAllLines(socketLock, StandardCharsets.UTF_8).stream()
                        .findFirst().map(l -> l.strip().equals(Long.toString(pid))).orElse(false)) {
                    Files.deleteIfExists(socketLock);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not remove the stale lock files of the killed server: {}", e.toString());
        }
    }
}
