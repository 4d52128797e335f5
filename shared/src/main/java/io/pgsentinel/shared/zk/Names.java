package io.pgsentinel.shared.zk;

import java.util.regex.Pattern;

/**
 * Validation of the names that become ZooKeeper path segments: cluster names and node ids.
 * One segment each, so no {@code /}; ASCII letters, digits, {@code . _ -}; 1 to 63 characters,
 * starting with a letter or digit (which also rules out ZooKeeper's reserved "." and "..").
 */
public final class Names {
    public static final int MAX_LENGTH = 63;
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private Names() {
    }

    /** Returns {@code name} or throws an {@link IllegalArgumentException} that names {@code what}. */
    public static String requireValid(String what, String name) {
        String problem = problem(name);
        if (problem != null) {
            throw new IllegalArgumentException(what + " " + problem);
        }
        return name;
    }

    /** Why {@code name} is not a valid segment, or null when it is. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "must not be empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "must be at most " + MAX_LENGTH + " characters, got " + name.length();
        }
        if (name.contains("/")) {
            return "must not contain '/': got '" + printable(name) + "'";
        }
        if (!VALID.matcher(name).matches()) {
            return "may hold only letters, digits, '.', '_' and '-', starting with a letter or digit: got '"
                    + printable(name) + "'";
        }
        return null;
    }

    /** A ZooKeeper root path: absolute, no trailing slash, valid segments. */
    public static String requireValidRoot(String root) {
        if (root == null || !root.startsWith("/") || root.length() < 2 || root.endsWith("/")) {
            throw new IllegalArgumentException("zookeeper root must be an absolute path like /pg-sentinel, without a "
                    + "trailing '/': got '" + (root == null ? "" : printable(root)) + "'");
        }
        for (String segment : root.substring(1).split("/", -1)) {
            String problem = problem(segment);
            if (problem != null) {
                throw new IllegalArgumentException("zookeeper root segment '" + printable(segment) + "' " + problem);
            }
        }
        return root;
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
