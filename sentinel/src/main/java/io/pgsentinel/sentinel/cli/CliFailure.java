package io.pgsentinel.sentinel.cli;

/** A CLI failure with its exit code and a one-line message for the operator. */
final class CliFailure extends Exception {
    private final int exitCode;

    CliFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
