package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.localcluster.StopMode;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A standby left with the first segment of a new timeline cut short (its new primary died while
 * it streamed that segment from the start) starts through the sentinel's start, and is promoted
 * with everything it held. Found by the chaos suite ("the new primary lost right after a
 * failover", fault 52 of seed 3516440697579908773): the third node PANICked at its promotion and
 * never started again, and the cluster stayed without a primary. Before the fix this test failed:
 * the start did not get past recovery.
 */
class WalDirectoryIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aStandbyWithANewTimelinesSegmentCutShortStartsAndIsPromotedWithAllItHeld() throws Exception {
        try (PgCluster pg = PgCluster.builder().replicas(2).start()) {
            PgNode primary = pg.primary();
            PgNode node2 = pg.node("node2");
            PgNode node3 = pg.node("node3");
            primary.execute("CREATE TABLE t AS SELECT generate_series(1, 1000) AS id");
            String lsn = primary.currentFlushLsn();
            node2.awaitReplayed(lsn, WAIT);
            node3.awaitReplayed(lsn, WAIT);
            // a fast stop sends the shutdown checkpoint to both standbys: they end at the same place
            primary.stop(StopMode.FAST);
            Await.until("both standbys to hold the primary's last record", WAIT, () ->
                    node2.query("SELECT pg_last_wal_receive_lsn()").equals(node3.query("SELECT pg_last_wal_receive_lsn()")));
            node3.stop(StopMode.FAST);
            node2.execute("SELECT pg_promote()");
            Await.until("node2 to accept writes", WAIT, () -> !node2.isInRecovery());
            node2.execute("INSERT INTO t SELECT generate_series(1001, 2000)");

            // node3 followed node2 onto timeline 2 and got its history file, and the first part of
            // timeline 2's first segment (a copy of timeline 1 up to the switch point) when node2 died
            node2.kill9();
            Path history = node2.dataDirectory().resolve("pg_wal/00000002.history");
            var fork = TimelineHistory.parse(Files.readString(history)).last().orElseThrow();
            assertThat(fork.parent()).isEqualTo(1);
            Path wal3 = node3.dataDirectory().resolve("pg_wal");
            UserPrincipal owner = Files.getOwner(node3.dataDirectory());
            Files.copy(history, wal3.resolve("00000002.history"), StandardCopyOption.REPLACE_EXISTING);
            Files.setOwner(wal3.resolve("00000002.history"), owner);
            long segmentSize = 16L * 1024 * 1024;
            long segment = fork.lsn() / segmentSize;
            Path parentFile = wal3.resolve(WalDirectory.segmentName(1, segment, segmentSize));
            Path cutShort = wal3.resolve(WalDirectory.segmentName(2, segment, segmentSize));
            assertThat(Files.size(parentFile)).isEqualTo(segmentSize);
            Files.copy(parentFile, cutShort, StandardCopyOption.REPLACE_EXISTING);
            long offset = fork.lsn() % segmentSize;
            long cut = Math.max(0, offset - offset % 8192 - 8192); // received up to a page before the switch point's
            try (RandomAccessFile f = new RandomAccessFile(cutShort.toFile(), "rw")) {
                f.seek(cut);
                f.write(new byte[(int) (segmentSize - cut)]);
            }
            Files.setOwner(cutShort, owner);

            PgControl control = new PgControl(pg.install().binDir(), node3.dataDirectory(), node3.host(), node3.port(),
                    "", "", new Jdbc("postgres", Optional.empty(), "postgres", "disable", ""),
                    new Replication("postgres", Optional.empty(), "disable", ""));
            control.start(Duration.ofSeconds(30));
            assertThat(node3.isInRecovery()).isTrue();
            assertThat(cutShort).doesNotExist();
            assertThat(cutShort.resolveSibling(cutShort.getFileName() + WalDirectory.SET_ASIDE_SUFFIX)).exists();

            node3.execute("SELECT pg_promote()");
            Await.until("node3 to accept writes", WAIT, () -> !node3.isInRecovery());
            assertThat(node3.query("SELECT count(*) FROM t")).isEqualTo("1000");
            assertThat(node3.query("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
                    .as("a timeline of its own, after the one node2 used").isEqualTo("00000003");
            node3.execute("INSERT INTO t VALUES (1001)");
        }
    }
}
