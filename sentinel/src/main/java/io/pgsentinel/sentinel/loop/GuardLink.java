package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.guard.Guard;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.Processes;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This sentinel's side of its {@link Guard}: starts the guard process (after ending the guard
 * of a previous run of this sentinel, which guarded in its place meanwhile), and tells it, every
 * watchdog tick, whether the server is a guarded primary and when the self-fence deadline is. A
 * guard that died is started again.
 */
final class GuardLink {
    private static final Logger LOG = LoggerFactory.getLogger(GuardLink.class);

    private final Path dataDirectory;
    private final Path binDirectory;
    private final String stopCommand;
    private final Duration budget;
    private Process process;
    private OutputStream in;
    private String lastPeers = "";
    private long lastFailureLog;

    GuardLink(Path dataDirectory, Path binDirectory, String stopCommand, Duration budget) {
        this.dataDirectory = dataDirectory;
        this.binDirectory = binDirectory;
        this.stopCommand = stopCommand == null ? "" : stopCommand;
        this.budget = budget;
    }

    /** The text that names this data directory's guard on its command line. */
    private String marker() {
        return Guard.class.getName() + " --data " + dataDirectory;
    }

    synchronized void start() {
        for (long pid : Processes.withCommandLineContaining(marker())) {
            LOG.info("ending the guard {} left by an earlier run of this sentinel", pid);
            Processes.killTree(pid, Duration.ofSeconds(10));
        }
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                "-cp", ChildJvm.absoluteClassPath(), Guard.class.getName(), "--data", dataDirectory.toString(),
                "--bin", binDirectory.toString(), "--budget-ms", Long.toString(budget.toMillis())));
        if (!stopCommand.isEmpty()) {
            command.addAll(List.of("--stop-command", stopCommand));
        }
        try {
            process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            in = process.getOutputStream();
            lastPeers = "";
            LOG.info("guard started (pid {})", process.pid());
        } catch (IOException e) {
            LOG.error("could not start the guard: {}", e.toString());
            process = null;
        }
    }

    /** Whether the guard runs: its absence is reported, and the leader does not take this sentinel's absence for a fence. */
    synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * The state to guard: {@code armed} with the self-fence deadline {@code remainingMillis} from
     * now, and the peers ({@code needed} of them must answer), each with its endpoints.
     */
    synchronized void update(boolean armed, long remainingMillis, int needed, List<List<String>> peers) {
        if (!isRunning()) {
            start();
            if (!isRunning()) {
                return;
            }
        }
        StringBuilder lines = new StringBuilder();
        String peerLine = "peers " + needed + peers.stream().map(p -> " " + String.join("|", p)).reduce("", String::concat);
        if (!peerLine.equals(lastPeers)) {
            lines.append(peerLine).append('\n');
            lastPeers = peerLine;
        }
        lines.append(armed ? "arm " + remainingMillis : "disarm").append('\n');
        try {
            in.write(lines.toString().getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            long now = System.nanoTime();
            if (now - lastFailureLog > Duration.ofSeconds(10).toNanos()) {
                LOG.warn("the guard does not listen ({}): starting it again", e.getMessage());
                lastFailureLog = now;
            }
            process.destroyForcibly();
        }
    }

    /**
     * The sentinel stops: the guard is left running, told nothing more (end of input): if the
     * server is a guarded primary it keeps guarding it until a sentinel runs again.
     */
    synchronized void release() {
        if (in != null) {
            try {
                in.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
    }
}
