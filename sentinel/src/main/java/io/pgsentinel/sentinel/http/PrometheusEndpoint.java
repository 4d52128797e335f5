package io.pgsentinel.sentinel.http;

import io.dropwizard.core.setup.Environment;
import io.prometheus.metrics.exporter.servlet.jakarta.PrometheusMetricsServlet;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * {@code /metrics/prometheus} on the admin port: every Dropwizard metric in the Prometheus text
 * format, through Prometheus' own Dropwizard bridge (no hand-written exposition).
 */
public final class PrometheusEndpoint {
    private PrometheusEndpoint() {
    }

    public static void register(Environment env) {
        PrometheusRegistry registry = new PrometheusRegistry();
        DropwizardExports.builder().dropwizardRegistry(env.metrics()).register(registry);
        env.admin().addServlet("prometheus", new PrometheusMetricsServlet(registry)).addMapping("/metrics/prometheus");
    }
}
