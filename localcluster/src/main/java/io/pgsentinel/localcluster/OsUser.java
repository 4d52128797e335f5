package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.List;

/** The OS user facts PostgreSQL cares about: it refuses to run as root. */
public final class OsUser {
    /** The account PostgreSQL runs as when the tests run as root. */
    public static final String POSTGRES = "postgres";

    private static final boolean ROOT = "0".equals(
            Command.run(List.of("id", "-u"), Duration.ofSeconds(10)).orThrow().output().strip());

    private OsUser() {
    }

    public static boolean isRoot() {
        return ROOT;
    }

    /** The user PostgreSQL processes run as: {@code postgres} under root, else the current user. */
    public static String serverUser() {
        return ROOT ? POSTGRES : System.getProperty("user.name");
    }

    /** Gives {@code dir} and everything under it to the server user (a no-op unless root). */
    public static void chownToServerUser(Path dir) {
        if (!ROOT) {
            return;
        }
        Command.run(List.of("chown", "-R", POSTGRES + ":", dir.toString()), Duration.ofSeconds(60)).orThrow();
    }

    /** The owner of {@code path}. */
    public static String ownerOf(Path path) {
        try {
            UserPrincipal owner = Files.getOwner(path);
            return owner.getName();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
