package io.pgsentinel.localcluster;

/** The shutdown modes of {@code pg_ctl stop -m}. */
public enum StopMode {
    SMART, FAST, IMMEDIATE;

    public String pgCtlName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
