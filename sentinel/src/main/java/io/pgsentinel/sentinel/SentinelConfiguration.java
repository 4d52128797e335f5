package io.pgsentinel.sentinel;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.core.Configuration;
import jakarta.validation.constraints.NotEmpty;

/** The sentinel's YAML configuration (../shared/DESIGN.md, "Configuration"). */
public class SentinelConfiguration extends Configuration {
    @NotEmpty
    private String cluster;

    @JsonProperty
    public String getCluster() {
        return cluster;
    }

    @JsonProperty
    public void setCluster(String cluster) {
        this.cluster = cluster;
    }
}
