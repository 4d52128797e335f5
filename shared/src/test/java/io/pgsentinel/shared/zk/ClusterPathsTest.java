package io.pgsentinel.shared.zk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClusterPathsTest {
    private final ClusterPaths paths = new ClusterPaths("/pg-sentinel", "revenue-engine");

    @Test
    void everyPathOfTheContractLayout() {
        assertThat(paths.topology()).isEqualTo("/pg-sentinel/revenue-engine/topology");
        assertThat(paths.history()).isEqualTo("/pg-sentinel/revenue-engine/history");
        assertThat(paths.node("node1")).isEqualTo("/pg-sentinel/revenue-engine/nodes/node1");
        assertThat(paths.member("node1")).isEqualTo("/pg-sentinel/revenue-engine/members/node1");
        assertThat(paths.vote("node1")).isEqualTo("/pg-sentinel/revenue-engine/votes/node1");
        assertThat(paths.leader()).isEqualTo("/pg-sentinel/revenue-engine/leader");
        assertThat(paths.fence("node1")).isEqualTo("/pg-sentinel/revenue-engine/fence/node1");
        assertThat(paths.maintenance()).isEqualTo("/pg-sentinel/revenue-engine/maintenance");
        assertThat(paths.switchover()).isEqualTo("/pg-sentinel/revenue-engine/switchover");
        assertThat(new ClusterPaths("/a/b", "c").topology()).isEqualTo("/a/b/c/topology");
        assertThat(ClusterPaths.lastSegment(paths.vote("n-3"))).isEqualTo("n-3");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''            | must not be empty",
            "a/b           | must not contain '/'",
            ".             | may hold only",
            "..            | may hold only",
            "-leading      | may hold only",
            "has space     | may hold only",
            "zoo\u00e9     | may hold only",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | at most 63 characters"})
    void invalidNamesAreRefusedWithTheReason(String name, String reason) {
        assertThatThrownBy(() -> new ClusterPaths("/pg-sentinel", name))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cluster name").hasMessageContaining(reason);
        assertThatThrownBy(() -> paths.member(name))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("node id").hasMessageContaining(reason);
    }

    @ParameterizedTest
    @CsvSource({"pg-sentinel", "/", "/pg-sentinel/", "//x", "/a//b"})
    void invalidRootsAreRefused(String root) {
        assertThatThrownBy(() -> new ClusterPaths(root, "c")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("zookeeper root");
    }
}
