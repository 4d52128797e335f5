package io.pgsentinel.sentinel.postgres;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The cluster's PostgreSQL parameters on a server: checked against its {@code pg_settings}
 * before they are accepted, and applied with ALTER SYSTEM and a reload.
 */
public final class PgParameters {
    /** Parameters whose value is a list that ALTER SYSTEM takes as separate literals. */
    private static final Set<String> LIST_VALUED = Set.of("shared_preload_libraries", "local_preload_libraries",
            "session_preload_libraries", "search_path", "temp_tablespaces", "unix_socket_directories");
    private static final Pattern NUMBER_WITH_UNIT = Pattern.compile("-?[0-9]+(\\.[0-9]+)?\\s*([a-zA-Z]+)?");
    private static final Set<String> BOOLEANS = Set.of("on", "off", "true", "false", "yes", "no", "1", "0");

    /** One row of {@code pg_settings}. */
    public record Setting(String name, String vartype, String context, String unit, String minVal, String maxVal,
                          List<String> enumVals) {
        /** Whether a change takes effect only after a restart. */
        public boolean needsRestart() {
            return "postmaster".equals(context);
        }
    }

    private final Jdbc jdbc;

    public PgParameters(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    /** The server's {@code pg_settings}, by name. */
    public Map<String, Setting> settings(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            Map<String, Setting> all = new TreeMap<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT name, vartype, context, unit, min_val, max_val, enumvals "
                         + "FROM pg_settings")) {
                while (rs.next()) {
                    java.sql.Array e = rs.getArray(7);
                    List<String> enums = e == null ? List.of() : Arrays.asList((String[]) e.getArray());
                    all.put(rs.getString(1), new Setting(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getString(6), enums));
                }
            }
            return all;
        });
    }

    /**
     * Why {@code value} is no good for parameter {@code name} on a server with {@code settings},
     * or null when it is. A name with a dot is an extension's (custom) parameter: any value.
     */
    public static String problem(String name, String value, Map<String, Setting> settings) {
        Setting s = settings.get(name);
        if (s == null) {
            return name.contains(".") ? null : "the server has no parameter " + name;
        }
        switch (s.context()) {
            case "internal":
                return name + " is fixed when the server is built or initialized: it cannot be set";
            default:
                break;
        }
        switch (s.vartype()) {
            case "bool":
                return BOOLEANS.contains(value.toLowerCase(Locale.ROOT)) ? null
                        : name + " is a boolean: on or off, got '" + value + "'";
            case "enum":
                return s.enumVals().stream().anyMatch(v -> v.equalsIgnoreCase(value)) ? null
                        : name + " must be one of " + String.join(", ", s.enumVals()) + ", got '" + value + "'";
            case "integer":
            case "real": {
                var m = NUMBER_WITH_UNIT.matcher(value);
                if (!m.matches() || ("integer".equals(s.vartype()) && m.group(1) != null && m.group(2) == null)) {
                    return name + " must be " + ("integer".equals(s.vartype()) ? "a whole number" : "a number")
                            + (s.unit() == null ? "" : " (in " + s.unit() + ", or with a unit like 8MB or 200ms)")
                            + ", got '" + value + "'";
                }
                if (m.group(2) != null) {
                    return s.unit() == null ? name + " takes no unit, got '" + value + "'" : null;
                }
                double v = Double.parseDouble(value);
                if (s.minVal() != null && v < Double.parseDouble(s.minVal())
                        || s.maxVal() != null && v > Double.parseDouble(s.maxVal())) {
                    return name + " must be between " + s.minVal() + " and " + s.maxVal()
                            + (s.unit() == null ? "" : " (" + s.unit() + ")") + ", got " + value;
                }
                return null;
            }
            default:
                return null;
        }
    }

    /** The parameters as {@code postgresql.auto.conf} holds them now (what ALTER SYSTEM wrote). */
    public Map<String, String> altered(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            Map<String, String> auto = new TreeMap<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT name, setting FROM pg_file_settings "
                         + "WHERE sourcefile LIKE '%/postgresql.auto.conf' ORDER BY seqno")) {
                while (rs.next()) {
                    auto.put(rs.getString(1), rs.getString(2));
                }
            }
            return auto;
        });
    }

    /**
     * Sets each of {@code set} and resets each of {@code reset} with ALTER SYSTEM, then reloads;
     * returns the names it changed.
     */
    public List<String> apply(String host, int port, Map<String, String> set, Set<String> reset, Duration timeout)
            throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            List<String> changed = new ArrayList<>();
            try (Statement s = c.createStatement()) {
                for (Map.Entry<String, String> e : set.entrySet()) {
                    s.execute("ALTER SYSTEM SET " + identifier(e.getKey()) + " = " + value(e.getKey(), e.getValue()));
                    changed.add(e.getKey());
                }
                for (String name : reset) {
                    s.execute("ALTER SYSTEM RESET " + identifier(name));
                    changed.add(name);
                }
                if (!changed.isEmpty()) {
                    s.execute("SELECT pg_reload_conf()");
                }
            }
            return changed;
        });
    }

    /** A parameter name as SQL: checked by the settings' name rule, quoted for the dot of an extension's. */
    static String identifier(String name) {
        if (!name.matches("[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?")) {
            throw new IllegalArgumentException("not a parameter name: " + name);
        }
        return name;
    }

    /** The value as SQL literals: one per element for a list-valued parameter, else one. */
    static String value(String name, String value) {
        if (LIST_VALUED.contains(name)) {
            List<String> parts = Arrays.stream(value.split(",")).map(String::strip).filter(p -> !p.isEmpty())
                    .map(PgControl::literal).toList();
            return parts.isEmpty() ? "''" : String.join(", ", parts);
        }
        return PgControl.literal(value);
    }

}
