package io.pgsentinel.sentinel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.config.Secrets;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.loop.SettingsEditor;
import io.pgsentinel.sentinel.postgres.Jdbc;
import io.pgsentinel.sentinel.postgres.PgParameters;
import io.pgsentinel.sentinel.zk.SettingsStore;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code show-config} and {@code edit-config}: the cluster's settings in ZooKeeper (like
 * {@code patronictl show-config / edit-config}). A change is checked as strictly as the YAML and
 * written with compare-and-set: when someone else changed them meanwhile, nothing is applied.
 */
public final class ConfigCommands {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

    private ConfigCommands() {
    }

    /** The settings as YAML, with their version in a comment: what edit-config opens. */
    static String yaml(SettingsStore.Versioned s) throws Exception {
        JsonNode tree = s.settings().toTree();
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree).remove("formatVersion");
        return "# cluster settings, version " + s.version() + " (pg-sentinel edit-config changes them)\n"
                + YAML.writeValueAsString(tree);
    }

    /** {@code show-config config.yml}. */
    public static final class Show extends ConfiguredCommand<SentinelConfiguration> {
        public Show() {
            super("show-config", "Show the cluster's settings (failure detection, failover, synchronous mode, "
                    + "PostgreSQL parameters) as ZooKeeper holds them");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("--json").action(Arguments.storeTrue()).help("print them as JSON");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                try (ClusterReader reader = ClusterReader.open(c, TIMEOUT)) {
                    SettingsStore.Versioned s = new SettingsStore(reader.session, TIMEOUT).read()
                            .orElseThrow(() -> new CliFailure(ControlCommands.EXIT_REFUSED,
                                    "the cluster has no settings yet: they are created by its first leader"));
                    if (n.getBoolean("json")) {
                        System.out.println(Fields.mapper().writerWithDefaultPrettyPrinter()
                                .writeValueAsString(s.settings().toTree()));
                    } else {
                        System.out.print(yaml(s));
                    }
                    return 0;
                }
            });
        }
    }

    /** {@code edit-config config.yml [--set key=value]... [--remove key]... [--force]}. */
    public static final class Edit extends ConfiguredCommand<SentinelConfiguration> {
        public Edit() {
            super("edit-config", "Change the cluster's settings: in $EDITOR (a diff is shown, then asked), or with "
                    + "--set key=value / --remove key for scripts");
        }

        @Override
        public void configure(Subparser subparser) {
            super.configure(subparser);
            subparser.addArgument("--set").action(Arguments.append()).metavar("KEY=VALUE")
                    .help("set a key, e.g. failureDetection.downAfter=5s or postgresql.parameters.work_mem=8MB");
            subparser.addArgument("--remove").action(Arguments.append()).metavar("KEY")
                    .help("remove a PostgreSQL parameter, e.g. postgresql.parameters.work_mem");
            subparser.addArgument("--force").action(Arguments.storeTrue()).help("apply without asking");
        }

        @Override
        protected void run(Bootstrap<SentinelConfiguration> b, Namespace n, SentinelConfiguration c) {
            CliMain.exit(() -> {
                try (ClusterReader reader = ClusterReader.open(c, TIMEOUT)) {
                    SettingsStore store = new SettingsStore(reader.session, TIMEOUT);
                    SettingsEditor editor = new SettingsEditor(store, reader.cache, new PgParameters(new Jdbc(
                            c.postgres.user, Secrets.read(c.postgres.passwordFile), c.postgres.database,
                            c.postgres.sslMode, c.postgres.sslRootCert)),
                            c.failureDetection.checkInterval.toMilliseconds(),
                            c.failureDetection.checkTimeout.toMilliseconds());
                    SettingsStore.Versioned now = store.read().orElseThrow(() -> new CliFailure(
                            ControlCommands.EXIT_REFUSED, "the cluster has no settings yet: they are created by its "
                            + "first leader"));
                    Map<String, String> set = new TreeMap<>();
                    Set<String> remove = new TreeSet<>();
                    List<String> sets = n.getList("set");
                    List<String> removes = n.getList("remove");
                    if (sets == null && removes == null) {
                        edited(now, set, remove);
                    } else {
                        for (String kv : sets == null ? List.<String>of() : sets) {
                            int eq = kv.indexOf('=');
                            if (eq <= 0) {
                                throw new CliFailure(1, "--set takes key=value, got '" + kv + "'");
                            }
                            set.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
                        }
                        if (removes != null) {
                            remove.addAll(removes);
                        }
                    }
                    ClusterSettings next;
                    try {
                        next = now.settings().with(set, remove, editor.limits());
                    } catch (ClusterSettings.SettingsException e) {
                        throw new CliFailure(ControlCommands.EXIT_REFUSED, e.getMessage() + "; nothing changed");
                    }
                    List<ClusterSettings.Change> changes = now.settings().changesTo(next);
                    if (changes.isEmpty()) {
                        System.out.println("Nothing to change (version " + now.version() + ").");
                        return 0;
                    }
                    changes.forEach(ch -> System.out.println(diffLine(ch)));
                    if (!n.getBoolean("force") && (sets == null && removes == null) && !confirmed()) {
                        System.out.println("Nothing changed.");
                        return 0;
                    }
                    SettingsEditor.Result r = editor.change(set, remove, now.version(), cliUser());
                    if (r.status() != 200) {
                        throw new CliFailure(ControlCommands.EXIT_REFUSED, r.message());
                    }
                    System.out.println("Cluster " + c.cluster + " settings " + r.message() + ".");
                    return 0;
                }
            });
        }
    }

    static String diffLine(ClusterSettings.Change ch) {
        if (ch.from() == null) {
            return "+ " + ch.key() + ": " + ch.to();
        }
        if (ch.to() == null) {
            return "- " + ch.key() + ": " + ch.from();
        }
        return "~ " + ch.key() + ": " + ch.from() + " -> " + ch.to();
    }

    /** Opens the settings in $VISUAL or $EDITOR (else editor, else vi); fills what changed. */
    private static void edited(SettingsStore.Versioned now, Map<String, String> set, Set<String> remove)
            throws Exception {
        Path file = Files.createTempFile("pg-sentinel-config-", ".yml");
        try {
            Files.writeString(file, yaml(now));
            String editor = System.getenv("VISUAL") != null ? System.getenv("VISUAL")
                    : System.getenv("EDITOR") != null ? System.getenv("EDITOR") : "editor";
            Process p = new ProcessBuilder("sh", "-c", editor + " \"$1\"", "editor", file.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new CliFailure(ControlCommands.EXIT_REFUSED, "the editor (" + editor + ") exited with "
                        + p.exitValue() + "; nothing changed");
            }
            Map<String, String> after;
            try {
                JsonNode tree = YAML.readTree(Files.readString(file));
                after = ClusterSettings.flatten(tree == null ? Fields.mapper().createObjectNode() : tree);
            } catch (DocumentException e) {
                throw new CliFailure(ControlCommands.EXIT_REFUSED, e.getMessage() + "; nothing changed");
            } catch (Exception e) {
                throw new CliFailure(ControlCommands.EXIT_REFUSED, "not valid YAML: " + e.getMessage().lines()
                        .findFirst().orElse("") + "; nothing changed");
            }
            Map<String, String> before = now.settings().flat();
            after.forEach((k, v) -> {
                if (!v.equals(before.get(k))) {
                    set.put(k, v);
                }
            });
            before.keySet().stream().filter(k -> !after.containsKey(k)).forEach(remove::add);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static boolean confirmed() throws Exception {
        System.out.print("Apply these changes? [y/N] ");
        System.out.flush();
        String answer = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        return answer != null && answer.strip().equalsIgnoreCase("y");
    }

    private static String cliUser() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "localhost";
        }
        return "cli:" + System.getProperty("user.name") + "@" + host;
    }
}
