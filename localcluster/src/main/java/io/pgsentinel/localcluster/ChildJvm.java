package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A JVM main class run as a separate process with the test's classpath, so a test can treat
 * it like a host: kill -9 it, freeze it (SIGSTOP, a long GC pause), thaw it. Its command line
 * carries the run directory marker, so the kit's cleanup finds it even after this JVM died.
 * Placed {@link Builder#on on a host} of {@link Hosts}, it runs in that host's network namespace
 * ({@code ip netns exec} execs the JVM in place: {@link #pid()} is the JVM's own).
 */
public final class ChildJvm implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;
    private final Host host;
    private boolean archiveWriter;

    private ChildJvm(String name, Process process, Path log, Host host) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.host = host;
    }

    /** Builds and starts a child JVM. */
    public static Builder builder(String name, String mainClass) {
        return new Builder(name, mainClass, null);
    }

    /**
     * Builds and starts {@code java -jar jar ...} as a person types it: {@code jar} as given
     * (relative paths resolve against {@link Builder#workingDirectory}), not this JVM's class path.
     */
    public static Builder jar(String name, String jar) {
        return new Builder(name, null, jar);
    }

    public static final class Builder {
        private final String name;
        private final String mainClass;
        private final String jar;
        private Path workingDirectory;
        private final List<String> jvmArgs = new ArrayList<>(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        private final List<String> args = new ArrayList<>();
        private Map<String, String> environment = Map.of();
        private Host host = Host.LOOPBACK;
        private boolean shareClasses;

        private Builder(String name, String mainClass, String jar) {
            this.name = name;
            this.mainClass = mainClass;
            this.jar = jar;
        }

        /** Where the process starts (default: a new directory of the run, which also holds its log). */
        public Builder workingDirectory(Path dir) {
            this.workingDirectory = dir;
            return this;
        }

        public Builder jvmArg(String arg) {
            jvmArgs.add(arg);
            return this;
        }

        public Builder args(String... values) {
            args.addAll(List.of(values));
            return this;
        }

        public Builder environment(Map<String, String> env) {
            this.environment = Map.copyOf(env);
            return this;
        }

        /**
         * Shares class data with the other children of this main class that also ask for it (a
         * long-running server's JVM: see {@link ClassArchive}); its class path lists jars before
         * directories, as class data sharing requires.
         */
        public Builder shareClasses() {
            this.shareClasses = true;
            return this;
        }

        /** Runs the JVM on {@code host} (default {@link Host#LOOPBACK}, the machine itself). */
        public Builder on(Host host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        public ChildJvm start() {
            KitRun run = KitRun.get();
            Path dir = run.newDirectory("jvm-" + name + "-");
            Path log = dir.resolve(name + ".log");
            Path argFile = dir.resolve("classpath.args");
            try {
                // the classpath goes in an argument file: command lines have a length limit
                Files.writeString(argFile, "-cp \"" + (shareClasses ? ClassArchive.jarsFirst(absoluteClassPath())
                        : absoluteClassPath()) + "\"\n", StandardCharsets.UTF_8);
                List<String> command = new ArrayList<>();
                command.add(ProcessHandle.current().info().command().orElse("java"));
                command.add("-D" + KitRun.MARKER_PROPERTY + "=" + KitRun.marker(run.dir()));
                command.addAll(jvmArgs);
                ClassArchive.Options cds = jar == null && shareClasses ? ClassArchive.options(run, mainClass)
                        : new ClassArchive.Options(List.of(), false);
                command.addAll(cds.jvmArgs());
                if (jar == null) {
                    command.add("@" + argFile);
                    command.add(mainClass);
                } else {
                    command.add("-jar");
                    command.add(jar);
                }
                command.addAll(args);
                ProcessBuilder builder = new ProcessBuilder(host.wrap(command))
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .directory((workingDirectory == null ? dir : workingDirectory).toFile());
                builder.environment().putAll(environment);
                Process process;
                try {
                    process = builder.start();
                } catch (IOException e) {
                    if (cds.writer()) {
                        ClassArchive.started(mainClass, -1);
                    }
                    throw e;
                }
                if (cds.writer()) {
                    ClassArchive.started(mainClass, process.pid());
                    process.onExit().thenRun(() -> ClassArchive.exited(run, mainClass, process.pid()));
                }
                ChildJvm child = new ChildJvm(name, process, log, host);
                child.archiveWriter = cds.writer();
                run.register(child);
                return child;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start child JVM " + name, e);
            }
        }
    }

    /**
     * This JVM's class path with every entry made absolute: the child runs in a directory of its
     * own, where a relative entry ({@code java -jar sentinel/target/pg-sentinel.jar}) names nothing.
     */
    public static String absoluteClassPath() {
        String separator = java.io.File.pathSeparator;
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.util.regex.Pattern.quote(separator))) {
            if (!entry.isEmpty()) {
                entries.add(Path.of(entry).toAbsolutePath().normalize().toString());
            }
        }
        return String.join(separator, entries);
    }

    public String name() {
        return name;
    }

    /** The JVM's pid (also on a host: {@code ip netns exec} replaces itself with the JVM). */
    public long pid() {
        return process.pid();
    }

    /** Where the JVM runs. */
    public Host runsOn() {
        return host;
    }

    public Path log() {
        return log;
    }

    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL, as a host loss; waits until the process is gone. */
    public void kill9() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /** SIGTERM (a systemd stop), waiting up to {@code timeout}, then SIGKILL. */
    public void stop(Duration timeout) {
        process.destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill9();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOP, returning once the process is stopped. */
    public void freeze() {
        Processes.freeze(java.util.List.of(pid()));
    }

    public void thaw() {
        Processes.signal("CONT", pid());
    }

    public boolean isFrozen() {
        return "T".equals(Processes.state(pid()));
    }

    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " did not exit within " + timeout.toMillis() + " ms");
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive() && archiveWriter && !isFrozen()) {
            stop(Duration.ofSeconds(15)); // a clean exit writes the class archive the next children map
        }
        if (process.isAlive()) {
            kill9();
        }
        KitRun.get().unregister(this);
    }

    @Override
    public String toString() {
        return "ChildJvm[" + name + " pid " + pid() + (host == Host.LOOPBACK ? "" : " on " + host) + "]";
    }
}
