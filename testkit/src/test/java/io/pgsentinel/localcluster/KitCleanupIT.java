package io.pgsentinel.localcluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class KitCleanupIT {

    @Test
    void afterCloseNoProcessOfTheClusterIsLeftAndItsFilesAreGone() {
        PgCluster cluster = PgCluster.builder().replicas(1).start();
        List<Long> postmasters = cluster.nodes().stream().map(PgNode::requirePostmasterPid).toList();
        String marker = cluster.directory() + "/";
        assertThat(Processes.withCommandLineContaining(marker)).containsAll(postmasters);
        cluster.primary().freeze(); // a frozen server must not stop the cleanup

        cluster.close();

        assertThat(Processes.withCommandLineContaining(marker)).isEmpty();
        assertThat(postmasters).noneMatch(Processes::isAlive);
        assertThat(Files.exists(cluster.directory())).isFalse();
    }

    @Test
    void aChildJvmCanBeFrozenThawedAndKilledAndCarriesTheRunMarker() {
        ChildJvm child = ChildJvm.builder("sleeper", Sleeper.class.getName()).start();
        try {
            Await.until("child to print its greeting", Duration.ofSeconds(30), () -> child.logText().contains("sleeping"));
            assertThat(Processes.commandLine(child.pid())).contains(KitRun.marker(KitRun.get().dir()));
            assertThat(KitRun.get().leftoverProcesses()).contains(child.pid());

            child.freeze();
            Await.until("child to be stopped", Duration.ofSeconds(5), child::isFrozen);
            child.thaw();
            Await.until("child to run again", Duration.ofSeconds(5), () -> !child.isFrozen());

            child.kill9();
            assertThat(child.isAlive()).isFalse();
            assertThat(KitRun.get().leftoverProcesses()).doesNotContain(child.pid());
        } finally {
            child.close();
        }
    }

    /** The child process of the test above. */
    public static final class Sleeper {
        public static void main(String[] args) throws InterruptedException {
            System.out.println("sleeping");
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
