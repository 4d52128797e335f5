package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.server.DefaultServerFactory;
import io.dropwizard.jetty.ConnectorFactory;
import io.dropwizard.jetty.HttpConnectorFactory;
import io.dropwizard.validation.ValidationMethod;
import io.pgsentinel.shared.zk.Names;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.util.List;

/**
 * The sentinel's YAML configuration (../shared/DESIGN.md, "Configuration"; every key is
 * commented in config/). Validation names the field and the limit; nothing starts on a bad file.
 */
public class SentinelConfiguration extends Configuration {
    /** Default ports of the HTTP API and the admin endpoints (Patroni's REST API uses 8008 too). */
    public static final int DEFAULT_API_PORT = 8008;
    public static final int DEFAULT_ADMIN_PORT = 8009;

    @NotEmpty
    @JsonProperty
    public String cluster;

    @Valid
    @NotNull
    @JsonProperty
    public NodeConfig node;

    @Valid
    @NotNull
    @JsonProperty
    public PostgresConfig postgres = new PostgresConfig();

    @Valid
    @NotNull
    @JsonProperty
    public ReplicationConfig replication = new ReplicationConfig();

    @Valid
    @NotNull
    @JsonProperty
    public ZooKeeperConfig zookeeper;

    @Valid
    @NotNull
    @JsonProperty
    public FailureDetectionConfig failureDetection = new FailureDetectionConfig();

    @Valid
    @NotNull
    @JsonProperty
    public FencingConfig fencing = new FencingConfig();

    @Valid
    @NotNull
    @JsonProperty
    public FailoverConfig failover = new FailoverConfig();

    @Valid
    @NotNull
    @JsonProperty
    public ApiConfig api = new ApiConfig();

    @Valid
    @NotNull
    @JsonProperty
    public HooksConfig hooks = new HooksConfig();

    @Valid
    @NotNull
    @JsonProperty
    public BootstrapConfig bootstrap = new BootstrapConfig();

    /**
     * {@code on} or {@code off} (the default): when the primary's sentinel loses ZooKeeper, ask
     * the other sentinels for leases before fencing (docs/architecture.md, "Failsafe"). Needs
     * api.tokenFile: the sentinels call each other authenticated.
     */
    private String failsafe = "off";

    @JsonProperty("failsafe")
    public String getFailsafe() {
        return failsafe;
    }

    /** YAML reads an unquoted on/off as a boolean: both forms are accepted. */
    @JsonProperty("failsafe")
    public void setFailsafe(Object value) {
        this.failsafe = OnOff.read(value);
    }

    public boolean failsafeEnabled() {
        return OnOff.isOn(failsafe);
    }

    @ValidationMethod(message = "failsafe must be on or off")
    public boolean isFailsafeValid() {
        return OnOff.isValid(failsafe);
    }

    @ValidationMethod(message = "failsafe: on needs api.tokenFile (the sentinels ask each other for leases, authenticated)")
    public boolean isFailsafeAuthenticated() {
        return !failsafeEnabled() || (api != null && api.tokenFile != null && !api.tokenFile.isEmpty());
    }

    /** {@code rewind} (pg_rewind, a fresh clone if that fails) or {@code manual}. */
    @NotEmpty
    @JsonProperty
    public String rejoin = "rewind";

    public SentinelConfiguration() {
        DefaultServerFactory server = new DefaultServerFactory();
        server.setApplicationConnectors(List.of(http(DEFAULT_API_PORT)));
        server.setAdminConnectors(List.of(http(DEFAULT_ADMIN_PORT)));
        setServerFactory(server);
    }

    private static ConnectorFactory http(int port) {
        HttpConnectorFactory connector = new HttpConnectorFactory();
        connector.setPort(port);
        return connector;
    }

    @ValidationMethod(message = "cluster may hold only letters, digits, '.', '_' and '-', starting with a letter or "
            + "digit, at most 63 characters")
    public boolean isClusterValid() {
        return cluster == null || Names.problem(cluster) == null;
    }

    @ValidationMethod(message = "rejoin must be rewind or manual")
    public boolean isRejoinValid() {
        return rejoin == null || rejoin.equals("rewind") || rejoin.equals("manual");
    }

    @ValidationMethod(message = "zookeeper.sessionTimeout must be at least 2 x failureDetection.checkInterval + "
            + "failureDetection.checkTimeout, so that a sentinel renews its presence several times per session")
    public boolean isSessionLongEnoughForTheChecks() {
        if (zookeeper == null || zookeeper.sessionTimeout == null || failureDetection == null
                || failureDetection.checkInterval == null || failureDetection.checkTimeout == null) {
            return true;
        }
        return zookeeper.sessionTimeout.toMilliseconds() >= 2 * failureDetection.checkInterval.toMilliseconds()
                + failureDetection.checkTimeout.toMilliseconds();
    }

    @ValidationMethod(message = "fencing.selfFenceTimeout + 200ms must be at most zookeeper.sessionTimeout / 2: a "
            + "primary's sentinel that loses ZooKeeper starts fencing at half the session timeout and must be done "
            + "before the session can expire (docs/architecture.md, the timing rule)")
    public boolean isSelfFenceWithinSession() {
        if (zookeeper == null || zookeeper.sessionTimeout == null || fencing == null || fencing.selfFenceTimeout == null) {
            return true;
        }
        return fencing.selfFenceTimeout.toMilliseconds() + 200 <= zookeeper.sessionTimeout.toMilliseconds() / 2;
    }

    /** The port of the first application connector: where this sentinel's HTTP API listens. */
    public int apiPort() {
        if (getServerFactory() instanceof DefaultServerFactory f && !f.getApplicationConnectors().isEmpty()
                && f.getApplicationConnectors().get(0) instanceof HttpConnectorFactory h) {
            return h.getPort();
        }
        return DEFAULT_API_PORT;
    }

    /** The base URL peers and the CLI use to reach this sentinel's API. */
    public String apiUrl() {
        if (node.apiUrl != null && !node.apiUrl.isEmpty()) {
            return node.apiUrl.replaceAll("/+$", "");
        }
        boolean tls = getServerFactory() instanceof DefaultServerFactory f && !f.getApplicationConnectors().isEmpty()
                && f.getApplicationConnectors().get(0).getClass().getSimpleName().startsWith("Https");
        return (tls ? "https" : "http") + "://" + node.host + ":" + apiPort();
    }
}
