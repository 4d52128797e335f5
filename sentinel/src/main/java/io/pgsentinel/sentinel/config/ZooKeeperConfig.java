package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import io.dropwizard.validation.MaxDuration;
import io.dropwizard.validation.MinDuration;
import io.dropwizard.validation.ValidationMethod;
import io.pgsentinel.shared.zk.Names;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.util.concurrent.TimeUnit;

/** {@code zookeeper:} the ensemble the sentinels coordinate through. */
public class ZooKeeperConfig {
    /** host:port[,host:port...] of the ensemble. */
    @NotEmpty
    @JsonProperty
    public String connect;

    @NotEmpty
    @JsonProperty
    public String root = "/pg-sentinel";

    /**
     * Requested session timeout. The ensemble may negotiate another (within 2 to 20 ticks);
     * every deadline of the sentinel is derived from the negotiated one.
     */
    @NotNull
    @MinDuration(value = 1, unit = TimeUnit.SECONDS)
    @MaxDuration(value = 120, unit = TimeUnit.SECONDS)
    @JsonProperty
    public Duration sessionTimeout = Duration.seconds(4);

    /** Start an in-process single ZooKeeper server on the first address of {@code connect} (demo and dev only). */
    @JsonProperty
    public boolean embedded = false;

    /** Data directory of the embedded server; default: a temporary directory. */
    @JsonProperty
    public String embeddedDataDirectory = "";

    @ValidationMethod(message = "zookeeper.root must be an absolute path like /pg-sentinel, of valid segments, without a trailing '/'")
    public boolean isRootValid() {
        try {
            Names.requireValidRoot(root);
            return true;
        } catch (IllegalArgumentException e) {
            return root == null;
        }
    }

    @ValidationMethod(message = "zookeeper.connect must be host:port[,host:port...]")
    public boolean isConnectValid() {
        if (connect == null || connect.isEmpty()) {
            return true; // reported by @NotEmpty
        }
        for (String server : connect.split(",")) {
            int colon = server.lastIndexOf(':');
            if (colon <= 0 || colon == server.length() - 1) {
                return false;
            }
            try {
                int port = Integer.parseInt(server.substring(colon + 1).replaceAll("/.*$", ""));
                if (port < 1 || port > 65535) {
                    return false;
                }
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return true;
    }
}
