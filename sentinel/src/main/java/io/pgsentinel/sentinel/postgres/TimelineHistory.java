package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.sentinel.model.Lsn;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A timeline history file ({@code pg_wal/0000002A.history}) as PostgreSQL writes it: one line
 * per switch, "parent timeline, tab, switch point, tab, reason", with comments and blank lines
 * skipped. The last entry is where this timeline forked from its parent.
 */
public record TimelineHistory(List<Switch> switches) {
    /** One entry: the timeline {@code parent} ended at {@code lsn}. */
    public record Switch(long parent, long lsn, String reason) {
    }

    private static final Pattern LINE = Pattern.compile("^\\s*(\\d+)\\s+([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8})\\b\\s*(.*)$");

    public TimelineHistory {
        switches = List.copyOf(switches);
    }

    /** Parses a history file's text; lines that are not entries (comments, blanks) are skipped. */
    public static TimelineHistory parse(String text) {
        List<Switch> switches = new ArrayList<>();
        for (String line : text == null ? List.<String>of() : text.lines().toList()) {
            if (line.strip().startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                switches.add(new Switch(Long.parseLong(m.group(1)), Lsn.parse(m.group(2)), m.group(3).strip()));
            }
        }
        return new TimelineHistory(switches);
    }

    /** The last entry: this timeline's parent and its fork point, if the file has any entry. */
    public Optional<Switch> last() {
        return switches.isEmpty() ? Optional.empty() : Optional.of(switches.get(switches.size() - 1));
    }
}
