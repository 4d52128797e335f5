package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The {@code ip netns} and {@code nft} commands the kit runs, each with a timeout. Only ever
 * applied to namespaces the kit named ({@code pgs-...}); nothing here touches the machine's own
 * namespace, interfaces, routes or rules.
 */
final class Netns {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Path NAMED = Path.of("/run/netns");

    private Netns() {
    }

    /** The absolute path of {@code program} on PATH or in the sbin directories root's PATH has, if any. */
    static Optional<Path> which(String program) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, program))
                .filter(Files::isExecutable).findFirst();
    }

    static String ip() {
        return which("ip").map(Path::toString).orElse("ip");
    }

    static String nft() {
        return which("nft").map(Path::toString).orElse("nft");
    }

    static Command.Result ip(String... args) {
        List<String> command = new ArrayList<>(List.of(ip()));
        command.addAll(List.of(args));
        return Command.run(command, TIMEOUT);
    }

    /** {@code command} run inside namespace {@code ns}; {@code ip netns exec} execs it in place (same pid). */
    static List<String> exec(String ns, List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of(ip(), "netns", "exec", ns));
        wrapped.addAll(command);
        return wrapped;
    }

    /** The names of every named network namespace on the machine. */
    static List<String> list() {
        // "name" or "name (id: 3)"
        return ip("netns", "list").orThrow().output().lines()
                .map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.split(" ")[0]).toList();
    }

    static void add(String ns) {
        ip("netns", "add", ns).orThrow();
    }

    /** Deletes the name; the namespace (with its veth ends and nft tables) goes with its last process. */
    static void delete(String ns) {
        Command.Result r = ip("netns", "delete", ns);
        if (r.exitCode() != 0 && list().contains(ns)) {
            r.orThrow();
        }
    }

    /** The processes whose network namespace is {@code ns}. */
    static List<Long> pids(String ns) {
        Command.Result r = ip("netns", "pids", ns);
        if (r.exitCode() != 0) {
            return List.of();
        }
        return r.output().lines().map(String::strip).filter(l -> l.matches("\\d+")).map(Long::parseLong).toList();
    }

    /** Kills every process inside {@code ns} with SIGKILL and waits until they are dead. */
    static void killAll(String ns) {
        // a few rounds: a process may fork in the namespace between a listing and the kill
        for (int round = 0; round < 5; round++) {
            List<Long> pids = pids(ns).stream().filter(Processes::isAlive).toList();
            if (pids.isEmpty()) {
                return;
            }
            Processes.signal("KILL", pids);
            Await.until("processes " + pids + " of namespace " + ns + " to exit", TIMEOUT,
                    () -> pids.stream().noneMatch(Processes::isAlive));
        }
    }

    /** When {@code ns} was created (the time stamp of its name under /run/netns), if it exists. */
    static Optional<Instant> created(String ns) {
        try {
            return Optional.of(Files.getLastModifiedTime(NAMED.resolve(ns)).toInstant());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Applies the nft script {@code file} inside {@code ns}, as one transaction. */
    static void nft(String ns, Path file) {
        Command.run(exec(ns, List.of(nft(), "-f", file.toString())), TIMEOUT).orThrow();
    }

    static Stream<String> named(String prefix) {
        return list().stream().filter(n -> n.startsWith(prefix));
    }
}
