package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import io.pgsentinel.shared.json.DocumentException;
import io.pgsentinel.shared.json.Fields;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The settings every sentinel of a cluster must agree on, kept in one ZooKeeper node
 * ({@code <root>/<cluster>/config}) and changed at run time with {@code edit-config} or
 * {@code POST /config}: failure detection and failover policy, synchronous mode, and the
 * PostgreSQL parameters applied to every member. The YAML of the first sentinel seeds it; from
 * then on the cluster's value wins over any sentinel's YAML for these keys.
 *
 * <p>Held as flat keys ({@code failureDetection.downAfter}, {@code postgresql.parameters.work_mem})
 * with canonical text values; stored and shown nested. Every value is checked as strictly as the
 * YAML, and the timing rules against the cluster as it is ({@link Limits}). Pure: no I/O.
 */
public final class ClusterSettings {
    public static final String DOWN_AFTER = "failureDetection.downAfter";
    public static final String QUORUM = "failureDetection.quorum";
    public static final String MIN_INTERVAL = "failover.minInterval";
    public static final String PRIMARY_START_TIMEOUT = "failover.primaryStartTimeout";
    public static final String MAX_LAG = "replication.maxLagOnFailover";
    public static final String SYNCHRONOUS = "replication.synchronous";
    public static final String SYNCHRONOUS_COUNT = "replication.synchronousCount";
    public static final String SYNCHRONOUS_FALLBACK = "replication.synchronousFallback";
    /** How long an inactive member slot (named after a registered node) is kept before it is dropped; 0: kept until the node is removed. */
    public static final String MEMBER_SLOTS_TTL = "replication.memberSlotsTtl";
    public static final String PARAMETERS = "postgresql.parameters.";
    /** Permanent physical slots: {@code slots.<name>: physical}, kept on every member, for backup tools and external standbys. */
    public static final String SLOTS = "slots.";
    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    /** The keys other than PostgreSQL parameters, in the order they are shown. */
    public static final List<String> KEYS = List.of(DOWN_AFTER, QUORUM, MIN_INTERVAL, PRIMARY_START_TIMEOUT, MAX_LAG,
            SYNCHRONOUS,
            SYNCHRONOUS_COUNT, SYNCHRONOUS_FALLBACK, MEMBER_SLOTS_TTL);

    /**
     * Keys added after the format's first version, with the value a cluster created before them
     * gets: its stored settings stay valid and the added key shows its default.
     */
    private static final Map<String, String> ADDED_LATER = Map.of(MEMBER_SLOTS_TTL, "30min");

    /**
     * Parameters the sentinels set themselves (replication, the synchronous set, where the server
     * listens and keeps its files), or that only a recovery may have: refused, with the reason.
     */
    static final Map<String, String> OWNED = Map.ofEntries(
            Map.entry("primary_conninfo", "the sentinel points each replica at the primary"),
            Map.entry("primary_slot_name", "the sentinel names each replica's slot after its node id"),
            Map.entry("synchronous_standby_names", "the sentinel keeps it (replication.synchronous and synchronousCount)"),
            Map.entry("port", "postgres.port of each sentinel's YAML; the sentinel starts the server with -p"),
            Map.entry("data_directory", "postgres.dataDirectory of each sentinel's YAML"),
            Map.entry("config_file", "node-local"),
            Map.entry("hba_file", "node-local"),
            Map.entry("ident_file", "node-local"),
            Map.entry("hot_standby", "the sentinel needs replicas that serve reads and answer its probes"),
            Map.entry("recovery_target", "a failover manager's replicas follow the primary to its end"),
            Map.entry("recovery_target_lsn", "a failover manager's replicas follow the primary to its end"),
            Map.entry("recovery_target_name", "a failover manager's replicas follow the primary to its end"),
            Map.entry("recovery_target_time", "a failover manager's replicas follow the primary to its end"),
            Map.entry("recovery_target_xid", "a failover manager's replicas follow the primary to its end"),
            Map.entry("recovery_target_timeline", "the sentinel follows the latest timeline"),
            Map.entry("promote_trigger_file", "the sentinel promotes"),
            Map.entry("restore_command", "set it in each node's configuration (it names node-local paths)"));

    private static final Pattern PARAMETER_NAME = Pattern.compile("[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?");

    /** What a change is checked against: the cluster as it is now. */
    public record Limits(long checkIntervalMillis, long checkTimeoutMillis, long sessionTimeoutMillis,
                         Set<String> memberSlots) {
        /** No cluster to check against (the seed of a new cluster; a document read back): values alone. */
        public static final Limits NONE = new Limits(0, 0, 0, Set.of());

        /** How many nodes are registered (each has its member slot). */
        public int registeredNodes() {
            return memberSlots.size();
        }
    }

    /** A bad setting, named by its key. */
    public static final class SettingsException extends Exception {
        private final String key;

        public SettingsException(String key, String message) {
            super(key + ": " + message);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** One change of one key; {@code from} or {@code to} null for a key added or removed. */
    public record Change(String key, String from, String to) {
        @Override
        public String toString() {
            return key + ": " + (from == null ? "(unset)" : from) + " -> " + (to == null ? "(unset)" : to);
        }
    }

    private final Map<String, String> values;

    private ClusterSettings(Map<String, String> values) {
        this.values = java.util.Collections.unmodifiableMap(new TreeMap<>(values));
    }

    /** The settings a new cluster starts with: this sentinel's YAML. */
    public static ClusterSettings seed(SentinelConfiguration c) {
        Map<String, String> v = new TreeMap<>();
        v.put(DOWN_AFTER, millis(c.failureDetection.downAfter.toMilliseconds()));
        v.put(QUORUM, c.failureDetection.quorum);
        v.put(MIN_INTERVAL, millis(c.failover.minInterval.toMilliseconds()));
        v.put(PRIMARY_START_TIMEOUT, millis(c.failover.primaryStartTimeout.toMilliseconds()));
        v.put(MAX_LAG, bytes(c.replication.maxLagOnFailover.toBytes()));
        v.put(SYNCHRONOUS, c.replication.synchronous);
        v.put(SYNCHRONOUS_COUNT, Integer.toString(c.replication.synchronousCount));
        v.put(SYNCHRONOUS_FALLBACK, c.replication.synchronousFallback);
        v.put(MEMBER_SLOTS_TTL, millis(c.replication.memberSlotsTtl.toMilliseconds()));
        try {
            return of(v, Limits.NONE);
        } catch (SettingsException e) {
            throw new IllegalStateException("the validated configuration does not make valid cluster settings: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Checks every value and the rules between them and against {@code limits}; the result holds
     * canonical values. Every key of {@link #KEYS} must be present.
     */
    public static ClusterSettings of(Map<String, String> flat, Limits limits) throws SettingsException {
        Map<String, String> v = new TreeMap<>();
        for (Map.Entry<String, String> e : flat.entrySet()) {
            String key = e.getKey();
            String value = e.getValue() == null ? "" : e.getValue().strip();
            v.put(key, canonical(key, value));
        }
        ADDED_LATER.forEach(v::putIfAbsent);
        for (String key : KEYS) {
            if (!v.containsKey(key)) {
                throw new SettingsException(key, "missing");
            }
        }
        ClusterSettings s = new ClusterSettings(v);
        s.checkRules(limits);
        return s;
    }

    private static String canonical(String key, String value) throws SettingsException {
        if (key.startsWith(SLOTS)) {
            if (!SLOT_NAME.matcher(key.substring(SLOTS.length())).matches()) {
                throw new SettingsException(key, "a slot name is 1 to 63 lower case letters, digits and '_'");
            }
            return oneOf(key, value, "physical");
        }
        if (key.startsWith(PARAMETERS)) {
            String name = key.substring(PARAMETERS.length());
            if (!PARAMETER_NAME.matcher(name).matches()) {
                throw new SettingsException(key, "not a PostgreSQL parameter name (lower case letters, digits, '_', "
                        + "one '.' for an extension's)");
            }
            if (OWNED.containsKey(name)) {
                throw new SettingsException(key, "not settable here: " + OWNED.get(name));
            }
            if (value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0 || value.length() > 1024) {
                throw new SettingsException(key, "must be one line of at most 1024 characters");
            }
            return value;
        }
        switch (key) {
            case DOWN_AFTER:
                return millis(duration(key, value, 100).toMilliseconds());
            case MIN_INTERVAL:
            case PRIMARY_START_TIMEOUT:
            case MEMBER_SLOTS_TTL:
                return millis(duration(key, value, 0).toMilliseconds());
            case QUORUM:
                if (!value.equals("majority") && !value.matches("[1-9][0-9]?")) {
                    throw new SettingsException(key, "must be 'majority' or a whole number of sentinels from 1 to 99, "
                            + "got '" + shorten(value) + "'");
                }
                return value;
            case MAX_LAG:
                try {
                    return bytes(DataSize.parse(value).toBytes());
                } catch (IllegalArgumentException e) {
                    throw new SettingsException(key, "must be a size like 1MB or 16384B, got '" + shorten(value) + "'");
                }
            case SYNCHRONOUS:
                // YAML reads an unquoted off as a boolean
                return oneOf(key, value.equals("false") ? "off" : value, "off", "quorum");
            case SYNCHRONOUS_FALLBACK:
                return oneOf(key, value, "block", "async");
            case SYNCHRONOUS_COUNT:
                if (!value.matches("[1-9][0-9]?")) {
                    throw new SettingsException(key, "must be a whole number from 1 to 99, got '" + shorten(value) + "'");
                }
                return value;
            default:
                throw new SettingsException(key, "unknown setting; the cluster's settings are " + String.join(", ", KEYS)
                        + ", " + PARAMETERS + "<name> and " + SLOTS + "<name>; node-local ones stay in each sentinel's "
                        + "YAML");
        }
    }

    /** A duration as the shortest text Dropwizard reads back: 3s, 500ms, 1min, 2h. */
    static String millis(long ms) {
        if (ms > 0 && ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        } else if (ms > 0 && ms % 60_000 == 0) {
            return ms / 60_000 + "min";
        } else if (ms > 0 && ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** A size as the shortest text Dropwizard reads back: 1MB, 512kB, 16384B (decimal units, as it reads them). */
    static String bytes(long b) {
        if (b > 0 && b % 1_000_000_000 == 0) {
            return b / 1_000_000_000 + "GB";
        } else if (b > 0 && b % 1_000_000 == 0) {
            return b / 1_000_000 + "MB";
        } else if (b > 0 && b % 1000 == 0) {
            return b / 1000 + "kB";
        }
        return b + "B";
    }

    private static Duration duration(String key, String value, long minMillis) throws SettingsException {
        Duration d;
        try {
            d = Duration.parse(value);
        } catch (IllegalArgumentException e) {
            throw new SettingsException(key, "must be a duration like 3s or 500ms, got '" + shorten(value) + "'");
        }
        if (d.toMilliseconds() < minMillis) {
            throw new SettingsException(key, "must be at least " + minMillis + "ms, got " + value);
        }
        return d;
    }

    private static String oneOf(String key, String value, String... allowed) throws SettingsException {
        for (String a : allowed) {
            if (a.equals(value)) {
                return a;
            }
        }
        throw new SettingsException(key, "must be " + String.join(" or ", allowed) + ", got '" + shorten(value) + "'");
    }

    /** The rules between values, and against the cluster (docs/architecture.md, the timing rule). */
    private void checkRules(Limits l) throws SettingsException {
        long downAfter = downAfterMillis();
        if (l.checkIntervalMillis() > 0 && downAfter <= l.checkIntervalMillis()) {
            throw new SettingsException(DOWN_AFTER, "must be longer than failureDetection.checkInterval ("
                    + l.checkIntervalMillis() + "ms): several probes must fail");
        }
        if (l.checkTimeoutMillis() > 0 && downAfter < l.checkTimeoutMillis()) {
            throw new SettingsException(DOWN_AFTER, "must not be shorter than failureDetection.checkTimeout ("
                    + l.checkTimeoutMillis() + "ms)");
        }
        if (l.sessionTimeoutMillis() > 0 && downAfter < l.sessionTimeoutMillis() / 2) {
            throw new SettingsException(DOWN_AFTER, "must be at least half the negotiated ZooKeeper session timeout ("
                    + l.sessionTimeoutMillis() / 2 + "ms): a primary cut off for less than that keeps its session and "
                    + "does not fence itself, so a shorter downAfter fails over a primary that a short network blip "
                    + "hid, by a fence from the leader");
        }
        for (String slot : slots()) {
            if (l.memberSlots().contains(slot)) {
                throw new SettingsException(SLOTS + slot, "is the replication slot of member " + slot
                        + ": a permanent slot needs a name of its own");
            }
        }
        if (l.registeredNodes() > 0 && fixedQuorum() > l.registeredNodes()) {
            throw new SettingsException(QUORUM, fixedQuorum() + " is more than the " + l.registeredNodes()
                    + " registered nodes: no failover could ever happen");
        }
        if (synchronous() && l.registeredNodes() > 0 && synchronousCount() > l.registeredNodes() - 1) {
            throw new SettingsException(SYNCHRONOUS_COUNT, synchronousCount() + " is more than the "
                    + (l.registeredNodes() - 1) + " standbys the cluster has: commits would wait for standbys that do "
                    + "not exist");
        }
    }

    /** The same settings with {@code key} set (or removed, when {@code value} is null), checked against {@code limits}. */
    public ClusterSettings with(Map<String, String> set, Set<String> unset, Limits limits) throws SettingsException {
        Map<String, String> v = new TreeMap<>(values);
        for (String key : unset) {
            if (!key.startsWith(PARAMETERS) && !key.startsWith(SLOTS)) {
                throw new SettingsException(key, "cannot be removed, only changed (only PostgreSQL parameters and "
                        + "slots can)");
            }
            v.remove(key);
        }
        v.putAll(set);
        return of(v, limits);
    }

    public Map<String, String> flat() {
        return values;
    }

    public long downAfterMillis() {
        return Duration.parse(values.get(DOWN_AFTER)).toMilliseconds();
    }

    /** A fixed number of sentinels, or 0 for a majority of the registered nodes. */
    public int fixedQuorum() {
        String q = values.get(QUORUM);
        return q.equals("majority") ? 0 : Integer.parseInt(q);
    }

    public long minIntervalMillis() {
        return Duration.parse(values.get(MIN_INTERVAL)).toMilliseconds();
    }

    public long primaryStartTimeoutMillis() {
        return Duration.parse(values.get(PRIMARY_START_TIMEOUT)).toMilliseconds();
    }

    /** 0: member slots are kept until their node is removed. */
    public long memberSlotsTtlMillis() {
        return Duration.parse(values.get(MEMBER_SLOTS_TTL)).toMilliseconds();
    }

    public long maxLagOnFailoverBytes() {
        return DataSize.parse(values.get(MAX_LAG)).toBytes();
    }

    public boolean synchronous() {
        return values.get(SYNCHRONOUS).equals("quorum");
    }

    public int synchronousCount() {
        return Integer.parseInt(values.get(SYNCHRONOUS_COUNT));
    }

    public boolean relaxAllowed() {
        return values.get(SYNCHRONOUS_FALLBACK).equals("async");
    }

    /** The PostgreSQL parameters every member gets, by name. */
    public Map<String, String> parameters() {
        Map<String, String> p = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(PARAMETERS)) {
                p.put(k.substring(PARAMETERS.length()), v);
            }
        });
        return p;
    }

    /** The permanent physical slots every member keeps. */
    public java.util.SortedSet<String> slots() {
        java.util.SortedSet<String> s = new java.util.TreeSet<>();
        values.keySet().stream().filter(k -> k.startsWith(SLOTS)).forEach(k -> s.add(k.substring(SLOTS.length())));
        return s;
    }

    /** What changes from these settings to {@code next}, key by key, in key order. */
    public List<Change> changesTo(ClusterSettings next) {
        TreeMap<String, String> keys = new TreeMap<>(values);
        keys.putAll(next.values);
        List<Change> changes = new ArrayList<>();
        for (String key : keys.keySet()) {
            String from = values.get(key);
            String to = next.values.get(key);
            if (!Objects.equals(from, to)) {
                changes.add(new Change(key, from, to));
            }
        }
        return changes;
    }

    // stored and shown nested: {"failureDetection": {"downAfter": "3s", ...}, "postgresql": {"parameters": {...}}}

    /** The document as stored in ZooKeeper and shown by {@code GET /config}. */
    public ObjectNode toTree() {
        ObjectNode root = Fields.mapper().createObjectNode();
        root.put("formatVersion", 1);
        for (String key : KEYS) {
            put(root, key, values.get(key));
        }
        ObjectNode params = root.with("postgresql").with("parameters");
        parameters().forEach(params::put);
        ObjectNode slots = root.with("slots");
        slots().forEach(name -> slots.put(name, "physical"));
        return root;
    }

    private static void put(ObjectNode root, String key, String value) {
        int dot = key.indexOf('.');
        root.with(key.substring(0, dot)).put(key.substring(dot + 1), value);
    }

    /** The flat keys of a nested document (from ZooKeeper, the API or the editor); values as text. */
    public static Map<String, String> flatten(JsonNode root) throws DocumentException {
        if (root == null || !root.isObject()) {
            throw new DocumentException("", "must be an object");
        }
        Map<String, String> flat = new TreeMap<>();
        flatten("", root, flat);
        flat.remove("formatVersion");
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) throws DocumentException {
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                flatten(key, v, out);
            } else if (v.isValueNode() && !v.isNull()) {
                out.put(key, v.asText());
            } else {
                throw new DocumentException(key, "must be a value (text, number or boolean)");
            }
        }
    }

    /** Reads the stored document back, values checked (not against the cluster: that was done when it was written). */
    public static ClusterSettings fromTree(JsonNode root) throws DocumentException {
        try {
            return of(flatten(root), Limits.NONE);
        } catch (SettingsException e) {
            throw new DocumentException(e.key(), e.getMessage().substring(e.key().length() + 2));
        }
    }

    public static ClusterSettings decode(byte[] bytes) throws DocumentException {
        return fromTree(Fields.parseObject(bytes));
    }

    public byte[] encode() {
        try {
            return Fields.mapper().writeValueAsBytes(toTree());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterSettings other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }

    private static String shorten(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
