package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** History files as PostgreSQL writes them, and what a torn or foreign file yields. */
class TimelineHistoryTest {
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
            "one switch|1\\t0/3000158\\tno recovery target specified\\n|1|1|0x3000158",
            "two switches, last wins|1\\t0/3000158\\tno recovery target specified\\n2\\t1/192E4A88\\tbefore 2000-01-01\\n|2|2|0x1192E4A88",
            "comments and blanks skipped|# comment\\n\\n41\\t0/192E4A88\\tno recovery target specified\\n# tail\\n|1|41|0x192E4A88",
            "spaces instead of tabs|3   0/A0   reason\\n|1|3|0xA0",
            "no reason column|5\\t0/10\\n|1|5|0x10",
            "a torn last line is not an entry|1\\t0/3000158\\tr\\n2\\t0/|1|1|0x3000158",
            "empty|''|0|-1|-1",
            "not a history file|hello world\\n|0|-1|-1",
    })
    void parses(String name, String text, int entries, long parent, String lsn) {
        TimelineHistory h = TimelineHistory.parse(text.replace("\\n", "\n").replace("\\t", "\t"));
        assertThat(h.switches()).hasSize(entries);
        assertThat(h.last().map(TimelineHistory.Switch::parent).orElse(-1L)).isEqualTo(parent);
        assertThat(h.last().map(TimelineHistory.Switch::lsn).orElse(-1L)).isEqualTo(Long.decode(lsn));
    }
}
