package io.pgsentinel.sentinel.model;

/** PostgreSQL WAL positions ({@code pg_lsn}, "16/B374D848") as unsigned 64-bit numbers. */
public final class Lsn {
    private Lsn() {
    }

    /** Parses "X/Y" (hex); throws IllegalArgumentException naming the text otherwise. */
    public static long parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.length() > 17) {
            throw new IllegalArgumentException("not a WAL position: '" + text + "'");
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            if (hi > 0xFFFFFFFFL || lo > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("not a WAL position: '" + text + "'");
            }
            return (hi << 32) | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a WAL position: '" + text + "'");
        }
    }

    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
    }

    /** Human-readable byte count: 0 B, 512 B, 1.5 kB, 16.0 MB (decimal, as Dropwizard's DataSize). */
    public static String bytes(long n) {
        if (n < 1000) {
            return n + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
