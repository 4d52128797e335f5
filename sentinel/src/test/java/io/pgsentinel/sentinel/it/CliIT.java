package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgsentinel.sentinel.SentinelApplication;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.Ports;
import io.pgsentinel.localcluster.Processes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The operator's commands for real: status, history, and the demo, as separate processes. */
class CliIT {

    private static ChildJvm run(String... args) {
        ChildJvm cli = ChildJvm.builder("cli", SentinelApplication.class.getName()).args(args).start();
        cli.awaitExit(Duration.ofSeconds(120));
        return cli;
    }

    @Test
    void statusAndHistoryShowTheClusterWithExitCodesScriptsCanUse() throws Exception {
        try (SentinelCluster cluster = SentinelCluster.start(2)) {
            cluster.awaitTopology("healthy", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
            Path config = cluster.sentinel("node2").config();

            ChildJvm status = run("status", config.toString());
            assertThat(status.awaitExit(Duration.ofSeconds(1))).as(status.logText()).isEqualTo(0);
            assertThat(status.logText()).contains("Cluster: " + cluster.paths().cluster() + " (epoch 1)")
                    .containsPattern("\\| node1 \\*? *\\| 127\\.0\\.0\\.1:\\d+ +\\| primary \\| running")
                    .containsPattern("\\| node2 \\*? *\\| 127\\.0\\.0\\.1:\\d+ +\\| replica \\| streaming")
                    .contains("Decision (").contains("primary node1 is up");

            ChildJvm json = run("status", config.toString(), "--json");
            String text = json.logText();
            JsonNode doc = Fields.mapper().readTree(text.substring(text.indexOf('{')));
            assertThat(doc.get("members")).hasSize(3);
            assertThat(doc.get("epoch").asLong()).isEqualTo(1);

            ChildJvm history = run("history", config.toString());
            assertThat(history.awaitExit(Duration.ofSeconds(1))).isEqualTo(0);
            assertThat(history.logText()).contains("No failover or switchover yet.");

            cluster.sentinel("node3").process().stop(Duration.ofSeconds(30)); // its session ends with it
            io.pgsentinel.localcluster.Await.until("node3's report to vanish", SentinelCluster.WAIT, () ->
                    cluster.zkClient().checkExists().forPath(cluster.paths().member("node3")) == null);
            ChildJvm degraded = run("status", config.toString());
            assertThat(degraded.awaitExit(Duration.ofSeconds(1))).as(degraded.logText()).isEqualTo(3);
            assertThat(degraded.logText()).containsPattern("\\| node3 +\\|.*\\| DOWN +\\|");

            // a copied configuration: node2's id for another server; it refuses to start
            Path duplicate = KitRun.get().newDirectory("dup").resolve("duplicate.yml");
            LocalSentinel node2 = cluster.sentinel("node2");
            String api = node2.url("").replaceAll(".*:(\\d+)/?$", "$1");
            String admin = node2.adminUrl("").replaceAll(".*:(\\d+)/?$", "$1");
            Files.writeString(duplicate, Files.readString(config)
                    .replace("port: " + cluster.pg().node("node2").port(), "port: " + cluster.pg().node("node3").port())
                    .replace("port: " + api, "port: " + Ports.free()).replace("port: " + admin, "port: " + Ports.free()));
            ChildJvm dup = ChildJvm.builder("dup", SentinelApplication.class.getName()).args("server", duplicate.toString())
                    .start();
            assertThat(dup.awaitExit(Duration.ofSeconds(60))).isNotZero();
            assertThat(dup.logText()).contains("node.id node2 is already used by a live sentinel");

            Path unreachable = KitRun.get().newDirectory("cli").resolve("unreachable.yml");
            Files.writeString(unreachable, Files.readString(config)
                    .replace(cluster.zk().connectString(), "127.0.0.1:" + Ports.free()));
            ChildJvm noZk = run("status", unreachable.toString());
            assertThat(noZk.awaitExit(Duration.ofSeconds(1))).isEqualTo(2);
            assertThat(noZk.logText()).contains("error: cannot reach ZooKeeper at 127.0.0.1:");
        }
    }

    /**
     * The demo as a person starts it: {@code java -jar} with a path relative to a directory that
     * is not the repository's (the sentinels it starts run in directories of their own).
     */
    @Test
    void theDemoShowsAFailoverAndARejoinAndLeavesNothingBehind() {
        Path jar = Path.of("target", "pg-sentinel.jar").toAbsolutePath();
        assertThat(jar).as("the shaded jar, built in the package phase").exists();
        Path cwd = KitRun.get().newDirectory("demo-cwd");
        String relative = cwd.relativize(jar).toString();
        assertThat(relative).startsWith("..");
        ChildJvm demo = ChildJvm.jar("demo", relative).workingDirectory(cwd).args("demo").start();
        demo.awaitExit(Duration.ofSeconds(180));
        String out = demo.logText();
        assertThat(demo.awaitExit(Duration.ofSeconds(1))).as(out).isEqualTo(0);
        // on real hosts (as root, where network namespaces work) the nodes are db1..db3, else node1..node3
        String n = io.pgsentinel.localcluster.Hosts.available() ? "db" : "node";
        assertThat(out).contains("ran initdb, started PostgreSQL and was published as the primary")
                .contains("join it as clones")
                .contains("the leader published the topology:")
                .contains("killing the primary's host")
                .containsPattern("promote " + n + "[23]: primary " + n + "1 is down")
                .contains("published epoch 2")
                .containsPattern("failover " + n + "1 -> " + n + "[23]")
                .contains(n + "1 streams from the new primary again")
                .contains("== done");
        if (io.pgsentinel.localcluster.Hosts.available()) {
            assertThat(out).contains("a network partition: ")
                    .containsPattern(n + "[23] stopped itself")
                    .containsPattern("0 of them after it stopped itself")
                    .contains("published epoch 3")
                    .contains("the partition heals");
        } else {
            assertThat(out).contains("network namespaces are not available here");
        }
        // everything the demo started named its run directory, run-<its pid>-...: none is left, nor the directory
        String runPrefix = "/run-" + demo.pid() + "-";
        assertThat(Processes.withCommandLineContaining(runPrefix)).isEmpty();
        assertThat(KitRun.root().toFile().list()).noneMatch(name -> name.startsWith("run-" + demo.pid() + "-"));
        if (io.pgsentinel.localcluster.Hosts.available()) {
            String namespaces = io.pgsentinel.localcluster.Command.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10))
                    .output();
            assertThat(namespaces).as("the demo's network namespaces").doesNotContain("pgs-" + demo.pid() + "-");
        }
    }
}
