package io.pgsentinel.sentinel.postgres;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A standby's {@code pg_wal} as recovery reads it, and the one state of it that PostgreSQL
 * cannot get out of alone.
 *
 * <p>A standby that follows a primary onto its new timeline streams that timeline's first
 * segment from the segment's start: the file begins as a copy of the parent timeline's WAL up to
 * the switch point. If that primary dies before the copy reaches the switch point, the standby
 * keeps a segment file of the new timeline that stops short of where the timeline begins.
 * Recovery prefers the newest timeline's file for a segment, meets the unwritten part, and
 * either PANICs when the standby is promoted ("invalid magic number 0000 in log segment") or,
 * once it fell back to the parent's file, refuses to start at all ("... belongs to timeline 41,
 * but previous recovered WAL file came from timeline 42"). Found by the chaos suite: the new
 * primary lost right after a failover, while the third node was re-pointed to it.
 *
 * <p>Such a file holds nothing of the new timeline (it never reached the switch point), and the
 * parent's file holds everything up to it: {@link #setAsideUnreachedSegments} renames it out of
 * recovery's way (kept, with a suffix), never a file that holds more than the parent's.
 */
public final class WalDirectory {
    /** What a set-aside segment file is renamed with, in {@code pg_wal}. */
    public static final String SET_ASIDE_SUFFIX = ".pgsentinel-unreached";
    private static final int PAGE = 8192;
    private static final Pattern HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");

    private WalDirectory() {
    }

    /**
     * Renames every segment file of a timeline that stops before that timeline's switch point
     * while its parent's file for the same segment goes further.
     *
     * @return the names of the files set aside (empty: nothing to do)
     */
    public static List<String> setAsideUnreachedSegments(Path dataDirectory) throws IOException {
        Path wal = dataDirectory.resolve("pg_wal");
        List<String> setAside = new ArrayList<>();
        if (!Files.isDirectory(wal)) {
            return setAside;
        }
        List<Path> histories;
        long segmentSize;
        try (Stream<Path> files = Files.list(wal)) {
            List<Path> all = files.toList();
            histories = all.stream().filter(p -> HISTORY.matcher(p.getFileName().toString()).matches()).sorted().toList();
            Path anySegment = all.stream().filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches())
                    .findFirst().orElse(null);
            if (histories.isEmpty() || anySegment == null) {
                return setAside;
            }
            segmentSize = Files.size(anySegment);
        }
        if (segmentSize < PAGE || Long.bitCount(segmentSize) != 1) {
            return setAside; // not a whole segment: leave everything to PostgreSQL
        }
        for (Path history : histories) {
            Matcher name = HISTORY.matcher(history.getFileName().toString());
            if (!name.matches()) {
                continue;
            }
            long timeline = Long.parseLong(name.group(1), 16);
            var last = TimelineHistory.parse(Files.readString(history)).last();
            if (last.isEmpty()) {
                continue;
            }
            long parent = last.get().parent();
            long switchPoint = last.get().lsn();
            long segmentStart = switchPoint - switchPoint % segmentSize;
            if (switchPoint == segmentStart) {
                continue; // the timeline's first segment holds none of its parent's WAL
            }
            long segment = switchPoint / segmentSize;
            Path mine = wal.resolve(segmentName(timeline, segment, segmentSize));
            Path parents = wal.resolve(segmentName(parent, segment, segmentSize));
            if (!Files.isRegularFile(mine) || !Files.isRegularFile(parents)) {
                continue;
            }
            // the page holding the last byte before the switch point, up to the switch point
            long from = Math.max(segmentStart, (switchPoint - 1) - (switchPoint - 1) % PAGE) - segmentStart;
            int length = (int) (switchPoint - segmentStart - from);
            if (stopsShortOf(read(mine, from, length), read(parents, from, length))) {
                Path target = mine.resolveSibling(mine.getFileName() + SET_ASIDE_SUFFIX);
                Files.move(mine, target, StandardCopyOption.REPLACE_EXISTING);
                setAside.add(mine.getFileName().toString());
            }
        }
        return setAside;
    }

    /**
     * Whether {@code mine} is a copy of {@code parents} cut short: equal up to its last written
     * byte, zero after it, where the parent's file still has WAL.
     */
    static boolean stopsShortOf(byte[] mine, byte[] parents) {
        int last = mine.length - 1;
        while (last >= 0 && mine[last] == 0) {
            last--;
        }
        if (!Arrays.equals(mine, 0, last + 1, parents, 0, last + 1)) {
            return false; // not a copy of the parent's WAL: not ours to judge
        }
        for (int i = last + 1; i < parents.length; i++) {
            if (parents[i] != 0) {
                return true;
            }
        }
        return false;
    }

    static String segmentName(long timeline, long segment, long segmentSize) {
        long perId = 0x1_0000_0000L / segmentSize;
        return String.format("%08X%08X%08X", timeline, segment / perId, segment % perId);
    }

    private static byte[] read(Path file, long offset, int length) throws IOException {
        byte[] bytes = new byte[length];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            if (f.length() >= offset + length) {
                f.seek(offset);
                f.readFully(bytes);
            }
        }
        return bytes;
    }
}
