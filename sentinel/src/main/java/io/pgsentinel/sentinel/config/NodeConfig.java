package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.validation.ValidationMethod;
import io.pgsentinel.shared.zk.Names;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;

/** {@code node:} this sentinel's node: its id, where its PostgreSQL is reached, and its tags. */
public class NodeConfig {
    /** The node id: a ZooKeeper path segment and a replication slot name. */
    @NotEmpty
    @JsonProperty
    public String id;

    /** Where peers and clients reach this node's PostgreSQL. */
    @NotEmpty
    @JsonProperty
    public String host;

    /** Base URL of this sentinel's HTTP API as peers and the CLI reach it; default http://host:port. */
    @JsonProperty
    public String apiUrl = "";

    @Valid
    @NotNull
    @JsonProperty
    public TagsConfig tags = new TagsConfig();

    @ValidationMethod(message = "node.id may hold only letters, digits, '.', '_' and '-', starting with a letter or digit, "
            + "at most 63 characters")
    public boolean isIdValid() {
        return id == null || Names.problem(id) == null;
    }

    @ValidationMethod(message = "node.tags.replicatefrom must be another node's id (letters, digits, '.', '_', '-'), "
            + "or empty to stream from the primary")
    public boolean isReplicateFromValid() {
        String from = tags == null || tags.replicatefrom == null ? "" : tags.replicatefrom;
        return from.isEmpty() || (Names.problem(from) == null && !from.equals(id));
    }

    @ValidationMethod(message = "node.host must be a host name or address without spaces")
    public boolean isHostValid() {
        return host == null || host.chars().noneMatch(Character::isWhitespace);
    }

    /** {@code node.tags:} how this node takes part in failover. */
    public static class TagsConfig {
        /** Among equally advanced candidates, the higher priority wins. */
        @JsonProperty
        public int priority = 100;

        /** Never promote this node automatically. */
        @JsonProperty
        public boolean nofailover = false;

        /** Never in the synchronous set (replication.synchronous: quorum): a standby far away, or for backups. */
        @JsonProperty
        public boolean nosync = false;

        /** No reads routed to it: {@code GET /replica} answers 503 and the client library skips it. */
        @JsonProperty
        public boolean noloadbalance = false;

        /**
         * Cascading: stream from this replica while it streams, and from the primary while it does
         * not; never in the synchronous set. Empty: from the primary.
         */
        @JsonProperty
        public String replicatefrom = "";

        /** A new or re-cloned node copies this replica (while it streams) rather than the primary. */
        @JsonProperty
        public boolean clonefrom = false;
    }
}
