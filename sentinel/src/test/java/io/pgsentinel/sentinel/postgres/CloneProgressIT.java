package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.OsUser;
import io.pgsentinel.localcluster.PgCluster;
import io.pgsentinel.localcluster.PgNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What a cloning node shows as its progress ("rejoining: cloning 43% (...)") is what the source
 * server reports of that base backup: a real pg_basebackup, slowed down so that it can be watched.
 */
class CloneProgressIT {
    @Test
    void theProgressOfAClonesBaseBackupIsReadOnTheSource() throws Exception {
        try (PgCluster pg = PgCluster.builder().replicas(0).start()) {
            PgNode primary = pg.primary();
            primary.execute("CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 40000) g");
            Path target = KitRun.get().newDirectory("clone").resolve("data");
            OsUser.chownToServerUser(target.getParent());
            List<String> basebackup = List.of(pg.install().bin("pg_basebackup").toString(), "-d",
                    "host=" + primary.host() + " port=" + primary.port() + " user=postgres dbname=postgres application_name="
                            + Replication.cloneApplicationName("node9"),
                    "-D", target.toString(), "-X", "none", "-c", "fast", "--max-rate=2M", "--no-sync");
            Path out = target.resolveSibling("pg_basebackup.out");
            Process p = new ProcessBuilder(io.pgsentinel.localcluster.Command.as(OsUser.serverUser(), basebackup))
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                RemoteAdmin admin = new RemoteAdmin(new Jdbc("postgres", Optional.empty(), "postgres", "disable", ""));
                AtomicReference<RemoteAdmin.CloneProgress> seen = new AtomicReference<>();
                Await.until("the clone's progress, part way (pg_basebackup: " + out + ")", Duration.ofSeconds(30), () -> {
                    if (!p.isAlive()) {
                        throw new AssertionError("pg_basebackup ended: " + java.nio.file.Files.readString(out));
                    }
                    var now = admin.cloneProgress(primary.host(), primary.port(), Replication.cloneApplicationName("node9"),
                            Duration.ofSeconds(5));
                    now.ifPresent(seen::set);
                    return now.map(x -> x.streamed() > 0 && x.total() > x.streamed()).orElse(false);
                });
                assertThat(seen.get().describe()).matches("\\d{1,2}% \\(.+ of .+\\)");
                assertThat(admin.cloneProgress(primary.host(), primary.port(), Replication.cloneApplicationName("node8"),
                        Duration.ofSeconds(5))).as("another node's clone: none").isEmpty();
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
        }
    }
}
