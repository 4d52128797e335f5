package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.DataSize;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;

/** {@code replication:} how replicas follow the primary and what a failover may lose. */
public class ReplicationConfig {
    /** Used in primary_conninfo and by pg_rewind / pg_basebackup. */
    @NotEmpty
    @JsonProperty
    public String user = "postgres";

    @JsonProperty
    public String passwordFile = "";

    /**
     * Optional: how a new or re-cloned node gets its copy, e.g. a pgBackRest or WAL-G restore,
     * run with {@code sh -c} as the data directory's owner; {dataDirectory}, {host}, {port} (the
     * primary's) and {node} are replaced. Its copy must be a base backup of this cluster; the
     * sentinel then makes it a standby of the primary. When it fails, pg_basebackup clones.
     */
    @NotNull
    @JsonProperty
    public String cloneCommand = "";

    /** {@code off} or {@code quorum}. */
    @NotEmpty
    @JsonProperty
    public String synchronous = "off";

    /** k in {@code ANY k (...)}. */
    @Min(1)
    @JsonProperty
    public int synchronousCount = 1;

    /**
     * A candidate further behind the last known primary position than this is not promoted
     * automatically; a replica further behind is shown as {@code lagging}.
     */
    @NotNull
    @JsonProperty
    public DataSize maxLagOnFailover = DataSize.megabytes(1);

    /**
     * A member's slot (named after its node id) that has been inactive this long is dropped on the
     * server holding it, so that a node down for good does not fill the disk with WAL (it is cloned
     * afresh if it comes back too late); {@code 0s} keeps it until the node is removed.
     */
    @NotNull
    @JsonProperty
    public Duration memberSlotsTtl = Duration.minutes(30);

    /**
     * With {@code synchronous: quorum}, when fewer than synchronousCount standbys can acknowledge:
     * {@code block} (commits wait, strict, the default) or {@code async} (the primary acknowledges
     * alone meanwhile, and the topology says "relaxed").
     */
    @NotEmpty
    @JsonProperty
    public String synchronousFallback = "block";

    @ValidationMethod(message = "replication.synchronousFallback must be block or async")
    public boolean isFallbackValid() {
        return synchronousFallback == null || synchronousFallback.equals("block") || synchronousFallback.equals("async");
    }

    @ValidationMethod(message = "replication.synchronous must be off or quorum")
    public boolean isSynchronousValid() {
        return synchronous == null || synchronous.equals("off") || synchronous.equals("quorum");
    }

    @ValidationMethod(message = "replication.passwordFile must be a readable file")
    public boolean isPasswordFileReadable() {
        return Secrets.isReadableOrUnset(passwordFile);
    }
}
