package io.pgsentinel.sentinel;

import io.dropwizard.core.Application;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.pgsentinel.sentinel.config.SentinelConfiguration;

/** The sentinel daemon: {@code server config.yml} runs it, {@code check config.yml} validates. */
public final class SentinelApplication extends Application<SentinelConfiguration> {

    public static void main(String[] args) throws Exception {
        new SentinelApplication().run(args);
    }

    @Override
    public String getName() {
        return "pg-sentinel";
    }

    @Override
    public void initialize(Bootstrap<SentinelConfiguration> bootstrap) {
        // commands and bundles are added by later parts of the daemon
    }

    @Override
    public void run(SentinelConfiguration configuration, Environment environment) {
        // wiring of the sentinel's parts happens here
    }
}
