package io.pgsentinel.sentinel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsentinel.shared.json.DocumentException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The cluster's settings: each value checked, the timing rules against the cluster, the diff and the stored form. */
class ClusterSettingsTest {
    /** A 3-node cluster with the default timings: 500 ms checks, 1 s check timeout, a 4 s session. */
    static final ClusterSettings.Limits THREE_NODES = new ClusterSettings.Limits(500, 1000, 4000,
            Set.of("node1", "node2", "node3"));

    static ClusterSettings defaults() {
        SentinelConfiguration c = new SentinelConfiguration();
        return ClusterSettings.seed(c);
    }

    @Test
    void theSeedIsTheYamlInCanonicalForm() {
        assertThat(defaults().flat()).containsEntry("failureDetection.downAfter", "3s")
                .containsEntry("failureDetection.quorum", "majority").containsEntry("failover.minInterval", "1min")
                .containsEntry("failover.primaryStartTimeout", "30s")
                .containsEntry("replication.maxLagOnFailover", "1MB").containsEntry("replication.synchronous", "off")
                .containsEntry("replication.synchronousCount", "1")
                .containsEntry("replication.synchronousFallback", "block")
                .containsEntry("replication.memberSlotsTtl", "30min");
    }

    @Test
    void settingsStoredBeforeAKeyExistedReadWithItsDefault() throws Exception {
        var stored = defaults().toTree();
        ((com.fasterxml.jackson.databind.node.ObjectNode) stored.path("replication")).remove("memberSlotsTtl");
        ClusterSettings read = ClusterSettings.decode(stored.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(read.memberSlotsTtlMillis()).isEqualTo(30 * 60_000L);
        assertThat(read).isEqualTo(defaults());
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                Arguments.of("failureDetection.downAfter", "5s", "5s"),
                Arguments.of("failureDetection.downAfter", "2500ms", "2500ms"),
                Arguments.of("failureDetection.downAfter", "5000 milliseconds", "5s"),
                Arguments.of("failureDetection.quorum", "2", "2"),
                Arguments.of("failover.minInterval", "0s", "0ms"),
                Arguments.of("replication.maxLagOnFailover", "16384B", "16384B"),
                Arguments.of("replication.maxLagOnFailover", "16MB", "16MB"),
                Arguments.of("replication.synchronous", "quorum", "quorum"),
                Arguments.of("replication.synchronous", "false", "off"),
                Arguments.of("replication.synchronousCount", "2", "2"),
                Arguments.of("postgresql.parameters.work_mem", "8MB", "8MB"),
                Arguments.of("postgresql.parameters.pg_stat_statements.track", "all", "all"),
                Arguments.of("slots.backup_tool", "physical", "physical"),
                Arguments.of("replication.memberSlotsTtl", "10min", "10min"),
                Arguments.of("replication.memberSlotsTtl", "0s", "0ms"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("accepted")
    void aGoodValueIsTakenInCanonicalForm(String key, String value, String stored) throws Exception {
        ClusterSettings next = defaults().with(Map.of(key, value), Set.of(), THREE_NODES);
        assertThat(next.flat()).containsEntry(key, stored);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("failureDetection.downAfter", "soon", "must be a duration"),
                Arguments.of("failureDetection.downAfter", "50ms", "at least 100ms"),
                Arguments.of("failureDetection.downAfter", "400ms", "longer than failureDetection.checkInterval"),
                Arguments.of("failureDetection.downAfter", "900ms", "not be shorter than failureDetection.checkTimeout"),
                Arguments.of("failureDetection.downAfter", "1500ms", "half the negotiated ZooKeeper session timeout"),
                Arguments.of("failureDetection.quorum", "most", "'majority' or a whole number"),
                Arguments.of("failureDetection.quorum", "4", "more than the 3 registered nodes"),
                Arguments.of("replication.maxLagOnFailover", "lots", "must be a size"),
                Arguments.of("replication.synchronous", "on", "must be off or quorum"),
                Arguments.of("replication.synchronousCount", "0", "from 1 to 99"),
                Arguments.of("replication.memberSlotsTtl", "never", "must be a duration"),
                Arguments.of("replication.synchronousFallback", "maybe", "must be block or async"),
                Arguments.of("failureDetection.checkInterval", "1s", "unknown setting"),
                Arguments.of("postgresql.parameters.primary_conninfo", "host=x", "the sentinel points each replica"),
                Arguments.of("postgresql.parameters.synchronous_standby_names", "*", "the sentinel keeps it"),
                Arguments.of("postgresql.parameters.Work-Mem", "8MB", "not a PostgreSQL parameter name"),
                Arguments.of("postgresql.parameters.work_mem", "8MB\nfsync = off", "one line"),
                Arguments.of("slots.backup", "logical", "must be physical"),
                Arguments.of("slots.Backup-1", "physical", "a slot name is"),
                Arguments.of("slots.node2", "physical", "the replication slot of member node2"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("refused")
    void aBadValueIsRefusedNamingItsKey(String key, String value, String why) {
        assertThatThrownBy(() -> defaults().with(Map.of(key, value), Set.of(), THREE_NODES))
                .isInstanceOf(ClusterSettings.SettingsException.class)
                .hasMessageStartingWith(key + ": ").hasMessageContaining(why);
    }

    @Test
    void synchronousCountMustLeaveAStandbyToWaitFor() throws Exception {
        ClusterSettings sync = defaults().with(Map.of("replication.synchronous", "quorum"), Set.of(), THREE_NODES);
        assertThat(sync.with(Map.of("replication.synchronousCount", "2"), Set.of(), THREE_NODES).synchronousCount())
                .isEqualTo(2);
        assertThatThrownBy(() -> sync.with(Map.of("replication.synchronousCount", "3"), Set.of(), THREE_NODES))
                .hasMessageContaining("more than the 2 standbys");
    }

    @Test
    void onlyParametersCanBeRemoved() throws Exception {
        ClusterSettings withParam = defaults().with(Map.of("postgresql.parameters.work_mem", "8MB"), Set.of(),
                THREE_NODES);
        assertThat(withParam.with(Map.of(), Set.of("postgresql.parameters.work_mem"), THREE_NODES).parameters())
                .isEmpty();
        assertThatThrownBy(() -> withParam.with(Map.of(), Set.of("failureDetection.downAfter"), THREE_NODES))
                .hasMessageStartingWith("failureDetection.downAfter: cannot be removed");
    }

    @Test
    void theDiffNamesEachChangedKey() throws Exception {
        ClusterSettings before = defaults().with(Map.of("postgresql.parameters.work_mem", "8MB"), Set.of(), THREE_NODES);
        ClusterSettings after = before.with(Map.of("failureDetection.downAfter", "5s",
                "postgresql.parameters.max_connections", "200"), Set.of("postgresql.parameters.work_mem"), THREE_NODES);
        assertThat(before.changesTo(after)).containsExactly(
                new ClusterSettings.Change("failureDetection.downAfter", "3s", "5s"),
                new ClusterSettings.Change("postgresql.parameters.max_connections", null, "200"),
                new ClusterSettings.Change("postgresql.parameters.work_mem", "8MB", null));
        assertThat(after.changesTo(after)).isEmpty();
    }

    @Test
    void theStoredDocumentIsNestedAndReadsBack() throws Exception {
        ClusterSettings s = defaults().with(Map.of("postgresql.parameters.work_mem", "8MB"), Set.of(), THREE_NODES);
        assertThat(s.toTree().path("failureDetection").path("downAfter").asText()).isEqualTo("3s");
        assertThat(s.toTree().path("postgresql").path("parameters").path("work_mem").asText()).isEqualTo("8MB");
        assertThat(ClusterSettings.decode(s.encode())).isEqualTo(s);
        assertThat(List.of(s.downAfterMillis(), (long) s.fixedQuorum(), s.minIntervalMillis(), s.maxLagOnFailoverBytes()))
                .isEqualTo(List.of(3000L, 0L, 60000L, 1000000L));
    }

    @Test
    void aMalformedStoredDocumentIsRejectedNamingTheField() {
        assertThatThrownBy(() -> ClusterSettings.decode("{\"failureDetection\": {\"downAfter\": \"x\"}}".getBytes()))
                .isInstanceOf(DocumentException.class).hasMessageContaining("failureDetection.downAfter");
        assertThatThrownBy(() -> ClusterSettings.decode("[1]".getBytes())).isInstanceOf(DocumentException.class);
    }
}
