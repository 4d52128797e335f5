package io.pgsentinel.shared.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The jdbc:pgsentinel URL: what is parsed from it, and what is refused with which reason. */
class DriverUrlTest {

    @Test
    void theZooKeeperFormWithItsOwnParametersAndPgJdbcOnes() throws Exception {
        DriverUrl u = DriverUrl.parse("jdbc:pgsentinel://zk1:2181,zk2:2181,zk3:2181/revenue-engine/orders"
                + "?role=replica&maxLagBytes=1024&zkRoot=/pgs&user=app&password=s%26cret&sslmode=require", null);
        assertThat(u.overHttp()).isFalse();
        assertThat(u.hosts()).containsExactly("zk1:2181", "zk2:2181", "zk3:2181");
        assertThat(u.cluster()).isEqualTo("revenue-engine");
        assertThat(u.database()).isEqualTo("orders");
        assertThat(u.role()).isEqualTo(DriverUrl.Role.REPLICA);
        assertThat(u.maxLagBytes()).isEqualTo(1024);
        assertThat(u.zkRoot()).isEqualTo("/pgs");
        assertThat(u.pgProperties()).containsEntry("user", "app").containsEntry("password", "s&cret")
                .containsEntry("sslmode", "require").doesNotContainKeys("role", "maxLagBytes", "zkRoot", "primaryWait");
        assertThat(u.sourceKey()).doesNotContain("cret").isEqualTo("zk|/pgs||zk1:2181,zk2:2181,zk3:2181|revenue-engine");
    }

    @Test
    void theZooKeeperPasswordSeparatesSourcesWithoutShowingAnywhere() throws Exception {
        DriverUrl right = DriverUrl.parse("jdbc:pgsentinel://zk1/c/db?zkUser=reader&zkPassword=right-one&password=db-pw", null);
        DriverUrl wrong = DriverUrl.parse("jdbc:pgsentinel://zk1/c/db?zkUser=reader&zkPassword=wrong-one", null);
        assertThat(right.sourceKey()).isNotEqualTo(wrong.sourceKey()).doesNotContain("right-one");
        assertThat(right.toString()).doesNotContain("right-one").doesNotContain("db-pw").contains("zk1");
    }

    @Test
    void theHttpFormAndTheDefaults() throws Exception {
        DriverUrl u = DriverUrl.parse("jdbc:pgsentinel:http://s1:8008,s2:8008/revenue-engine/orders", null);
        assertThat(u.overHttp()).isTrue();
        assertThat(u.hosts()).containsExactly("http://s1:8008", "http://s2:8008");
        assertThat(u.role()).isEqualTo(DriverUrl.Role.PRIMARY);
        assertThat(u.maxLagBytes()).isEqualTo(16L << 20);
        assertThat(u.topologyTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(u.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(u.primaryWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(DriverUrl.parse("jdbc:pgsentinel:https://s1:8443/c/db", null).hosts()).containsExactly("https://s1:8443");
    }

    @Test
    void theUrlOverridesTheDriversProperties() throws Exception {
        Properties info = new Properties();
        info.setProperty("user", "from-info");
        info.setProperty("password", "secret");
        info.setProperty("role", "any");
        DriverUrl u = DriverUrl.parse("jdbc:pgsentinel://zk1/c/db?user=from-url", info);
        assertThat(u.pgProperties()).containsEntry("user", "from-url").containsEntry("password", "secret");
        assertThat(u.role()).isEqualTo(DriverUrl.Role.ANY);
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("jdbc:postgresql://h/db", "must start with jdbc:pgsentinel:"),
                Arguments.of("jdbc:pgsentinel:zk1/c/db", "comes //zk1:2181"),
                Arguments.of("jdbc:pgsentinel://zk1/c", "CLUSTER/DATABASE"),
                Arguments.of("jdbc:pgsentinel:///c/db", "CLUSTER/DATABASE"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db/x", "CLUSTER/DATABASE"),
                Arguments.of("jdbc:pgsentinel://zk1/bad%2Fname/db", "the cluster name"),
                Arguments.of("jdbc:pgsentinel://zk1/c/", "the database name is missing"),
                Arguments.of("jdbc:pgsentinel://zk1,,zk2/c/db", "malformed host"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?role=leader", "role must be primary, replica or any"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?maxLagBytes=lots", "maxLagBytes must be a whole number"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?maxLagBytes=-1", "maxLagBytes must be between"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?topologyTimeout=0", "topologyTimeout must be between"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?zkRoot=pgs", "zkRoot must be an absolute"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?primaryWait=-1", "primaryWait must be between"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?zkUser=reader", "zkUser and zkPassword go together"),
                Arguments.of("jdbc:pgsentinel://zk1/c/db?password=%zz", "malformed %-escape"),
                Arguments.of("jdbc:pgsentinel:http://admin:pw@s1:8008/c/db", "no credentials in a sentinel address"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void aBadUrlIsRefusedSayingWhyAndNeverRepeatingIt(String url, String why) {
        String withSecret = url + (url.contains("?") ? "&" : "?") + "password=topsecret";
        for (String u : List.of(url, withSecret)) {
            assertThatThrownBy(() -> DriverUrl.parse(u, null)).isInstanceOf(SQLException.class)
                    .hasMessageStartingWith("invalid jdbc:pgsentinel URL: ").hasMessageContaining(why)
                    .hasMessageNotContaining("topsecret")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"));
        }
    }
}
