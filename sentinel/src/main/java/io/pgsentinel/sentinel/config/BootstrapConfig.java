package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.NotNull;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bootstrap:} how a cluster comes to exist. {@code attach} (the default): the operator
 * made the primary, the sentinels attach to it. {@code initdb}: when no topology exists, the one
 * node that wins the ZooKeeper claim ({@code initialize}) creates the cluster in its empty data
 * directory; every other node with an empty data directory then joins as a clone.
 */
public class BootstrapConfig {
    @NotNull
    @JsonProperty
    public String method = "attach";

    /** initdb's options, beside -D, -U and the authentication ones. */
    @NotNull
    @JsonProperty
    public List<String> initdbOptions = List.of("--data-checksums");

    /**
     * Settings written to the new cluster's postgresql.conf, after the sentinel's own
     * (listen_addresses = '*', port, wal_log_hints = on); a value is written as given.
     */
    @NotNull
    @JsonProperty
    public Map<String, String> parameters = new LinkedHashMap<>();

    /**
     * pg_hba.conf lines added to the new cluster's; empty: replication and every database from
     * the hosts of the server's subnets ({@code samenet}), with scram-sha-256 when
     * postgres.passwordFile is set, else trust.
     */
    @NotNull
    @JsonProperty
    public List<String> pgHba = List.of();

    public boolean initdb() {
        return "initdb".equals(method);
    }

    @ValidationMethod(message = "bootstrap.method must be attach or initdb")
    public boolean isMethodValid() {
        return method == null || method.equals("attach") || method.equals("initdb");
    }

    @ValidationMethod(message = "bootstrap.initdbOptions must not set -D, -U or the authentication (the sentinel does)")
    public boolean isInitdbOptionsValid() {
        return initdbOptions == null || initdbOptions.stream().noneMatch(o -> o.startsWith("-D") || o.startsWith("--pgdata")
                || o.startsWith("-U") || o.startsWith("--username") || o.startsWith("-A") || o.startsWith("--auth"));
    }
}
