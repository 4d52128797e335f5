package io.pgsentinel.sentinel.hooks;

import com.codahale.metrics.MetricRegistry;
import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.localcluster.Command;
import io.pgsentinel.sentinel.config.HooksConfig;
import io.pgsentinel.sentinel.model.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's hooks (docs/operations.md, "Hooks"): commands run when this node's server
 * starts, stops or changes role, and on the leader when a failover is published. They run on
 * their own thread, one at a time in the order of the events, each bounded by the timeout; the
 * cycle only hands them over. Their outcome is logged and counted
 * ({@code pgsentinel.hooks.<action>.succeeded|failed|dropped}, {@code .duration}).
 */
public final class Hooks implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(Hooks.class);
    private static final int QUEUE = 64;
    private static final int OUTPUT_IN_LOG = 400;

    /** The events, named as Patroni names its callbacks. */
    public enum Action {
        START, STOP, ROLE_CHANGE, FAILOVER;

        public String json() {
            return "on_" + name().toLowerCase(Locale.ROOT);
        }
    }

    private final HooksConfig config;
    private final String cluster;
    private final String node;
    private final MetricRegistry registry;
    private final ThreadPoolExecutor runner;
    private Boolean running;
    private String role;

    public Hooks(HooksConfig config, String cluster, String node, MetricRegistry registry) {
        this.config = config;
        this.cluster = cluster;
        this.node = node;
        this.registry = registry;
        this.runner = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "pg-sentinel-hooks");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The role the hooks are told, or null while none can be told: the server runs but did not
     * answer, or it was a replica and accepts writes before its promotion is published (a
     * candidate, not a demoted primary: it is told "primary" once published).
     */
    static String role(boolean postmasterRunning, Role probed, String publishedPrimary, String self, String previous) {
        if (!postmasterRunning) {
            return "stopped";
        }
        if (probed == Role.REPLICA) {
            return "replica";
        }
        if (probed == Role.PRIMARY && publishedPrimary != null) {
            if (publishedPrimary.equals(self)) {
                return "primary";
            }
            return "replica".equals(previous) ? null : "demoted";
        }
        return null;
    }

    /**
     * What the server is now: called every cycle and right after a fence. Hands the hooks what
     * changed since the last call (the first call tells the role as it is, and a start if it runs).
     *
     * @param publishedPrimary the primary of the published topology, null when none is known
     */
    public synchronized void observed(boolean postmasterRunning, Role probed, String publishedPrimary, long epoch) {
        if (running == null ? postmasterRunning : running != postmasterRunning) {
            submit(postmasterRunning ? Action.START : Action.STOP, postmasterRunning ? "running" : "stopped", epoch,
                    "", "");
        }
        running = postmasterRunning;
        String now = role(postmasterRunning, probed, publishedPrimary, node, role);
        if (now != null && !now.equals(role)) {
            LOG.info("role of {} is now {} (was {})", node, now, role == null ? "not known" : role);
            role = now;
            submit(Action.ROLE_CHANGE, now, epoch, "", "");
        }
    }

    /** On the leader, once a failover or switchover from {@code oldPrimary} to {@code newPrimary} is published. */
    public void failoverPublished(String oldPrimary, String newPrimary, long epoch) {
        submit(Action.FAILOVER, "leader", epoch, oldPrimary, newPrimary);
    }

    private String command(Action a) {
        return switch (a) {
            case START -> config.onStart;
            case STOP -> config.onStop;
            case ROLE_CHANGE -> config.onRoleChange;
            case FAILOVER -> config.onFailover;
        };
    }

    private void submit(Action a, String role, long epoch, String oldPrimary, String newPrimary) {
        String command = command(a);
        if (command == null || command.isBlank()) {
            return;
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put("action", a.json());
        values.put("role", role);
        values.put("cluster", cluster);
        values.put("node", node);
        values.put("epoch", Long.toString(epoch));
        values.put("old", oldPrimary);
        values.put("new", newPrimary);
        List<String> argv = List.of("sh", "-c", expand(command, values));
        try {
            runner.execute(() -> run(a, argv, values));
        } catch (RejectedExecutionException e) {
            registry.counter(MetricRegistry.name("pgsentinel", "hooks", a.json(), "dropped")).inc();
            LOG.error("hook {} ({}) dropped: {} hooks are already waiting", a.json(), role, QUEUE);
        }
    }

    /**
     * The command with its placeholders ({role}, {node}...) replaced by shell-quoted values; one
     * that names none gets Patroni's arguments appended: the action, the role and the cluster.
     */
    static String expand(String command, Map<String, String> values) {
        boolean named = values.keySet().stream().anyMatch(k -> command.contains("{" + k + "}"));
        if (!named) {
            return command + " " + quote(values.get("action")) + " " + quote(values.get("role")) + " "
                    + quote(values.get("cluster"));
        }
        String expanded = command;
        for (var e : values.entrySet()) {
            expanded = expanded.replace("{" + e.getKey() + "}", quote(e.getValue()));
        }
        return expanded;
    }

    static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private void run(Action a, List<String> argv, Map<String, String> values) {
        Map<String, String> env = new LinkedHashMap<>();
        values.forEach((k, v) -> env.put("PGSENTINEL_" + switch (k) {
            case "old" -> "OLD_PRIMARY";
            case "new" -> "NEW_PRIMARY";
            default -> k.toUpperCase(Locale.ROOT);
        }, v));
        long start = System.nanoTime();
        String outcome;
        boolean ok;
        try {
            Command.Result r = Command.run(argv, config.timeout.toJavaDuration(), null, env);
            ok = r.exitCode() == 0;
            outcome = "exited " + r.exitCode() + tail(r.output());
        } catch (IllegalStateException e) {
            ok = false;
            outcome = e.getMessage().contains("did not finish") ? "killed after " + config.timeout + " (hooks.timeout)"
                    : "could not run: " + e.getMessage();
        }
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        registry.timer(MetricRegistry.name("pgsentinel", "hooks", a.json(), "duration"))
                .update(Duration.ofMillis(millis));
        registry.counter(MetricRegistry.name("pgsentinel", "hooks", a.json(), ok ? "succeeded" : "failed")).inc();
        if (ok) {
            LOG.info("hook {} ({}) {} in {} ms", a.json(), values.get("role"), outcome, millis);
        } else {
            LOG.warn("hook {} ({}) failed: {} in {} ms", a.json(), values.get("role"), outcome, millis);
        }
    }

    private static String tail(String output) {
        String s = output.strip();
        if (s.isEmpty()) {
            return "";
        }
        return ": " + (s.length() > OUTPUT_IN_LOG ? "..." + s.substring(s.length() - OUTPUT_IN_LOG) : s);
    }

    @Override
    public void start() {
    }

    /** Lets the hook running now (and those waiting) finish, up to the timeout, so that a stop does not cut one short. */
    @Override
    public void stop() throws InterruptedException {
        runner.shutdown();
        if (!runner.awaitTermination(config.timeout.toMilliseconds(), TimeUnit.MILLISECONDS)) {
            List<Runnable> left = new ArrayList<>(runner.shutdownNow());
            LOG.warn("{} hooks not run: the sentinel stops", left.size());
        }
    }
}
