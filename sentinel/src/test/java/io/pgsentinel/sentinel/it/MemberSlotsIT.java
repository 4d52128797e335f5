package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.ChildJvm;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.sentinel.SentinelApplication;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Member slots on real processes. A member down for long must not fill the primary's disk with
 * the WAL its slot holds: its slot is dropped after {@code replication.memberSlotsTtl}, or loses
 * its WAL to {@code max_slot_wal_keep_size}; either way, when the member comes back and cannot
 * stream, its sentinel sees the WAL it needs is gone and clones the primary afresh, and the member
 * streams again holding every commit. The settings are changed as an operator would: through
 * {@code edit-config} in {@code $EDITOR}, and with {@code --set}.
 */
class MemberSlotsIT extends ClusterTest {

    @Test
    void aMemberDownLongerThanMemberSlotsTtlLosesItsSlotAndComesBackAsAFreshClone() throws Exception {
        cluster = SentinelCluster.start(2);
        awaitHealthy();
        String config = cluster.sentinel("node2").config().toString();
        Path editor = KitRun.get().newDirectory("editor").resolve("edit.sh");
        Files.writeString(editor, "#!/bin/sh\nsed -i 's/memberSlotsTtl: .*/memberSlotsTtl: 5s/' \"$1\"\n");
        assertThat(editor.toFile().setExecutable(true)).isTrue();
        Map<String, String> env = Map.of("EDITOR", editor.toString());

        // in $EDITOR: the diff is shown and the question asked; no answer, nothing changes
        ChildJvm unanswered = cli(env, "edit-config", config);
        assertThat(unanswered.awaitExit(Duration.ofSeconds(60))).as(unanswered.logText()).isZero();
        assertThat(unanswered.logText()).contains("~ replication.memberSlotsTtl: 30min -> 5s", "Apply these changes?",
                "Nothing changed.");
        ChildJvm shown = cli(Map.of(), "show-config", config);
        assertThat(shown.awaitExit(Duration.ofSeconds(60))).as(shown.logText()).isZero();
        assertThat(shown.logText()).contains("memberSlotsTtl: \"30min\"");
        ChildJvm applied = cli(env, "edit-config", config, "--force");
        assertThat(applied.awaitExit(Duration.ofSeconds(60))).as(applied.logText()).isZero();
        // the primary keeps no WAL for a standby that has no slot
        setParameters(config, "postgresql.parameters.wal_keep_size=0");
        PgNode primary = cluster.pg().node("node1");
        Await.until("wal_keep_size 0 on the primary", SentinelCluster.WAIT,
                () -> primary.query("SHOW wal_keep_size").equals("0"));

        killHost("node3");
        Await.until("node3's slot dropped on the primary after memberSlotsTtl", Duration.ofSeconds(30),
                () -> primary.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'node3'").equals("0"));
        // the line is written right after the drop commits: waited for, not read at once
        Await.until("node1's sentinel to say why", SentinelCluster.WAIT,
                () -> cluster.sentinel("node1").log().contains("member slot node3 dropped"));
        assertThat(primary.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'node2'")).isEqualTo("1");
        comesBackAsAFreshClone(primary, "node3");
    }

    @Test
    void aMemberWhoseSlotLostItsWalIsClonedAfresh() throws Exception {
        cluster = SentinelCluster.start(2);
        awaitHealthy();
        String config = cluster.sentinel("node2").config().toString();
        setParameters(config, "postgresql.parameters.max_slot_wal_keep_size=32MB",
                "postgresql.parameters.wal_keep_size=0");
        PgNode primary = cluster.pg().node("node1");
        Await.until("max_slot_wal_keep_size on the primary", SentinelCluster.WAIT,
                () -> primary.query("SHOW max_slot_wal_keep_size").equals("32MB"));

        killHost("node3");
        Await.until("node3's slot to lose its WAL", SentinelCluster.WAIT, () -> {
            moreWal(primary);
            return primary.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'node3'").equals("lost");
        });
        comesBackAsAFreshClone(primary, "node3");
        assertThat(primary.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'node3'"))
                .isNotEqualTo("lost");
    }

    /**
     * Commits made while the member is down move the WAL past what it needs; it comes back, does not
     * stream, is cloned afresh, and streams holding them.
     */
    private void comesBackAsAFreshClone(PgNode primary, String member) {
        primary.execute("CREATE TABLE while_down AS SELECT g AS id FROM generate_series(1, 1000) g");
        moreWal(primary);
        moreWal(primary);
        cluster.sentinel(member).start(); // the host comes back: its sentinel starts the server as the replica it was
        cluster.awaitTopology(member + " streaming again", t -> states(t).equals("node2=streaming,node3=streaming"));
        PgNode node = cluster.pg().node(member);
        node.awaitReplayed(primary.currentFlushLsn(), SentinelCluster.WAIT);
        assertThat(node.query("SELECT count(*) FROM while_down")).isEqualTo("1000");
        String log = cluster.sentinel(member).log();
        assertThat(log).contains("is gone from node1", "fresh clone done");
    }

    /** About 40 MB of WAL, then a switch and a checkpoint: segments nothing holds are recycled. */
    private static void moreWal(PgNode primary) {
        primary.execute("DROP TABLE IF EXISTS filler");
        primary.execute("CREATE TABLE filler AS SELECT g AS id, repeat('x', 300) AS pad FROM generate_series(1, 100000) g");
        primary.execute("SELECT pg_switch_wal()");
        primary.execute("CHECKPOINT");
    }

    private void killHost(String id) {
        cluster.sentinel(id).process().kill9();
        cluster.pg().node(id).kill9();
    }

    private void awaitHealthy() {
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("node1")
                && states(t).equals("node2=streaming,node3=streaming"));
    }

    private static void setParameters(String config, String... settings) {
        String[] args = new String[2 + 2 * settings.length];
        args[0] = "edit-config";
        args[1] = config;
        for (int i = 0; i < settings.length; i++) {
            args[2 + 2 * i] = "--set";
            args[3 + 2 * i] = settings[i];
        }
        ChildJvm set = cli(Map.of(), args);
        assertThat(set.awaitExit(Duration.ofSeconds(60))).as(set.logText()).isZero();
    }

    private static ChildJvm cli(Map<String, String> env, String... args) {
        return ChildJvm.builder("cli-" + args[0], SentinelApplication.class.getName()).environment(env).args(args).start();
    }
}
