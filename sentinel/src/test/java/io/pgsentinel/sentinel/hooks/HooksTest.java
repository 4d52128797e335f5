package io.pgsentinel.sentinel.hooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.sentinel.config.HooksConfig;
import io.pgsentinel.sentinel.model.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the hooks are told, and how they run: real shell commands, in order, bounded by the timeout. */
class HooksTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "[{index}] running {0}, probed {1}, published {2}, told before {3}: {4}")
    @CsvSource(nullValues = "null", value = {
            "false, PRIMARY, node1, primary, stopped",
            "false, REPLICA, node2, replica, stopped",
            "true, PRIMARY, node1, replica, primary",
            "true, PRIMARY, node2, primary, demoted",   // still writable, no longer the published primary
            "true, PRIMARY, node2, null, demoted",      // found so when the sentinel starts
            "true, PRIMARY, node2, stopped, demoted",   // started again by someone else after a fence
            "true, PRIMARY, node2, replica, null",      // promoted, not yet published: a candidate
            "true, PRIMARY, null, null, null",          // no topology known yet: not told
            "true, REPLICA, node2, primary, replica",
            "true, REPLICA, null, null, replica",
            "true, UNKNOWN, node1, primary, null",      // running, but did not answer: not told
    })
    void theRoleTold(boolean running, Role probed, String published, String previous, String expected) {
        assertThat(Hooks.role(running, probed, published, "node1", previous)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "/bin/hook|/bin/hook 'on_role_change' 'primary' 'main'",
            "/bin/hook {role} {node}|/bin/hook 'primary' 'node1'",
            "echo {old}->{new} at {epoch}|echo 'node2'->'node1' at '7'",
            "echo {unknown}|echo {unknown} 'on_role_change' 'primary' 'main'",
    })
    void placeholdersAreQuotedAndPatronisArgumentsAppendedWhenNoneIsNamed(String command, String expected) {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        values.put("action", "on_role_change");
        values.put("role", "primary");
        values.put("cluster", "main");
        values.put("node", "node1");
        values.put("epoch", "7");
        values.put("old", "node2");
        values.put("new", "node1");
        assertThat(Hooks.expand(command, values)).isEqualTo(expected);
    }

    @Test
    void aValueCannotBreakOutOfItsQuotes() {
        assertThat(Hooks.quote("a'b; rm -rf /")).isEqualTo("'a'\\''b; rm -rf /'");
    }

    @Test
    void changesRunInOrderWithTheirEnvironmentAndASlowHookIsKilledAtTheTimeout() throws Exception {
        Path out = dir.resolve("events");
        HooksConfig c = new HooksConfig();
        c.onStart = "echo start $PGSENTINEL_NODE >> " + out;
        c.onStop = "echo stop {node} >> " + out;
        c.onRoleChange = "echo role $PGSENTINEL_ROLE $PGSENTINEL_EPOCH >> " + out; // Patroni's arguments appended
        c.onFailover = "sleep 30";
        c.timeout = io.dropwizard.util.Duration.milliseconds(300);
        MetricRegistry registry = new MetricRegistry();
        Hooks hooks = new Hooks(c, "main", "node1", registry);
        hooks.observed(true, Role.REPLICA, "node2", 3);
        hooks.observed(true, Role.REPLICA, "node2", 3); // nothing changed: nothing run
        hooks.observed(true, Role.UNKNOWN, "node2", 3); // not answering: nothing told
        hooks.observed(true, Role.PRIMARY, "node1", 4);
        hooks.observed(false, Role.PRIMARY, "node1", 4);
        hooks.failoverPublished("node2", "node1", 4);
        hooks.observed(true, Role.REPLICA, "node3", 5);
        // the hooks run one at a time: the last two wait for the slow one, which sleeps 30 s unless killed
        Await.until("every hook to run", Duration.ofSeconds(10), () -> Files.exists(out)
                && Files.readAllLines(out).size() == 7);
        assertThat(Files.readAllLines(out)).containsExactly("start node1 on_start running main",
                "role replica 3 on_role_change replica main", "role primary 4 on_role_change primary main", "stop node1",
                "role stopped 4 on_role_change stopped main", "start node1 on_start running main",
                "role replica 5 on_role_change replica main");
        assertThat(registry.counter("pgsentinel.hooks.on_failover.failed").getCount()).isEqualTo(1);
        assertThat(registry.counter("pgsentinel.hooks.on_role_change.succeeded").getCount()).isEqualTo(4);
        hooks.stop();
    }
}
