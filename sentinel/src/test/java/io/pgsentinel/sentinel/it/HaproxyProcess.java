package io.pgsentinel.sentinel.it;

import io.pgsentinel.localcluster.KitRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HAProxy (Debian's package, installed by .ci/run) in the foreground with a configuration of its
 * own, stopped on close. {@link #documented} gives the configuration docs/haproxy.md shows, read
 * from the file itself, so that what the tests run is what the documentation tells users to run.
 */
public final class HaproxyProcess implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/sbin/haproxy");
    private static final Path DOCUMENT = Path.of("..", "docs", "haproxy.md");

    private final Process process;

    public HaproxyProcess(String config) throws IOException {
        Path cfg = KitRun.get().newDirectory("haproxy").resolve("haproxy.cfg");
        Files.writeString(cfg, config);
        process = new ProcessBuilder(BINARY.toString(), "-f", cfg.toString(), "-db").redirectErrorStream(true)
                .redirectOutput(cfg.resolveSibling("haproxy.log").toFile()).start();
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /**
     * docs/haproxy.md's configuration with only the {@code listen} sections named in
     * {@code ports}, each bound to 127.0.0.1 on its port there, and its {@code server} lines
     * replaced by {@code servers} (see {@link SentinelCluster#haproxyServers()}).
     */
    public static String documented(Map<String, Integer> ports, String servers) throws IOException {
        List<String> out = new ArrayList<>();
        boolean inBlock = false;
        String section = null;
        boolean serversWritten = false;
        for (String line : Files.readAllLines(DOCUMENT)) {
            if (line.startsWith("```")) {
                if (inBlock) {
                    break;
                }
                inBlock = true;
                continue;
            }
            if (!inBlock || line.startsWith("#")) {
                continue;
            }
            if (!line.startsWith(" ") && !line.isBlank()) {
                section = line.startsWith("listen ") ? line.substring("listen ".length()).trim() : null;
                serversWritten = false;
            }
            if (section != null && !ports.containsKey(section)) {
                continue;
            }
            String trimmed = line.trim();
            if (trimmed.startsWith("bind ")) {
                out.add("    bind 127.0.0.1:" + ports.get(section));
            } else if (trimmed.startsWith("server ")) {
                if (!serversWritten) {
                    out.add(servers.stripTrailing());
                    serversWritten = true;
                }
            } else {
                out.add(line);
            }
        }
        if (!inBlock) {
            throw new IllegalStateException(DOCUMENT + " holds no configuration block");
        }
        String config = String.join("\n", out) + "\n";
        for (String name : ports.keySet()) {
            if (!config.contains("listen " + name + "\n")) {
                throw new IllegalStateException(DOCUMENT + " has no section listen " + name);
            }
        }
        return config;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }
}
