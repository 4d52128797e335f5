package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The PostgreSQL server binaries installed on this machine: {@code $PG_BIN} if set, else
 * {@code pg_config --bindir}, else the newest {@code /usr/lib/postgresql/<major>/bin}.
 */
public record PgInstall(Path binDir, int majorVersion) {
    /** What a user without the server binaries should run. */
    public static final String INSTALL_HINT =
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install them with "
                    + "'apt-get update && apt-get install -y postgresql-15', or set PG_BIN to their directory";

    private static final List<String> REQUIRED = List.of("initdb", "pg_ctl", "postgres", "pg_basebackup");

    public Path bin(String program) {
        return binDir.resolve(program);
    }

    /** Finds the installation or throws with {@link #INSTALL_HINT}. */
    public static PgInstall find() {
        return locate().orElseThrow(() -> new IllegalStateException(INSTALL_HINT));
    }

    public static Optional<PgInstall> locate() {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("PG_BIN");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        try {
            Command.Result r = Command.run(List.of("pg_config", "--bindir"), Duration.ofSeconds(10));
            if (r.exitCode() == 0) {
                candidates.add(Path.of(r.output().strip()));
            }
        } catch (IllegalStateException notInstalled) {
            // no pg_config on PATH: look in the Debian layout below
        }
        candidates.addAll(debianBinDirs());
        for (Path candidate : candidates) {
            if (REQUIRED.stream().allMatch(p -> Files.isExecutable(candidate.resolve(p)))) {
                return Optional.of(new PgInstall(candidate, versionOf(candidate)));
            }
        }
        return Optional.empty();
    }

    private static List<Path> debianBinDirs() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        try (Stream<Path> majors = Files.list(base)) {
            return majors.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .sorted(Comparator.comparingInt((Path p) -> Integer.parseInt(p.getFileName().toString())).reversed())
                    .map(p -> p.resolve("bin"))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int versionOf(Path binDir) {
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        String out = Command.run(List.of(binDir.resolve("postgres").toString(), "--version"), Duration.ofSeconds(10))
                .orThrow().output();
        String version = out.replaceAll("(?s).*\\(PostgreSQL\\)\\s+(\\d+).*", "$1");
        return Integer.parseInt(version.strip());
    }
}
