package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Which segment files of a new timeline are cut short: only a copy of the parent's WAL that stops early. */
class WalDirectoryTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "[{index}] mine {0}, parent's {1}: cut short {2}")
    @CsvSource({
            "'0 0 0 0', '1 2 3 4', true",   // nothing received on that page
            "'1 2 0 0', '1 2 3 4', true",   // received part of it
            "'1 2 3 4', '1 2 3 4', false",  // complete up to the switch point
            "'1 2 3 4', '1 2 0 0', false",  // holds more than the parent's
            "'1 9 0 0', '1 2 3 4', false",  // not a copy of the parent's: not ours to judge
            "'0 0 0 0', '0 0 0 0', false",  // nothing on either side
    })
    void cutShort(String mine, String parents, boolean expected) {
        assertThat(WalDirectory.stopsShortOf(bytes(mine), bytes(parents))).isEqualTo(expected);
    }

    @Test
    void theLastEntryOfAHistoryFileGivesTheParentAndTheSwitchPoint() throws Exception {
        Path h = dir.resolve("0000002A.history");
        Files.writeString(h, "1\t0/3000158\tno recovery target specified\n\n# comment\n41\t0/192E4A88\tno recovery target specified\n");
        var last = TimelineHistory.parse(Files.readString(h)).last().orElseThrow();
        assertThat(last.parent()).isEqualTo(41);
        assertThat(last.lsn()).isEqualTo(0x192E4A88L);
        assertThat(WalDirectory.segmentName(42, 0x19, 16L * 1024 * 1024)).isEqualTo("0000002A0000000000000019");
        assertThat(WalDirectory.segmentName(3, 0x1_05, 16L * 1024 * 1024)).isEqualTo("000000030000000100000005");
    }

    private static byte[] bytes(String s) {
        String[] parts = s.split(" ");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i]);
        }
        return b;
    }
}
