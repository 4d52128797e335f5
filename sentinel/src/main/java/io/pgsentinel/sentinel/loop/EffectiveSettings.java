package io.pgsentinel.sentinel.loop;

import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.decision.Policy;
import io.pgsentinel.sentinel.zk.ClusterCache;
import io.pgsentinel.sentinel.zk.SettingsStore;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide settings this sentinel acts on: the cluster's node in ZooKeeper once it exists
 * (it wins over this sentinel's YAML for its keys), this sentinel's YAML until then. The leader
 * creates the node from its YAML when the cluster has none. Every new version is logged with its
 * changes; a YAML that disagrees with the cluster is named once.
 */
public final class EffectiveSettings {
    private static final Logger LOG = LoggerFactory.getLogger(EffectiveSettings.class);
    /** Lag-only changes of the topology are published at most this often. */
    static final long LAG_PUBLISH_INTERVAL_MILLIS = 5000;

    private final String self;
    private final ClusterSettings seed;
    private final ClusterCache cache;
    private final SettingsStore store;
    private int seenVersion = -1;
    private ClusterSettings seen;
    private String problemLogged = "";

    EffectiveSettings(String self, ClusterSettings seed, ClusterCache cache, SettingsStore store) {
        this.self = self;
        this.seed = seed;
        this.cache = cache;
        this.store = store;
    }

    /** The settings in force: the cluster's, or this sentinel's YAML while the cluster has none. */
    public ClusterSettings current() {
        return cache.settings().map(SettingsStore.Versioned::settings).orElse(seed);
    }

    public Policy policy() {
        ClusterSettings s = current();
        return new Policy(s.downAfterMillis(), s.fixedQuorum(), s.maxLagOnFailoverBytes(), LAG_PUBLISH_INTERVAL_MILLIS,
                s.minIntervalMillis(), s.primaryStartTimeoutMillis());
    }

    /** Once per cycle on the loop thread: log a new version; the leader seeds a cluster that has none. */
    void cycle(boolean leading) {
        var read = cache.settings().orElse(null);
        if (read == null) {
            if (leading && cache.isInitialized() && cache.settingsProblem().isEmpty()) {
                try {
                    if (store.createIfAbsent(seed, self)) {
                        LOG.info("wrote the cluster's settings (version 0) from this sentinel's configuration: {}", seed.flat());
                    }
                } catch (Exception e) {
                    LOG.warn("could not create the cluster's settings: {}", e.toString());
                }
            }
        } else if (read.version() != seenVersion) {
            if (seen == null) {
                LOG.info("cluster settings version {} in force", read.version());
                List<ClusterSettings.Change> differ = seed.changesTo(read.settings()).stream()
                        .filter(c -> c.from() != null && c.to() != null).toList();
                for (ClusterSettings.Change c : differ) {
                    LOG.warn("{}: this sentinel's configuration says {}, the cluster's setting {} applies (change it "
                            + "with pg-sentinel edit-config)", c.key(), c.from(), c.to());
                }
            } else {
                LOG.info("cluster settings version {}: {}", read.version(), seen.changesTo(read.settings()));
            }
            seen = read.settings();
            seenVersion = read.version();
        }
        String problem = cache.settingsProblem();
        if (!problem.equals(problemLogged)) {
            if (!problem.isEmpty()) {
                LOG.warn("{}", problem);
            }
            problemLogged = problem;
        }
    }
}
