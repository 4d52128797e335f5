package io.pgsentinel.sentinel.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A PostgreSQL parameter's value checked against the server's pg_settings rows (as PostgreSQL 15 has them). */
class PgParametersTest {
    static final Map<String, PgParameters.Setting> PG15 = Map.of(
            "work_mem", new PgParameters.Setting("work_mem", "integer", "user", "kB", "64", "2147483647", List.of()),
            "max_connections", new PgParameters.Setting("max_connections", "integer", "postmaster", null, "1",
                    "262143", List.of()),
            "random_page_cost", new PgParameters.Setting("random_page_cost", "real", "user", null, "0",
                    "1.79769e+308", List.of()),
            "log_min_messages", new PgParameters.Setting("log_min_messages", "enum", "superuser", null, null, null,
                    List.of("debug5", "debug1", "info", "notice", "warning", "error", "log", "fatal", "panic")),
            "log_connections", new PgParameters.Setting("log_connections", "bool", "superuser-backend", null, null,
                    null, List.of()),
            "block_size", new PgParameters.Setting("block_size", "integer", "internal", null, "8192", "8192", List.of()),
            "log_line_prefix", new PgParameters.Setting("log_line_prefix", "string", "sighup", null, null, null,
                    List.of()));

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("work_mem", "8MB", null),
                Arguments.of("work_mem", "4096", null),
                Arguments.of("work_mem", "12", "between 64 and 2147483647"),
                Arguments.of("work_mem", "lots", "a whole number"),
                Arguments.of("work_mem", "1.5", "a whole number"),
                Arguments.of("max_connections", "200", null),
                Arguments.of("max_connections", "200MB", "takes no unit"),
                Arguments.of("random_page_cost", "1.1", null),
                Arguments.of("log_min_messages", "WARNING", null),
                Arguments.of("log_min_messages", "loud", "must be one of debug5"),
                Arguments.of("log_connections", "on", null),
                Arguments.of("log_connections", "maybe", "a boolean"),
                Arguments.of("block_size", "16384", "cannot be set"),
                Arguments.of("log_line_prefix", "%m [%p] ", null),
                Arguments.of("no_such_thing", "1", "the server has no parameter no_such_thing"),
                Arguments.of("pg_stat_statements.track", "all", null));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("cases")
    void eachValueIsCheckedAsTheServerWouldTakeIt(String name, String value, String problem) {
        String found = PgParameters.problem(name, value, PG15);
        if (problem == null) {
            assertThat(found).isNull();
        } else {
            assertThat(found).contains(problem);
        }
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("literals")
    void valuesBecomeSqlLiterals(String name, String value, String sql) {
        assertThat(PgParameters.value(name, value)).isEqualTo(sql);
    }

    static Stream<Arguments> literals() {
        return Stream.of(
                Arguments.of("work_mem", "8MB", "'8MB'"),
                Arguments.of("log_line_prefix", "it's %m, %p", "'it''s %m, %p'"),
                Arguments.of("shared_preload_libraries", "pg_stat_statements, auto_explain",
                        "'pg_stat_statements', 'auto_explain'"));
    }
}
