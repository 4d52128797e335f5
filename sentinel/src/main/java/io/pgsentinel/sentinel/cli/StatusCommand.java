package io.pgsentinel.sentinel.cli;

import io.dropwizard.core.cli.ConfiguredCommand;
import io.dropwizard.core.setup.Bootstrap;
import io.pgsentinel.sentinel.config.SentinelConfiguration;
import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.status.ClusterStatus;
import io.pgsentinel.shared.json.Fields;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.sourceforge.argparse4j.impl.Arguments;
import net.sourceforge.argparse4j.inf.Namespace;
import net.sourceforge.argparse4j.inf.Subparser;

/**
 * {@code status config.yml [--json]}: the members as a table, like {@code patronictl list}, and the
 * leader's latest decision with its reason. Exit codes: 0 a running primary and every sentinel
 * up; 3 degraded (no running primary, a member down, a sentinel down); 2 ZooKeeper unreachable;
 * 1 a bad configuration or usage.
 */
public final class StatusCommand extends ConfiguredCommand<SentinelConfiguration> {
    static final int EXIT_DEGRADED = 3;

    public StatusCommand() {
        super("status", "Show the cluster's members, roles, lag, leader and latest decision");
    }

    @Override
    public void configure(Subparser subparser) {
        super.configure(subparser);
        subparser.addArgument("--json").action(Arguments.storeTrue()).help("print the /cluster document as JSON");
    }

    @Override
    protected void run(Bootstrap<SentinelConfiguration> bootstrap, Namespace namespace, SentinelConfiguration c)
            throws Exception {
        CliMain.exit(() -> {
            try (ClusterReader reader = ClusterReader.open(c, Duration.ofSeconds(5))) {
                ClusterStatus.Decision decision = reader.decision();
                String leader = decision == null ? "" : decision.leader();
                List<ClusterStatus.Member> members = ClusterStatus.members(reader.cache);
                if (namespace.getBoolean("json")) {
                    System.out.println(Fields.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(
                            ClusterStatus.document(c.cluster, leader, reader.cache, decision)));
                } else {
                    long epoch = reader.cache.topology().map(t -> t.topology().epoch()).orElse(0L);
                    print(System.out, c.cluster, epoch, reader.cache.maintenance(), leader, members, decision);
                }
                boolean healthy = members.stream().anyMatch(m -> m.role().equals("primary") && m.state().equals("running"))
                        && members.stream().allMatch(m -> m.sentinelUp() && !m.state().equals("down"));
                return healthy ? 0 : EXIT_DEGRADED;
            }
        });
    }

    /** The member's state, with what its sentinel is doing when it rejoins ("rejoining: cloning 43% (...)"). */
    static String stateShown(ClusterStatus.Member m) {
        String doing = m.sentinelState();
        String state = doing != null && doing.startsWith("rejoining: ") ? doing : m.state();
        return m.pendingRestart() ? state + ", restart pending" : state;
    }

    static void print(PrintStream out, String cluster, long epoch, boolean paused, String leader,
                      List<ClusterStatus.Member> members, ClusterStatus.Decision decision) {
        out.println("Cluster: " + cluster + " (epoch " + epoch + (paused ? ", PAUSED: no automatic failover" : "") + ")");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Member", "Host", "Role", "State", "TL", "Flush/Recv LSN", "Replay LSN", "Lag", "Sentinel", "Tags"});
        for (ClusterStatus.Member m : members) {
            rows.add(new String[] {m.id() + (m.id().equals(leader) ? " *" : ""), m.host() + ":" + m.port(), m.role(),
                    stateShown(m), m.timeline() == null ? "" : m.timeline().toString(),
                    m.role().equals("primary") ? nz(m.flushLsn()) : nz(m.receiveLsn()), nz(m.replayLsn()),
                    m.lagBytes() == null ? "" : Lsn.bytes(m.lagBytes()), m.sentinelUp() ? "up" : "DOWN", m.tagsShown()});
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        StringBuilder line = new StringBuilder("+");
        for (int w : widths) {
            line.append("-".repeat(w + 2)).append('+');
        }
        out.println(line);
        for (int i = 0; i < rows.size(); i++) {
            StringBuilder b = new StringBuilder("|");
            for (int j = 0; j < widths.length; j++) {
                b.append(' ').append(String.format("%-" + widths[j] + "s", rows.get(i)[j])).append(" |");
            }
            out.println(b);
            if (i == 0) {
                out.println(line);
            }
        }
        out.println(line);
        out.println("* leader sentinel");
        if (decision != null) {
            out.println("Decision (" + decision.leader() + ", " + decision.at() + "): " + decision.summary() + ": "
                    + decision.reason());
        } else {
            out.println("Decision: none yet");
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
