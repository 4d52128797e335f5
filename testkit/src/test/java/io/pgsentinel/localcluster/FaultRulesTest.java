package io.pgsentinel.localcluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultRulesTest {

    @Test
    void aRingOfFiveLetsEachHostReachItsTwoNeighboursOnly() {
        Map<String, Set<String>> far = FaultRules.ringUnreachable(List.of("n1", "n2", "n3", "n4", "n5"));
        assertThat(far.get("n1")).containsExactlyInAnyOrder("n3", "n4");
        assertThat(far.get("n3")).containsExactlyInAnyOrder("n1", "n5");
        assertThat(far.get("n5")).containsExactlyInAnyOrder("n2", "n3");
    }

    @Test
    void everyRingGivesEachHostADifferentMajorityWithSymmetricCuts() {
        for (int n = 4; n <= 9; n++) {
            List<String> ring = new java.util.ArrayList<>();
            for (int i = 1; i <= n; i++) {
                ring.add("n" + i);
            }
            Map<String, Set<String>> far = FaultRules.ringUnreachable(ring);
            Set<Set<String>> majorities = new HashSet<>();
            for (String host : ring) {
                Set<String> seen = new HashSet<>(ring);
                seen.removeAll(far.get(host));
                assertThat(seen).as(n + " hosts: " + host + " sees").hasSizeGreaterThanOrEqualTo(n / 2 + 1).contains(host);
                majorities.add(seen);
                for (String other : far.get(host)) {
                    assertThat(far.get(other)).as("cuts are symmetric").contains(host);
                }
            }
            assertThat(majorities).as(n + " hosts: different majorities").hasSize(n);
        }
    }

    @Test
    void fewerThanFourHostsHaveNoRing() {
        assertThatThrownBy(() -> FaultRules.ringUnreachable(List.of("a", "b", "c"))).hasMessageContaining("at least 4");
        assertThatThrownBy(() -> FaultRules.ringUnreachable(List.of("a", "b", "c", "a"))).hasMessageContaining("twice");
    }

    @Test
    void lossRulesUseAPlainDropAtOneHundredPercent() {
        assertThat(FaultRules.lossyFrom("10.231.0.11", 30))
                .isEqualTo("iifname \"eth0\" ip saddr 10.231.0.11 numgen random mod 100 < 30 drop");
        assertThat(FaultRules.lossyFrom("10.231.0.11", 100)).isEqualTo("iifname \"eth0\" ip saddr 10.231.0.11 drop");
        assertThatThrownBy(() -> FaultRules.lossyFrom("10.231.0.11", 0)).hasMessageContaining("1..100");
    }

    @Test
    void theTestNetworkAvoidsRangesTheMachineRoutes() {
        assertThat(TestNetwork.choose(List.of("default via 192.0.2.1 dev eth0", "192.0.2.0/24 dev eth0 proto kernel"))
                .cidr()).isEqualTo("10.231.0.0/24");
        assertThat(TestNetwork.choose(List.of("10.231.0.0/16 dev eth1")).cidr()).isEqualTo("10.232.0.0/24");
        assertThat(TestNetwork.choose(List.of("local 10.231.0.5 dev lo table local")).cidr()).isEqualTo("10.232.0.0/24");
        assertThatThrownBy(() -> TestNetwork.choose(List.of("10.0.0.0/8 dev eth1"))).hasMessageContaining("overlaps");
    }
}
