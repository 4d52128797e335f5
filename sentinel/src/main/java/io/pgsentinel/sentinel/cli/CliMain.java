package io.pgsentinel.sentinel.cli;

/** Ends a CLI command with its exit code: 0, or a {@link CliFailure}'s code with its message on stderr. */
final class CliMain {
    /** A command body that returns an exit code. */
    @FunctionalInterface
    interface Body {
        int run() throws Exception;
    }

    private CliMain() {
    }

    static void exit(Body body) {
        int code;
        try {
            code = body.run();
        } catch (CliFailure e) {
            System.err.println("error: " + e.getMessage());
            code = e.exitCode();
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            code = 1;
        }
        System.out.flush();
        System.exit(code);
    }
}
