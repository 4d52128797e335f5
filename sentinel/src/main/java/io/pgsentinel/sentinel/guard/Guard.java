package io.pgsentinel.sentinel.guard;

import io.pgsentinel.sentinel.postgres.ServerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The guard: a small process that each sentinel starts next to it and that outlives it. While
 * the sentinel runs it only listens; when the sentinel of a primary goes quiet (it crashed, was
 * killed or stopped, or is frozen), the guard keeps the promise the sentinel made to the leader:
 * past the sentinel's self-fence deadline, the server does not stay writable on the side of a
 * partition that a failover may replace.
 *
 * <p>Why: the leader takes the absence of a primary's sentinel (its session gone, its heartbeat
 * silent) for a confirmed fence, because that sentinel fences its server before its session can
 * expire (the timing rule). A sentinel that is not running keeps no such promise. The guard
 * keeps it without touching a healthy primary: it stops the server only when it cannot reach
 * enough peers for the cluster to be unable to fail it over (a quorum of sentinels must see the
 * primary down, and TCP reachability is symmetric: a peer it reaches can reach it). A sentinel
 * crash alone is therefore not a database failure (rule 1); a crash and a partition together
 * end with the old primary stopped before the leader can take the absence for a fence.
 *
 * <p>Protocol, one line at a time on standard input, from the sentinel:
 * <pre>
 *   peers NEEDED HOST:PORT[|HOST:PORT]...   the peers (each with every endpoint that proves it
 *                                           reachable) and how many must be reachable
 *   arm MILLIS                              the server is the primary, guarded; the sentinel's
 *                                           self-fence deadline is MILLIS from now (may be &lt;= 0)
 *   disarm                                  nothing to guard (a replica, stopped, fenced)
 * </pre>
 * After the end of input (the sentinel is gone) the guard stays while the server runs: a server
 * that becomes a primary then (pg_controldata says "in production") is guarded from that moment.
 * It exits once the server is stopped. Every time is monotonic.
 */
public final class Guard {
    /** The sentinel is "quiet" when no line came for this long: it is gone, or frozen. */
    static final long QUIET_NANOS = Duration.ofMillis(500).toNanos();
    /** Peers are probed from this long before the deadline, so that a fresh answer is there when it passes. */
    private static final long LOOK_AHEAD_NANOS = Duration.ofMillis(600).toNanos();
    private static final long TICK_MILLIS = 100;
    private static final long STATE_CHECK_NANOS = Duration.ofSeconds(2).toNanos();
    private static final long PROBE_EVERY_NANOS = Duration.ofMillis(250).toNanos();
    private static final int CONNECT_TIMEOUT_MILLIS = 300;

    private final ServerProcess server;
    private final Duration budget;

    private volatile boolean armed;
    private volatile long deadlineNanos;
    private volatile long lastLineNanos = System.nanoTime();
    private volatile boolean eof;
    private volatile List<List<InetSocketAddress>> peers = List.of();
    private volatile int needed = 1;

    Guard(ServerProcess server, Duration budget) {
        this.server = server;
        this.budget = budget;
    }

    /** {@code Guard --data DIR --bin DIR --budget-ms N [--stop-command CMD]}. */
    public static void main(String[] args) throws Exception {
        String data = null;
        String bin = null;
        String stopCommand = "";
        long budgetMillis = 1000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--data" -> data = args[i + 1];
                case "--bin" -> bin = args[i + 1];
                case "--stop-command" -> stopCommand = args[i + 1];
                case "--budget-ms" -> budgetMillis = Long.parseLong(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (data == null || bin == null) {
            throw new IllegalArgumentException("usage: Guard --data DIR --bin DIR --budget-ms N [--stop-command CMD]");
        }
        Guard guard = new Guard(new ServerProcess(Path.of(bin), Path.of(data), stopCommand), Duration.ofMillis(budgetMillis));
        Thread reader = new Thread(guard::read, "guard-stdin");
        reader.setDaemon(true);
        reader.start();
        System.exit(guard.run());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                accept(line.strip(), System.nanoTime());
            }
        } catch (IOException | RuntimeException e) {
            log("reading from the sentinel failed: " + e);
        }
        eof = true;
    }

    /** Applies one line of the protocol; a malformed line is logged and ignored. */
    void accept(String line, long now) {
        lastLineNanos = now;
        String[] words = line.split("\\s+");
        try {
            switch (words[0]) {
                case "arm" -> {
                    deadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(words[1]));
                    armed = true;
                }
                case "disarm" -> armed = false;
                case "peers" -> {
                    needed = Integer.parseInt(words[1]);
                    List<List<InetSocketAddress>> list = new ArrayList<>();
                    for (int i = 2; i < words.length; i++) {
                        List<InetSocketAddress> endpoints = new ArrayList<>();
                        for (String ep : words[i].split("\\|")) {
                            endpoints.add(PeerReach.endpoint(ep));
                        }
                        list.add(List.copyOf(endpoints));
                    }
                    peers = List.copyOf(list);
                }
                default -> log("ignoring an unknown line from the sentinel: " + line);
            }
        } catch (RuntimeException e) {
            log("ignoring a malformed line from the sentinel: " + line);
        }
    }

    private int run() throws InterruptedException {
        log("started for " + server.dataDirectory());
        boolean guarding = false;
        long lastProbe = System.nanoTime() - PROBE_EVERY_NANOS;
        CompletableFuture<Integer> probe = null;
        int reachable = Integer.MAX_VALUE;
        long lastStateCheck = System.nanoTime() - STATE_CHECK_NANOS;
        while (true) {
            long now = System.nanoTime();
            if (!armed) {
                if (eof && !server.isRunning()) {
                    log("the sentinel is gone and its server is not running: exiting");
                    return 0;
                }
                if (eof && now - lastStateCheck >= STATE_CHECK_NANOS) {
                    // promoted after its sentinel went away (by a leader that died right after): a primary
                    // the leader may take for fenced in its sentinel's absence, guarded from now on
                    lastStateCheck = now;
                    if (server.inProduction()) {
                        log("the server runs as a primary and its sentinel is gone: guarding it");
                        deadlineNanos = now;
                        armed = true;
                        continue;
                    }
                }
                guarding = false;
                reachable = Integer.MAX_VALUE;
                Thread.sleep(TICK_MILLIS);
                continue;
            }
            boolean quiet = eof || now - lastLineNanos > QUIET_NANOS;
            long remaining = deadlineNanos - now;
            if (!quiet && remaining > LOOK_AHEAD_NANOS) {
                if (guarding) {
                    log("the sentinel is in contact again: it guards its server itself");
                    guarding = false;
                }
                reachable = Integer.MAX_VALUE;
                Thread.sleep(TICK_MILLIS);
                continue;
            }
            if (!guarding) {
                log((eof ? "the sentinel is gone" : quiet ? "the sentinel went quiet" : "the sentinel's self-fence "
                        + "deadline is near") + " while its server is the primary: guarding it (stopped if fewer "
                        + "than " + needed + " of " + peers.size() + " peers can be reached past the deadline)");
                guarding = true;
            }
            if (probe != null && probe.isDone()) {
                reachable = probe.getNow(0);
                probe = null;
            }
            if (probe == null && now - lastProbe >= PROBE_EVERY_NANOS) {
                lastProbe = now;
                probe = PeerReach.count(peers, CONNECT_TIMEOUT_MILLIS);
            }
            if (!server.isRunning()) {
                if (eof) {
                    log("the server is not running: nothing left to guard, exiting");
                    return 0;
                }
            } else if (now - deadlineNanos >= 0 && reachable < needed) {
                long start = System.nanoTime();
                String how = server.stop(budget, true);
                log("fenced the server (" + how + ", " + (System.nanoTime() - start) / 1_000_000 + " ms): only "
                        + reachable + " of " + peers.size() + " peers reachable, " + needed + " needed, and the "
                        + "sentinel is " + (eof ? "gone" : "quiet") + " past its self-fence deadline");
                if (eof) {
                    return 0;
                }
            }
            Thread.sleep(TICK_MILLIS);
        }
    }

    private static void log(String text) {
        System.err.println(Instant.now() + " pg-sentinel guard: " + text);
        System.err.flush();
    }
}
