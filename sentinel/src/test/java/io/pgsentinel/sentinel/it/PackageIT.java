package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.OsUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Debian package, installed as an operator installs it (dpkg), used against a test cluster
 * through its {@code pg-sentinel} command, then removed and purged: nothing is left behind. Needs
 * root and dpkg, and a machine where the package is not installed already (it is never touched then).
 */
class PackageIT {
    private static final List<String> INSTALLED = List.of("/usr/bin/pg-sentinel", "/usr/share/pg-sentinel/pg-sentinel.jar",
            "/lib/systemd/system/pg-sentinel.service", "/etc/default/pg-sentinel", "/etc/pg-sentinel/config.yml",
            "/usr/share/doc/pg-sentinel/operations.md", "/usr/share/doc/pg-sentinel/examples/node1.yml");
    private boolean installed;

    private static Command.Result run(String... command) {
        return Command.run(List.of(command), Duration.ofSeconds(120));
    }

    private static Path debianPackage() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("pg-sentinel_.*_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("no pg-sentinel_*_all.deb in target/: mvn package builds it"));
        }
    }

    @AfterEach
    void purge() {
        if (installed) {
            run("dpkg", "--purge", "pg-sentinel");
        }
    }

    @Test
    void installsRunsItsCommandsAgainstAClusterAndPurgesWithoutATrace() throws Exception {
        Assumptions.assumeTrue(OsUser.isRoot() && run("sh", "-c", "command -v dpkg").exitCode() == 0,
                "installing a package needs root and dpkg");
        Assumptions.assumeTrue(run("dpkg", "-s", "pg-sentinel").exitCode() != 0,
                "pg-sentinel is installed on this machine already: not touching it");
        Path deb = debianPackage();
        Command.Result contents = run("dpkg-deb", "--contents", deb.toString());
        assertThat(contents.output()).contains("./usr/bin/pg-sentinel", "./etc/pg-sentinel/config.yml");
        assertThat(run("dpkg-deb", "--field", deb.toString(), "Depends").output()).contains("java17-runtime-headless");

        Command.Result install = run("dpkg", "-i", deb.toString());
        installed = true;
        assertThat(install.exitCode()).as(install.output()).isZero();
        assertThat(install.output()).contains("edit /etc/pg-sentinel/config.yml");
        for (String file : INSTALLED) {
            assertThat(Path.of(file)).as(file).exists();
        }
        assertThat(run("dpkg-query", "-W", "-f=${Conffiles}", "pg-sentinel").output())
                .contains("/etc/pg-sentinel/config.yml", "/etc/default/pg-sentinel");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                Path.of("/etc/pg-sentinel")))).isEqualTo("rwxr-x---");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                Path.of("/etc/pg-sentinel/config.yml")))).isEqualTo("rw-r-----");
        Command.Result version = run("pg-sentinel", "--version");
        assertThat(version.output()).as(version.output()).containsPattern("\\d+\\.\\d+\\.\\d+");
        assertThat(run("pg-sentinel", "status", "--help").output()).contains("usage:");
        Command.Result verify = run("systemd-analyze", "verify", "/lib/systemd/system/pg-sentinel.service");
        assertThat(verify.exitCode()).as(verify.output()).isZero();

        try (SentinelCluster cluster = SentinelCluster.start(2)) {
            cluster.awaitTopology("a healthy topology", t -> t.replicas().stream()
                    .allMatch(r -> r.state().json().equals("streaming")));
            Path config = cluster.sentinel("node2").config();
            Command.Result check = run("pg-sentinel", "check", config.toString());
            assertThat(check.exitCode()).as(check.output()).isZero();
            // the default configuration, as an operator edits it
            Files.copy(config, Path.of("/etc/pg-sentinel/config.yml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Command.Result status = run("pg-sentinel", "status");
            assertThat(status.exitCode()).as(status.output()).isZero();
            assertThat(status.output()).contains("Cluster: " + cluster.paths().cluster() + " (epoch 1)")
                    .containsPattern("\\| node1 \\*? *\\| 127\\.0\\.0\\.1:\\d+ +\\| primary \\| running");
        }

        assertThat(run("dpkg", "--remove", "pg-sentinel").exitCode()).isZero();
        assertThat(Path.of("/usr/bin/pg-sentinel")).doesNotExist();
        assertThat(Path.of("/etc/pg-sentinel/config.yml")).as("a conffile stays until purged").exists();
        Command.Result purge = run("dpkg", "--purge", "pg-sentinel");
        assertThat(purge.exitCode()).as(purge.output()).isZero();
        installed = false;
        for (String file : INSTALLED) {
            assertThat(Path.of(file)).as(file).doesNotExist();
        }
        assertThat(Path.of("/etc/pg-sentinel")).doesNotExist();
        assertThat(Path.of("/usr/share/pg-sentinel")).doesNotExist();
        assertThat(run("dpkg", "-s", "pg-sentinel").exitCode()).as("dpkg knows nothing of it").isNotZero();
    }
}
