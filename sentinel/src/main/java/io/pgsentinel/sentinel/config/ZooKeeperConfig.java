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

    /** Digest authentication and ACLs; absent: no ACLs (anyone reaching ZooKeeper may write). */
    @jakarta.validation.Valid
    @JsonProperty
    public AuthConfig auth;

    /** The sentinels' credentials and ACLs read from their files, or null without {@code auth}. */
    public io.pgsentinel.sentinel.zk.ZkAuth readAuth() {
        return auth == null ? null : auth.read();
    }

    /** {@code zookeeper.auth:} the sentinels' identity, and an optional read-only identity for clients. */
    public static class AuthConfig {
        @NotEmpty
        @JsonProperty
        public String user = "pg-sentinel";

        /** A file whose first line is the password. */
        @NotEmpty
        @JsonProperty
        public String passwordFile;

        /** Clients that read the topology and history with this identity; empty: anyone may read them. */
        @JsonProperty
        public String clientUser = "";

        @JsonProperty
        public String clientPasswordFile = "";

        @ValidationMethod(message = "zookeeper.auth.passwordFile must be a readable file")
        public boolean isPasswordFileReadable() {
            return passwordFile == null || Secrets.isReadableOrUnset(passwordFile);
        }

        @ValidationMethod(message = "zookeeper.auth.clientPasswordFile must be a readable file, and is needed with clientUser")
        public boolean isClientPasswordValid() {
            return clientUser == null || clientUser.isEmpty()
                    || (clientPasswordFile != null && !clientPasswordFile.isEmpty() && Secrets.isReadableOrUnset(clientPasswordFile));
        }

        /** The credentials, read from their files. */
        public io.pgsentinel.sentinel.zk.ZkAuth read() {
            return new io.pgsentinel.sentinel.zk.ZkAuth(user, Secrets.read(passwordFile).orElse(""), clientUser,
                    Secrets.read(clientPasswordFile).orElse(""));
        }
    }

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
