package io.pgsentinel.sentinel.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgsentinel.sentinel.SentinelApplication;
import org.junit.jupiter.api.Test;

class LocalSentinelTest {
    @Test
    void theMainClassNamedByTheDemoIsTheApplication() {
        assertThat(LocalSentinel.MAIN_CLASS).isEqualTo(SentinelApplication.class.getName());
    }
}
