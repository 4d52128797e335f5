package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Fault;
import io.pgsentinel.localcluster.Hosts;
import io.pgsentinel.localcluster.KitRun;
import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.PgNode;
import io.pgsentinel.shared.topology.Topology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's hooks on real hosts: the virtual IP example of docs/operations.md
 * (config/hooks/vip.sh as onRoleChange) moves with the primary across a failover, and a client
 * that knows only that address writes to the new primary; onStart, onStop and onFailover run
 * with the documented arguments.
 */
class HooksIT extends ClusterTest {
    private static final List<String> DB = List.of("db1", "db2", "db3");
    private Hosts hosts;

    @BeforeEach
    void hosts() {
        Assumptions.assumeTrue(Hosts.available(), Hosts.unavailableReason());
        hosts = Hosts.create("db1", "db2", "db3", "zk1");
    }

    @AfterEach
    void closeHosts() {
        stopCluster();
        cluster = null;
        sampler = null;
        if (hosts != null) {
            hosts.close();
        }
    }

    /** The hosts holding {@code address} on their eth0. */
    private List<String> holders(String address) {
        return DB.stream().filter(h -> Command.run(hosts.inHost(h, List.of("ip", "-4", "-o", "addr", "show", "dev",
                "eth0")), Duration.ofSeconds(10)).orThrow().output().contains(" " + address + "/")).toList();
    }

    /** Through the address: which node's server answered, and whether it took a write; null if none did. */
    private String writeThrough(String address, PgNode[] nodes, int value) {
        String url = "jdbc:postgresql://" + hosts.reach(address, 5432) + "/postgres?user=postgres&connectTimeout=1"
                + "&loginTimeout=1&socketTimeout=2&ApplicationName=vip-client";
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            String dir;
            try (ResultSet rs = s.executeQuery("SELECT current_setting('data_directory')")) {
                rs.next();
                dir = rs.getString(1);
            }
            s.execute("INSERT INTO through_vip VALUES (" + value + ")");
            for (PgNode n : nodes) {
                if (n.dataDirectory().toRealPath().equals(Path.of(dir).toRealPath())) {
                    return n.name();
                }
            }
            return dir;
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void theVirtualIpFollowsThePrimaryAndTheHooksRunWithTheirArguments() throws Exception {
        String vip = hosts.address("db1").replaceAll("\\.\\d+$", ".200");
        Path script = Path.of("..", "config", "hooks", "vip.sh").toAbsolutePath().normalize();
        Path events = KitRun.get().newDirectory("hooks").resolve("events.log");
        Files.writeString(events, "");
        String log = " >> " + events;
        startCluster("hooks:\n"
                + "  onRoleChange: sh " + script + " " + vip + "/24 eth0\n"
                + "  onStart: echo {action} {node}" + log + "\n"
                + "  onStop: echo {action} {node}" + log + "\n"
                + "  onFailover: echo {action} {old} {new} {epoch}" + log + "\n"
                + "  timeout: 10s\n");
        PgNode[] nodes = cluster.pg().nodes().toArray(PgNode[]::new);
        Await.until("the virtual IP on db1 only", SentinelCluster.WAIT, () -> holders(vip).equals(List.of("db1")));
        cluster.pg().primary().execute("CREATE TABLE through_vip (v int)");
        assertThat(writeThrough(vip, nodes, 1)).isEqualTo("db1");

        // db1's host is cut from its peers and ZooKeeper: its sentinel fences it, another is promoted
        Fault cut = hosts.partition(List.of("db1"), List.of("db2", "db3", "zk1"));
        Topology t = cluster.awaitTopology("a new primary", x -> !x.primary().id().equals("db1"));
        String next = t.primary().id();
        AtomicReference<String> reached = new AtomicReference<>();
        Await.until("a write through the virtual IP to commit on " + next, SentinelCluster.WAIT, () -> {
            reached.set(writeThrough(vip, nodes, 2));
            return next.equals(reached.get());
        });
        Await.until("the virtual IP on " + next + " only", SentinelCluster.WAIT,
                () -> holders(vip).equals(List.of(next)));
        cut.heal();
        cluster.awaitTopology("db1 back as a streaming replica", x -> x.replica("db1")
                .map(r -> r.state().json().equals("streaming")).orElse(false));
        assertThat(holders(vip)).containsExactly(next);
        sampler.assertNeverTwoWritable();

        List<String> lines = Files.readAllLines(events);
        assertThat(lines).contains("on_start db1", "on_start db2", "on_start db3", "on_stop db1",
                "on_failover db1 " + next + " 2");
        // the rejoin restarts db1 as a replica: started again after its stop
        assertThat(lines.lastIndexOf("on_start db1")).isGreaterThan(lines.indexOf("on_stop db1"));
        assertThat(cluster.sentinel("db1").log()).contains("hook on_role_change (stopped) exited 0")
                .contains(vip + " removed from eth0 (stopped)");
        // promoted before it was published, the new primary is told "primary" once, never "demoted"
        assertThat(cluster.sentinel(next).log()).contains("hook on_role_change (primary) exited 0")
                .doesNotContain("hook on_role_change (demoted)");
    }

    private void startCluster(String hooksYaml) {
        cluster = SentinelCluster.onHosts(hosts, DB, List.of("zk1"), y -> y + hooksYaml);
        cluster.awaitTopology("a healthy topology", t -> t.primary().id().equals("db1")
                && states(t).equals("db2=streaming,db3=streaming"));
        sampler = new WriteSampler(cluster);
    }
}
