package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** primary_conninfo never holds the password: it names a 0600 passfile next to the data directory. */
class ReplicationTest {
    @TempDir
    Path dir;

    @Test
    void theConninfoNamesAPassfileAndNeverThePassword() throws Exception {
        Path data = Files.createDirectories(dir.resolve("main"));
        Replication r = new Replication("replicator", Optional.of("s3cr:et"), "require", "");
        String conninfo = r.conninfo(new PgControl.Upstream("10.0.0.12", 5432), "node1", data);
        assertThat(conninfo).contains("host=10.0.0.12 port=5432 user=replicator application_name=node1 sslmode=require")
                .contains("passfile=" + dir.resolve(".pg-sentinel-replication.pgpass")).doesNotContain("s3cr");
        Path passfile = dir.resolve(".pg-sentinel-replication.pgpass");
        assertThat(Files.readString(passfile)).isEqualTo("*:*:*:replicator:s3cr\\:et\n");
        assertThat(Files.getPosixFilePermissions(passfile)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        assertThat(r.sourceServer(new PgControl.Upstream("h", 1))).doesNotContain("s3cr");
        assertThat(r.environment(data)).containsEntry("PGPASSFILE", passfile.toString());
        assertThat(Replication.slotName("DB-1.east")).isEqualTo("db_1_east");
    }

    @Test
    void withoutAPasswordThereIsNoPassfile() {
        Replication r = new Replication("postgres", Optional.empty(), "disable", "");
        assertThat(r.conninfo(new PgControl.Upstream("h", 5432), "node2", dir.resolve("main"))).doesNotContain("passfile");
        assertThat(r.environment(dir.resolve("main"))).isEmpty();
    }
}
