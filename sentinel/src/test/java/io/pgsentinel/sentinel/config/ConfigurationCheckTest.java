package io.pgsentinel.sentinel.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.dropwizard.core.cli.CheckCommand;
import io.dropwizard.core.cli.Cli;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.util.JarLocation;
import io.pgsentinel.sentinel.SentinelApplication;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code check config.yml} on good and broken files: a broken one fails with the field named. */
class ConfigurationCheckTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path bin;
    static Path secret;

    @BeforeAll
    static void files() throws IOException {
        data = Files.createDirectories(dir.resolve("data"));
        bin = Files.createDirectories(dir.resolve("bin"));
        Path pgCtl = Files.writeString(bin.resolve("pg_ctl"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(pgCtl, PosixFilePermissions.fromString("rwxr-xr-x"));
        secret = Files.writeString(dir.resolve("password"), "s3cret-never-logged\n");
    }

    static String valid() {
        return """
                cluster: revenue-engine
                node:
                  id: node1
                  host: 10.0.0.11
                  tags: {priority: 100, nofailover: false}
                postgres:
                  port: 5432
                  passwordFile: %s
                  dataDirectory: %s
                  binDirectory: %s
                replication:
                  maxLagOnFailover: 1MB
                zookeeper:
                  connect: zk1:2181,zk2:2181,zk3:2181
                  sessionTimeout: 4s
                failureDetection:
                  checkInterval: 500ms
                  checkTimeout: 1s
                  downAfter: 3s
                  quorum: majority
                """.formatted(secret, data, bin);
    }

    /** Runs {@code check} in-process; returns what it printed, or empty when the file is valid. */
    static Optional<String> check(String yaml) throws IOException {
        Path file = Files.writeString(Files.createTempFile(dir, "config", ".yml"), yaml);
        SentinelApplication app = new SentinelApplication();
        Bootstrap<SentinelConfiguration> bootstrap = new Bootstrap<>(app);
        bootstrap.addCommand(new CheckCommand<>(app));
        app.initialize(bootstrap);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Optional<Throwable> failure = new Cli(new JarLocation(SentinelApplication.class), bootstrap, out, err)
                .run("check", file.toString());
        String printed = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        return failure.map(t -> printed + "\n" + t.getMessage());
    }

    @Test
    void theExampleConfigurationIsValid() throws IOException {
        assertThat(check(valid())).isEmpty();
    }

    @Test
    void everyExampleInConfigIsValidOnceItsPathsExist() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("..", "config"))) {
            java.util.List<Path> examples = files.filter(p -> p.toString().endsWith(".yml")).toList();
            assertThat(examples).hasSizeGreaterThanOrEqualTo(3);
            for (Path f : examples) {
                String yaml = Files.readString(f)
                        .replaceAll("(?m)^(\\s*dataDirectory:).*$", "$1 " + data)
                        .replaceAll("(?m)^(\\s*binDirectory:).*$", "$1 " + bin)
                        .replaceAll("(?m)^(\\s*passwordFile:).*$", "$1 " + secret);
                assertThat(check(yaml)).as(f.toString()).isEmpty();
            }
        }
    }

    static Stream<Arguments> broken() {
        return Stream.of(
                Arguments.of("missing cluster", valid().replace("cluster: revenue-engine\n", ""), "cluster"),
                Arguments.of("cluster with a slash", valid().replace("revenue-engine", "revenue/engine"), "cluster may hold only"),
                Arguments.of("node id with a space", valid().replace("id: node1", "id: node 1"), "id may hold only"),
                Arguments.of("replicatefrom itself", valid().replace("nofailover: false}", "nofailover: false, "
                        + "replicatefrom: node1}"), "node.tags.replicatefrom must be another node's id"),
                Arguments.of("replicatefrom not an id", valid().replace("nofailover: false}", "nofailover: false, "
                        + "replicatefrom: 'node 2'}"), "node.tags.replicatefrom must be another node's id"),
                Arguments.of("missing node host", valid().replace("  host: 10.0.0.11\n", ""), "node.host"),
                Arguments.of("negative duration", valid().replace("checkInterval: 500ms", "checkInterval: -1s"), "checkInterval"),
                Arguments.of("zero duration", valid().replace("downAfter: 3s", "downAfter: 0s"), "downAfter"),
                Arguments.of("downAfter not above checkInterval", valid().replace("downAfter: 3s", "downAfter: 400ms"),
                        "failureDetection.downAfter must be longer than failureDetection.checkInterval"),
                Arguments.of("session too short for the checks", valid().replace("sessionTimeout: 4s", "sessionTimeout: 1s"),
                        "zookeeper.sessionTimeout must be at least 2 x failureDetection.checkInterval"),
                Arguments.of("bad quorum", valid().replace("quorum: majority", "quorum: most"), "quorum must be 'majority'"),
                Arguments.of("fencing.guard neither on nor off", valid() + "fencing:\n  guard: maybe\n",
                        "fencing.guard must be on or off"),
                Arguments.of("unknown key", valid().replace("  host: 10.0.0.11\n", "  host: 10.0.0.11\n  colour: blue\n"),
                        "colour"),
                Arguments.of("unreadable password file", valid().replace(secret.toString(), "/nonexistent/password"),
                        "passwordFile must be a readable file"),
                Arguments.of("missing data directory", valid().replaceAll("(?m)^  dataDirectory:.*\\n", ""), "dataDirectory"),
                Arguments.of("data directory that does not exist", valid().replace(data.toString(), "/nonexistent/data"),
                        "dataDirectory must be an existing directory"),
                Arguments.of("bin directory without pg_ctl", valid().replace(bin.toString(), dir.toString()),
                        "binDirectory must hold pg_ctl"),
                Arguments.of("port of the wrong type", valid().replace("port: 5432", "port: abc"), "port"),
                Arguments.of("port out of range", valid().replace("port: 5432", "port: 70000"), "port"),
                Arguments.of("bad synchronous mode", valid().replace("replication:\n", "replication:\n  synchronous: always\n"),
                        "synchronous must be off or quorum"),
                Arguments.of("bad lag size", valid().replace("maxLagOnFailover: 1MB", "maxLagOnFailover: lots"),
                        "maxLagOnFailover"),
                Arguments.of("bad connect string", valid().replace("zk1:2181,zk2:2181,zk3:2181", "zk1"),
                        "connect must be host:port"),
                Arguments.of("bad root", valid().replace("zookeeper:\n", "zookeeper:\n  root: pg-sentinel\n"), "root must be"),
                Arguments.of("bad ssl mode", valid().replace("  port: 5432\n", "  port: 5432\n  sslMode: sometimes\n"),
                        "sslMode must be one of"),
                Arguments.of("bad self fence", valid() + "fencing:\n  selfFence: shoot\n", "selfFence must be stop or readonly"),
                Arguments.of("bad rejoin", valid() + "rejoin: pray\n", "rejoin must be rewind or manual"),
                Arguments.of("not YAML", "cluster: [unclosed", "config"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("broken")
    void aBrokenConfigurationFailsNamingTheField(String what, String yaml, String expected) throws IOException {
        Optional<String> failure = check(yaml);
        assertThat(failure).as(what).isPresent();
        assertThat(failure.get()).contains(expected);
        assertThat(failure.get()).doesNotContain("s3cret-never-logged");
    }
}
