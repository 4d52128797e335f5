package io.pgsentinel.sentinel.zk;

import io.pgsentinel.shared.zk.ClusterPaths;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * ZooKeeper digest authentication and ACLs ({@code zookeeper.auth}): the sentinels' identity may
 * do everything; the topology and the history are also readable by clients (by anyone, or only
 * by a read-only client identity); nothing else is readable or writable by anybody else. A
 * stray process without the sentinels' credentials cannot change the topology.
 */
public record ZkAuth(String user, String password, String clientUser, String clientPassword) {

    /** The {@code user:password} bytes Curator sends for the digest scheme. Never logged. */
    public byte[] credentials() {
        return (user + ":" + password).getBytes(StandardCharsets.UTF_8);
    }

    /** The ACLs of every node the sentinels create, by path. */
    public ACLProvider aclProvider(ClusterPaths paths) {
        ACL sentinels = new ACL(ZooDefs.Perms.ALL, new Id("digest", digest(user, password)));
        ACL readers = clientUser.isEmpty() ? new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)
                : new ACL(ZooDefs.Perms.READ, new Id("digest", digest(clientUser, clientPassword)));
        // ZooKeeper's validateACL calls contains(null): an immutable List.of would throw
        List<ACL> shared = new java.util.ArrayList<>(List.of(sentinels, readers));
        List<ACL> own = new java.util.ArrayList<>(List.of(sentinels));
        return new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return own;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                boolean clientReadable = path.equals(paths.topology()) || path.equals(paths.history())
                        || path.startsWith(paths.history() + "/");
                return clientReadable ? shared : own;
            }
        };
    }

    private static String digest(String user, String password) {
        try {
            return DigestAuthenticationProvider.generateDigest(user + ":" + password);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA1 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "ZkAuth[user=" + user + ", clientUser=" + clientUser + "]";
    }
}
