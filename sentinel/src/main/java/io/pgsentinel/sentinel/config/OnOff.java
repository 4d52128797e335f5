package io.pgsentinel.sentinel.config;

import java.util.Set;

/**
 * An on/off setting. YAML reads an unquoted {@code on} or {@code off} as a boolean, so both
 * forms are accepted; anything else is refused by the setting's validation, naming it.
 */
final class OnOff {
    private static final Set<String> VALID = Set.of("on", "off", "true", "false");

    private OnOff() {
    }

    /** The value as read from YAML, a boolean or a word, as a word. */
    static String read(Object value) {
        return value instanceof Boolean b ? (b ? "on" : "off") : String.valueOf(value);
    }

    static boolean isOn(String value) {
        return "on".equals(value) || "true".equals(value);
    }

    static boolean isValid(String value) {
        return value != null && VALID.contains(value);
    }
}
