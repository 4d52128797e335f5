package io.pgsentinel.sentinel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgsentinel.sentinel.demo.Http;
import io.pgsentinel.sentinel.demo.LocalSentinel;
import io.pgsentinel.shared.zk.ClusterPaths;
import io.pgsentinel.localcluster.Await;
import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.KitRun;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rule 7 and the security issue, for real: ZooKeeper ACLs, hostile ZooKeeper nodes, an HTTP fuzz,
 * TLS on the API, and secrets that never show. One cluster for the whole class, with a
 * PostgreSQL password file, a replication password file, an API token and ZooKeeper digest auth.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class SecurityIT {
    private static final String PG_PASSWORD = "pg-pass-4f9c2e";
    private static final String REPLICATION_PASSWORD = "repl-pass-7d1a3b";
    private static final String TOKEN = "api-token-93b2c7";
    private static final String ZK_PASSWORD = "zk-pass-5e8f1d";
    private static final List<String> SECRETS = List.of(PG_PASSWORD, REPLICATION_PASSWORD, TOKEN, ZK_PASSWORD);
    private static SentinelCluster cluster;
    private static CuratorFramework sentinelIdentity;

    @BeforeAll
    static void start() throws Exception {
        Path dir = KitRun.get().newDirectory("secrets");
        Path pg = Files.writeString(dir.resolve("pg.password"), PG_PASSWORD + "\n");
        Path repl = Files.writeString(dir.resolve("replication.password"), REPLICATION_PASSWORD + "\n");
        Path token = Files.writeString(dir.resolve("api.token"), TOKEN + "\n");
        Path zk = Files.writeString(dir.resolve("zk.password"), ZK_PASSWORD + "\n");
        cluster = SentinelCluster.start(2, y -> y
                .replace("  sslMode: disable\n", "  sslMode: disable\n  passwordFile: " + pg + "\n")
                .replace("  root: /pg-sentinel\n", "  root: /pg-sentinel\n  auth:\n    user: sentinels\n"
                        + "    passwordFile: " + zk + "\n")
                + "replication:\n  passwordFile: " + repl + "\napi:\n  tokenFile: " + token + "\n");
        cluster.awaitTopology("healthy", t -> t.replicas().stream().allMatch(r -> r.state().json().equals("streaming")));
        sentinelIdentity = CuratorFrameworkFactory.builder().connectString(cluster.zk().connectString())
                .authorization("digest", ("sentinels:" + ZK_PASSWORD).getBytes(StandardCharsets.UTF_8))
                .retryPolicy(new RetryNTimes(3, 100)).build();
        sentinelIdentity.start();
        sentinelIdentity.blockUntilConnected();
    }

    @AfterAll
    static void stop() {
        sentinelIdentity.close();
        cluster.close();
    }

    private static ClusterPaths paths() {
        return cluster.paths();
    }

    @Test
    void withoutTheSentinelsCredentialsNobodyChangesTheTopologyButAnyoneMayReadIt() throws Exception {
        try (CuratorFramework stray = CuratorFrameworkFactory.newClient(cluster.zk().connectString(), new RetryNTimes(1, 100))) {
            stray.start();
            stray.blockUntilConnected();
            assertThat(new String(stray.getData().forPath(paths().topology()), StandardCharsets.UTF_8))
                    .contains("\"formatVersion\"");
            assertThatThrownBy(() -> stray.setData().forPath(paths().topology(), "{}".getBytes()))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> stray.create().forPath(paths().maintenance()))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> stray.create().forPath(paths().fence("node1"), "{}".getBytes()))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> stray.getData().forPath(paths().member("node1")))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> stray.delete().forPath(paths().node("node2")))
                    .isInstanceOf(KeeperException.NoAuthException.class);
        }
    }

    @Test
    void hostileNodesInZooKeeperAreLoggedAndIgnoredAndNothingIsActedOn() throws Exception {
        long epoch = cluster.topologyInZooKeeper().epoch();
        byte[] goodTopology = sentinelIdentity.getData().forPath(paths().topology());
        List<byte[]> garbage = List.of("{\"formatVersion\": 99}".getBytes(), "not json".getBytes(),
                "{\"a\":".repeat(200).getBytes(), new byte[0], ("{\"x\":\"" + "y".repeat(900_000) + "\"}").getBytes(),
                "[1,2,3]".getBytes());
        for (byte[] g : garbage) {
            write(paths().vote("node9"), g);
            write(paths().member("node9"), g);
            write(paths().node("node9"), g);
            write(paths().fence("node1"), g);
            write(paths().switchover(), g);
            write(paths().decision(), g);
            write(paths().historyEntryPrefix() + "9999999999", g);
            sentinelIdentity.setData().forPath(paths().topology(), g);
        }
        // the primary was never fenced, no failover happened, every sentinel kept running
        Await.until("the leader to say the topology is malformed", SentinelCluster.WAIT, () ->
                cluster.cluster(cluster.sentinel("node2")).path("decision").path("reason").asText()
                        .contains("is malformed"));
        for (LocalSentinel s : cluster.sentinels()) {
            assertThat(s.process().isAlive()).isTrue();
            assertThat(Http.get(s.url("/health")).status()).isEqualTo(200);
            assertThat(Http.get(s.url("/topology")).body()).as("the last good topology").contains("\"epoch\" : " + epoch);
            assertThat(Http.get(s.url("/history")).status()).isEqualTo(200);
        }
        assertThat(cluster.pg().primary().isRunning()).isTrue();
        assertThat(cluster.pg().primary().isInRecovery()).isFalse();
        assertThat(String.join("\n", cluster.sentinels().stream().map(LocalSentinel::log).toList()))
                .contains("ignoring ZooKeeper node");

        // repaired: the sentinels go on
        sentinelIdentity.delete().forPath(paths().fence("node1"));
        sentinelIdentity.delete().forPath(paths().node("node9"));
        sentinelIdentity.setData().forPath(paths().topology(), goodTopology);
        Await.until("decisions to resume", SentinelCluster.WAIT, () ->
                cluster.cluster(cluster.sentinel("node2")).path("decision").path("reason").asText()
                        .contains("primary node1 is up"));
        assertThat(cluster.topologyInZooKeeper().primary().id()).isEqualTo("node1");
    }

    private static void write(String path, byte[] data) throws Exception {
        if (sentinelIdentity.checkExists().forPath(path) == null) {
            sentinelIdentity.create().creatingParentsIfNeeded().forPath(path, data);
        } else {
            sentinelIdentity.setData().forPath(path, data);
        }
    }

    @Test
    void aSmallHttpFuzzNeverGetsA5xxNorKillsASentinel() {
        Random random = new Random(7);
        List<String> paths = List.of("/topology", "/cluster", "/history", "/primary", "/replica", "/read-only", "/health",
                "/switchover", "/maintenance", "/replica?lag=", "/replica?lag=abc", "/replica?lag=-5MB",
                "/replica?lag=99999999999999999999TB", "/%2e%2e/etc/passwd", "/cluster/../../x", "/" + "a".repeat(3000),
                "/primary?x=%00", "/nothing");
        List<String> methods = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
        List<String> bodies = List.of("", "{}", "null", "[]", "{\"candidate\": null}", "{\"candidate\": [1]}",
                "{\"paused\": 1}", "{\"paused\": true, \"paused\": false}", "\u0000\u0001", "{".repeat(10_000),
                "{\"candidate\": \"" + "x".repeat(20_000) + "\"}");
        LocalSentinel target = cluster.sentinel("node2");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String path = paths.get(random.nextInt(paths.size()));
            String method = methods.get(random.nextInt(methods.size()));
            String body = bodies.get(random.nextInt(bodies.size()));
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target.url("").replaceAll("/$", "") + path))
                    .timeout(Duration.ofSeconds(5)).method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
            if (random.nextBoolean()) {
                b.header("Authorization", random.nextBoolean() ? "Bearer " + TOKEN : "Bearer nope");
            }
            Http.Reply r;
            try {
                r = Http.send(b.build());
            } catch (IllegalArgumentException badUri) {
                continue;
            }
            // 503 is the contract of a role check (/primary on a replica); anything else 5xx is a bug
            boolean roleCheck = path.startsWith("/primary") || path.startsWith("/replica") || path.startsWith("/read-only")
                    || path.startsWith("/health");
            if (r.status() >= 500 && !(r.status() == 503 && roleCheck)) {
                failures.add(method + " " + path + " " + shorten(body) + " -> " + r.status());
            }
        }
        assertThat(failures).isEmpty();
        assertThat(target.process().isAlive()).isTrue();
        assertThat(Http.get(target.url("/health")).status()).isEqualTo(200);
        // the fuzz may have paused the cluster: it must be resumable
        Http.post(target.url("/maintenance"), "{\"paused\": false}", TOKEN);
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    @Test
    void secretsNeverShowInLogsClusterStatusOrZooKeeper() throws Exception {
        StringBuilder seen = new StringBuilder();
        for (LocalSentinel s : cluster.sentinels()) {
            seen.append(s.log());
            seen.append(Http.get(s.url("/cluster")).body());
            seen.append(Http.get(s.url("/topology")).body());
            seen.append(Http.get(s.adminUrl("/metrics")).body());
            seen.append(Files.readString(s.config()).replaceAll("(?m)^.*[pP]assword[fF]ile.*$|^.*tokenFile.*$", ""));
        }
        dump(paths().base(), seen);
        for (var n : cluster.pg().nodes()) {
            seen.append(n.query("SELECT current_setting('primary_conninfo')"));
            seen.append(Files.readString(n.logFile()));
        }
        assertThat(seen.length()).isGreaterThan(10_000);
        for (String secret : SECRETS) {
            assertThat(seen.toString().contains(secret)).as("secret " + secret.substring(0, 4) + "... shows somewhere")
                    .isFalse();
        }
    }

    private static void dump(String path, StringBuilder into) throws Exception {
        byte[] data = sentinelIdentity.getData().forPath(path);
        if (data != null) {
            into.append(new String(data, StandardCharsets.UTF_8));
        }
        for (String child : sentinelIdentity.getChildren().forPath(path)) {
            dump(path + "/" + child, into);
        }
    }

    @Test
    @org.junit.jupiter.api.Order(Integer.MAX_VALUE) // it restarts node3 with TLS: last
    void theApiServesOverTlsWithASelfSignedCertificate() throws Exception {
        Path dir = KitRun.get().newDirectory("tls");
        Path keystore = dir.resolve("sentinel.p12");
        Command.run(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "sentinel", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "changeit", "-keypass", "changeit"), Duration.ofSeconds(60)).orThrow();
        LocalSentinel s3 = cluster.sentinel("node3");
        s3.process().kill9();
        s3.rewriteConfig(y -> y.replace("""
                  applicationConnectors:
                    - type: http
                """, """
                  applicationConnectors:
                    - type: https
                      keyStorePath: %s
                      keyStorePassword: changeit
                      keyStoreType: PKCS12
                      validateCerts: false
                """.formatted(keystore)));
        s3.start();
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            trust.load(in, "changeit".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        HttpClient client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(2)).build();
        String url = s3.url("/health").replace("http://", "https://");
        Await.until("the sentinel to answer over TLS", SentinelCluster.WAIT, () ->
                client.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                        .statusCode() == 200);
        assertThat(Http.get(s3.url("/health")).status()).as("plain HTTP is refused").isNotEqualTo(200);
        // and the sentinel still takes part: the topology shows node3 streaming
        cluster.awaitTopology("node3 streaming", t -> t.replica("node3").map(r -> r.state().json()).orElse("")
                .equals("streaming"));
    }
}
