package io.pgsentinel.localcluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Class data sharing for the child JVMs of a run: the first JVM of a main class writes an
 * archive of the classes it loaded when it exits cleanly (-XX:ArchiveClassesAtExit), and the
 * next ones map it instead of loading and verifying those classes again. A sentinel then starts
 * about a third faster, which matters with three of them starting at once on two cores. The
 * archive is written under a name of its own and moved in place once its JVM is gone, so no JVM
 * ever maps a partial file; a JVM killed before it exits writes none, and the next one tries.
 * A stale or unusable archive is ignored by the JVM (-Xshare:auto), never an error.
 */
final class ClassArchive {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClassArchive.class);
    private static final Map<String, Long> WRITERS = new ConcurrentHashMap<>();

    private ClassArchive() {
    }

    /**
     * The class path with its jars first and its directories last: classes are archived from
     * jars only, and the JVM refuses to write an archive when a non-empty directory comes before
     * a jar it archived from ("Cannot have non-empty directory in paths", exit code 1).
     */
    static String jarsFirst(String classPath) {
        String separator = java.io.File.pathSeparator;
        List<String> entries = List.of(classPath.split(java.util.regex.Pattern.quote(separator)));
        List<String> ordered = new java.util.ArrayList<>(entries.stream().filter(e -> !Files.isDirectory(Path.of(e))).toList());
        ordered.addAll(entries.stream().filter(e -> Files.isDirectory(Path.of(e))).toList());
        return String.join(separator, ordered);
    }

    private static Path archive(KitRun run, String mainClass) {
        return run.dir().resolve("cds").resolve(mainClass + ".jsa");
    }

    private static Path partial(KitRun run, String mainClass) {
        return run.dir().resolve("cds").resolve(mainClass + ".jsa.partial");
    }

    /** The JVM options for a new child running {@code mainClass}; {@code writer} says whether it writes the archive. */
    record Options(List<String> jvmArgs, boolean writer) {
    }

    static Options options(KitRun run, String mainClass) {
        Path archive = archive(run, mainClass);
        if (Files.isRegularFile(archive)) {
            return new Options(List.of("-Xshare:auto", "-Xlog:cds*=off", "-XX:SharedArchiveFile=" + archive), false);
        }
        // one writer at a time: the first child claims it, and its pid is recorded once it started
        if (WRITERS.putIfAbsent(mainClass, -1L) != null) {
            return new Options(List.of(), false);
        }
        try {
            Files.createDirectories(archive.getParent());
            Files.deleteIfExists(partial(run, mainClass));
        } catch (IOException e) {
            WRITERS.remove(mainClass);
            return new Options(List.of(), false);
        }
        return new Options(List.of("-Xlog:cds*=off", "-XX:ArchiveClassesAtExit=" + partial(run, mainClass)), true);
    }

    /** The writer started as {@code pid}, or did not start ({@code pid} -1). */
    static void started(String mainClass, long pid) {
        if (pid < 0) {
            WRITERS.remove(mainClass);
        } else {
            WRITERS.put(mainClass, pid);
        }
    }

    /** The writer exited: its archive, if it wrote one, is moved in place; if not, the next child tries. */
    static void exited(KitRun run, String mainClass, long pid) {
        if (!WRITERS.remove(mainClass, pid)) {
            return;
        }
        Path partial = partial(run, mainClass);
        try {
            if (Files.isRegularFile(partial) && Files.size(partial) > 0) {
                long bytes = Files.size(partial);
                Files.move(partial, archive(run, mainClass), StandardCopyOption.ATOMIC_MOVE);
                LOG.info("kit: class data archive of {} written ({} MB): the next JVMs map it", mainClass,
                        bytes >> 20);
            } else {
                Files.deleteIfExists(partial);
            }
        } catch (IOException e) {
            // no archive this time: every child still runs, loading its classes itself
        }
    }
}
