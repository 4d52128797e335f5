package io.pgsentinel.sentinel.zk;

import io.dropwizard.lifecycle.Managed;
import io.pgsentinel.sentinel.config.ClusterSettings;
import io.pgsentinel.sentinel.decision.VoteSeen;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.ModelCodec;
import io.pgsentinel.sentinel.model.RegisteredNode;
import io.pgsentinel.sentinel.model.Vote;
import io.pgsentinel.sentinel.time.MonotonicClock;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import io.pgsentinel.shared.zk.ClusterPaths;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This sentinel's copy of the cluster's ZooKeeper subtree (one recursive Curator cache),
 * parsed as nodes change. A node that does not parse is logged once per version and ignored;
 * the last good value of a document is not kept for members and votes (a broken report is no
 * report), but is kept for the topology, whose version is tracked for compare-and-set writes.
 */
public final class ClusterCache implements Managed {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterCache.class);

    /** The published topology as last read, with the node version it had. */
    public record VersionedTopology(Topology topology, int version, byte[] raw) {
    }

    private final ClusterPaths paths;
    private final MonotonicClock clock;
    private final CuratorCache cache;
    private final Map<String, RegisteredNode> nodes = new ConcurrentHashMap<>();
    private final Map<String, MemberReport> members = new ConcurrentHashMap<>();
    private final Map<String, VoteSeen> votes = new ConcurrentHashMap<>();
    private final Map<String, byte[]> documents = new ConcurrentHashMap<>();
    private final Map<String, Long> heartbeats = new ConcurrentHashMap<>();
    private final CountDownLatch initialized = new CountDownLatch(1);
    private volatile VersionedTopology topology;
    private volatile SettingsStore.Versioned settings;
    private volatile String settingsProblem = "";
    private volatile String topologyProblem = "";
    private volatile boolean maintenance;
    private volatile long rejected;

    private final java.util.List<java.util.function.Consumer<VersionedTopology>> topologyListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Called (on Curator's thread: keep it short) with every topology read from ZooKeeper that is valid. */
    public void addTopologyListener(java.util.function.Consumer<VersionedTopology> listener) {
        topologyListeners.add(listener);
    }

    public ClusterCache(ZkSession session, MonotonicClock clock) {
        this.paths = session.paths();
        this.clock = clock;
        this.cache = CuratorCache.build(session.client(), paths.base());
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, now) -> changed(now))
                .forDeletes(this::deleted)
                .forInitialized(initialized::countDown)
                .build());
    }

    @Override
    public void start() {
        cache.start();
    }

    /** Waits (bounded) until the first full read: a restarting sentinel reads ZooKeeper before it acts. */
    public boolean awaitInitialized(long millis) throws InterruptedException {
        return initialized.await(millis, TimeUnit.MILLISECONDS);
    }

    public boolean isInitialized() {
        return initialized.getCount() == 0;
    }

    @Override
    public void stop() {
        cache.close();
    }

    private void changed(ChildData data) {
        String relative = relative(data.getPath());
        if (relative == null || data.getData() == null) {
            return;
        }
        byte[] bytes = data.getData();
        try {
            if (relative.equals("topology")) {
                topology = new VersionedTopology(TopologyCodec.decode(bytes), data.getStat().getVersion(), bytes);
                topologyProblem = "";
                for (java.util.function.Consumer<VersionedTopology> l : topologyListeners) {
                    try {
                        l.accept(topology);
                    } catch (RuntimeException e) {
                        LOG.warn("a topology listener failed", e);
                    }
                }
            } else if (relative.equals("config")) {
                settings = new SettingsStore.Versioned(ClusterSettings.decode(bytes), data.getStat().getVersion());
                settingsProblem = "";
            } else if (relative.equals("maintenance")) {
                maintenance = true;
            } else if (relative.startsWith("nodes/")) {
                RegisteredNode n = ModelCodec.registeredNode(bytes);
                requireNamedAfterPath(n.id(), relative);
                nodes.put(n.id(), n);
            } else if (relative.startsWith("members/")) {
                MemberReport r = ModelCodec.memberReport(bytes);
                requireNamedAfterPath(r.id(), relative);
                members.put(r.id(), r);
            } else if (relative.startsWith("votes/")) {
                Vote v = ModelCodec.vote(bytes);
                requireNamedAfterPath(v.voter(), relative);
                votes.put(v.voter(), new VoteSeen(v, clock.nowMillis()));
            } else if (relative.startsWith("reinit/") || relative.startsWith("remove/") || relative.startsWith("restart/")
                    || relative.startsWith("reload/")) {
                // a re-clone moves a data directory aside: only a well-formed request naming its node counts
                requireNamedAfterPath(Fields.text(Fields.parseObject(bytes), "node", ""), relative);
                documents.put(relative, bytes);
            } else if (relative.startsWith("fence/")) {
                // a fence is acted on: only a well-formed one that names its own node counts
                requireNamedAfterPath(Fields.text(Fields.parseObject(bytes), "node", ""), relative);
                documents.put(relative, bytes);
            } else if (relative.equals("switchover") || relative.equals("decision") || relative.equals("promoting")) {
                Fields.parseObject(bytes);
                documents.put(relative, bytes);
            } else if (relative.startsWith("heartbeat/")) {
                heartbeats.put(ClusterPaths.lastSegment(relative), clock.nowMillis());
            } else if (!relative.startsWith("leader/")) {
                documents.put(relative, bytes);
            }
        } catch (DocumentException e) {
            rejected++;
            String id = ClusterPaths.lastSegment(data.getPath());
            if (relative.equals("topology")) {
                topologyProblem = "the topology node (version " + data.getStat().getVersion() + ") is malformed: "
                        + e.getMessage();
            } else if (relative.equals("config")) {
                // the last good settings stay in force
                settingsProblem = "the settings node (version " + data.getStat().getVersion() + ") is malformed: "
                        + e.getMessage() + "; keeping version " + (settings == null ? "none" : settings.version());
            } else if (relative.startsWith("members/")) {
                members.remove(id);
            } else if (relative.startsWith("votes/")) {
                votes.remove(id);
            } else if (relative.startsWith("nodes/")) {
                nodes.remove(id);
            } else {
                documents.remove(relative);
            }
            LOG.warn("ignoring ZooKeeper node {} (version {}): {}", data.getPath(), data.getStat().getVersion(),
                    e.getMessage());
        }
    }

    private static void requireNamedAfterPath(String id, String relative) throws DocumentException {
        if (!id.equals(ClusterPaths.lastSegment(relative))) {
            throw new DocumentException("id", "names " + id + " but the node is " + relative);
        }
    }

    private void deleted(ChildData data) {
        String relative = relative(data.getPath());
        if (relative == null) {
            return;
        }
        String id = ClusterPaths.lastSegment(data.getPath());
        if (relative.equals("maintenance")) {
            maintenance = false;
        } else if (relative.equals("topology")) {
            LOG.warn("the topology node was deleted; keeping epoch {} in memory",
                    topology == null ? "none" : topology.topology().epoch());
            topology = null;
        } else if (relative.startsWith("nodes/")) {
            nodes.remove(id);
        } else if (relative.startsWith("members/")) {
            members.remove(id);
        } else if (relative.startsWith("votes/")) {
            votes.remove(id);
        } else {
            documents.remove(relative);
        }
    }

    /** The path below the cluster's base, or null for the base itself. */
    private String relative(String path) {
        String base = paths.base() + "/";
        return path.startsWith(base) ? path.substring(base.length()) : null;
    }

    public Map<String, RegisteredNode> nodes() {
        return Map.copyOf(nodes);
    }

    public Map<String, MemberReport> members() {
        return Map.copyOf(members);
    }

    /** The session that owns the ephemeral node at {@code path}, or 0 (absent or persistent). */
    public long ephemeralOwner(String path) {
        return stat(path).map(Stat::getEphemeralOwner).orElse(0L);
    }

    /** When this sentinel last saw {@code id}'s heartbeat change (monotonic), or -1. */
    public long heartbeatSeenAt(String id) {
        return heartbeats.getOrDefault(id, -1L);
    }

    /**
     * How long {@code id}'s sentinel has been silent beyond its self-fence deadline, counting a
     * heartbeat seen before {@code countFromMillis} (a leader's term start) from then; -1 while it
     * is not (no heartbeat known, no deadline registered, or heard from recently enough). A
     * sentinel silent that long lost ZooKeeper at least that long ago and has fenced its server.
     */
    public long silentBeyondFenceDeadline(String id, long nowMillis, long countFromMillis) {
        RegisteredNode n = nodes.get(id);
        long seen = heartbeatSeenAt(id);
        if (n == null || n.fencedAfterSilenceMillis() <= 0 || seen < 0) {
            return -1;
        }
        long silent = nowMillis - Math.max(seen, countFromMillis);
        return silent >= n.fencedAfterSilenceMillis() ? silent : -1;
    }

    public Map<String, VoteSeen> votes() {
        return Map.copyOf(votes);
    }

    public Optional<VersionedTopology> topology() {
        return Optional.ofNullable(topology);
    }

    /** The cluster's settings as last read (the last good ones when the node is malformed), if any. */
    public Optional<SettingsStore.Versioned> settings() {
        return Optional.ofNullable(settings);
    }

    /** Why the settings node cannot be used, or "" when it can. */
    public String settingsProblem() {
        return settingsProblem;
    }

    /** Why the topology node cannot be used, or "" when it can. */
    public String topologyProblem() {
        return topologyProblem;
    }

    public boolean maintenance() {
        return maintenance;
    }

    /** Any other node of the subtree (decision, fence/x, history/x, switchover), raw. */
    public Optional<byte[]> document(String relative) {
        return Optional.ofNullable(documents.get(relative));
    }

    /** Relative paths of other documents under {@code prefix} ("fence/", "history/"). */
    public java.util.List<String> documentsUnder(String prefix) {
        return documents.keySet().stream().filter(k -> k.startsWith(prefix)).sorted().toList();
    }

    public long rejectedCount() {
        return rejected;
    }

    /** The stat of a node as cached, if present. */
    public Optional<Stat> stat(String path) {
        return cache.get(path).map(ChildData::getStat);
    }
}
