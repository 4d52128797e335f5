package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Process facts read from /proc, and signals. Processes are found by what their command line
 * names (a data directory, a run directory), never by process name: other PostgreSQL servers
 * and JVMs may run on the same machine and are not ours.
 */
public final class Processes {
    private Processes() {
    }

    public static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                && !"Z".equals(state(pid));
    }

    /** The single-letter state of {@code pid} from /proc (R, S, T for stopped, Z...), or "" if gone. */
    public static String state(long pid) {
        String stat = stat(pid);
        if (stat.isEmpty()) {
            return "";
        }
        // /proc/<pid>/stat: "pid (comm) S ppid ...", and comm may hold spaces or parentheses
        String afterComm = stat.substring(stat.lastIndexOf(')') + 2);
        return afterComm.substring(0, 1);
    }

    public static long parentOf(long pid) {
        String stat = stat(pid);
        if (stat.isEmpty()) {
            return -1;
        }
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[1]);
    }

    /** The command line of {@code pid}, arguments joined by spaces, or "" when it is gone. */
    public static String commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** Every live process whose command line contains {@code text}, excluding this JVM. */
    public static List<Long> withCommandLineContaining(String text) {
        long self = ProcessHandle.current().pid();
        List<Long> found = new ArrayList<>();
        for (long pid : allPids()) {
            if (pid != self && commandLine(pid).contains(text)) {
                found.add(pid);
            }
        }
        return found;
    }

    /** The children, grandchildren... of {@code pid}, from /proc (works across users). */
    public static List<Long> descendants(long pid) {
        Map<Long, Long> parents = new HashMap<>();
        for (long candidate : allPids()) {
            parents.put(candidate, parentOf(candidate));
        }
        List<Long> result = new ArrayList<>();
        Deque<Long> frontier = new ArrayDeque<>(List.of(pid));
        while (!frontier.isEmpty()) {
            long parent = frontier.pop();
            parents.forEach((child, ppid) -> {
                if (ppid == parent && !result.contains(child)) {
                    result.add(child);
                    frontier.add(child);
                }
            });
        }
        return result;
    }

    /** Sends {@code signal} (KILL, STOP, CONT, TERM, INT...) to each pid; a gone process is skipped. */
    public static void signal(String signal, List<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(p -> command.add(Long.toString(p)));
        // kill exits 1 when one pid is already gone: that is fine here
        Command.run(command, Duration.ofSeconds(10));
    }

    public static void signal(String signal, long pid) {
        signal(signal, List.of(pid));
    }

    /**
     * SIGSTOP of {@code pids}, returning once each is stopped (state T) or gone: kill(2) returns
     * before the stop takes effect, and a test that checks right after must see it frozen.
     */
    public static void freeze(long pid) {
        freeze(List.of(pid));
    }

    /** The same for several processes. */
    public static void freeze(List<Long> pids) {
        signal("STOP", pids);
        List<Long> running = awaitStopped(pids, Duration.ofSeconds(5));
        if (!running.isEmpty()) {
            throw new IllegalStateException("processes " + running + " did not stop within 5 s");
        }
    }

    /**
     * Waits until each of {@code pids} is stopped, a zombie or gone (no longer running, sleeping
     * or in disk wait), at most {@code timeout}; returns those still running then.
     */
    private static List<Long> awaitStopped(List<Long> pids, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> running = new ArrayList<>(pids);
        while (true) {
            running.removeIf(pid -> !List.of("R", "S", "D").contains(state(pid)));
            if (running.isEmpty() || System.nanoTime() - deadline > 0) {
                return running;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Kills {@code pid} and all of its descendants with SIGKILL and waits until they are dead
     * (a zombie is dead: it runs nothing and holds no memory, only its pid until reaped).
     */
    public static void killTree(long pid, Duration timeout) {
        // Stopped first, the root forks nothing more: a child born between the listing and the
        // SIGKILL would escape it (a PostgreSQL backend whose postmaster is gone can still write
        // until it notices). kill(2) returns before the stop takes effect: wait for state T.
        signal("STOP", pid);
        awaitStopped(List.of(pid), Duration.ofSeconds(2)); // if it does not stop, SIGKILL still ends it
        List<Long> tree = new ArrayList<>(descendants(pid));
        signal("STOP", tree);
        for (long late : descendants(pid)) {
            if (!tree.contains(late)) {
                tree.add(late); // forked by a child before it stopped
            }
        }
        tree.add(0, pid);
        // a stopped process still dies of SIGKILL, so no SIGCONT is needed first
        signal("KILL", tree);
        Await.until("processes " + tree + " to exit", timeout, () -> tree.stream().noneMatch(Processes::isAlive));
    }

    /**
     * Kills a PostgreSQL server as a host loss would: its postmaster's tree, then any process still
     * working in its data directory (every process of a server has it as working directory; an
     * orphaned backend can still write until it notices its postmaster is gone), and waits until
     * all are dead. Returns those found after the tree, the processes that outlived their postmaster.
     */
    public static List<Long> killServer(long postmasterPid, Path dataDirectory, Duration timeout) {
        killTree(postmasterPid, timeout);
        List<Long> strays;
        try {
            strays = withWorkingDirectory(dataDirectory.toRealPath());
        } catch (IOException e) {
            return List.of(); // the directory is gone: so is every process working in it
        }
        signal("KILL", strays);
        Await.until("processes " + strays + " to exit", timeout, () -> strays.stream().noneMatch(Processes::isAlive));
        return strays;
    }

    /** Every live process whose working directory is {@code dir} (a PostgreSQL server's processes: its data directory). */
    public static List<Long> withWorkingDirectory(Path dir) {
        List<Long> found = new ArrayList<>();
        for (long pid : allPids()) {
            try {
                if (Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")).equals(dir) && isAlive(pid)) {
                    found.add(pid);
                }
            } catch (IOException | UnsupportedOperationException e) {
                // gone, or not ours to read
            }
        }
        return found;
    }

    private static String stat(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Long> allPids() {
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(name -> name.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
    }
}
