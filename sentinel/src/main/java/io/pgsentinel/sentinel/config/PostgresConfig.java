package io.pgsentinel.sentinel.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.validation.ValidationMethod;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/** {@code postgres:} the local PostgreSQL server and how to control it. */
public class PostgresConfig {
    static final Set<String> SSL_MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    @Min(1)
    @Max(65535)
    @JsonProperty
    public int port = 5432;

    @NotEmpty
    @JsonProperty
    public String database = "postgres";

    @NotEmpty
    @JsonProperty
    public String user = "postgres";

    /** A file holding the password (first line); never the password itself. */
    @JsonProperty
    public String passwordFile = "";

    @NotEmpty
    @JsonProperty
    public String dataDirectory;

    /** Where pg_ctl, pg_rewind and pg_basebackup are. */
    @NotEmpty
    @JsonProperty
    public String binDirectory = "/usr/lib/postgresql/15/bin";

    /** Optional override of the start command, e.g. {@code systemctl start postgresql@15-main}. */
    @JsonProperty
    public String startCommand = "";

    /** Optional override of the stop command; default: pg_ctl stop on the data directory. */
    @JsonProperty
    public String stopCommand = "";

    @NotEmpty
    @JsonProperty
    public String sslMode = "prefer";

    /** Optional root certificate for sslMode verify-ca / verify-full. */
    @JsonProperty
    public String sslRootCert = "";

    /** An existing directory, or, for a new node that its sentinel clones on start, an absent one in an existing directory. */
    @ValidationMethod(message = "postgres.dataDirectory must be an existing directory, or absent in an existing "
            + "directory (a new node, cloned on start)")
    public boolean isDataDirectoryPresent() {
        if (dataDirectory == null || dataDirectory.isEmpty()) {
            return true;
        }
        Path dir = Path.of(dataDirectory).toAbsolutePath();
        return Files.isDirectory(dir) || (Files.notExists(dir) && dir.getParent() != null
                && Files.isDirectory(dir.getParent()));
    }

    @ValidationMethod(message = "postgres.binDirectory must hold pg_ctl (the PostgreSQL server binaries)")
    public boolean isBinDirectoryValid() {
        return binDirectory == null || binDirectory.isEmpty() || Files.isExecutable(Path.of(binDirectory, "pg_ctl"));
    }

    @ValidationMethod(message = "postgres.passwordFile must be a readable file")
    public boolean isPasswordFileReadable() {
        return Secrets.isReadableOrUnset(passwordFile);
    }

    @ValidationMethod(message = "postgres.sslMode must be one of disable, allow, prefer, require, verify-ca, verify-full")
    public boolean isSslModeValid() {
        return sslMode == null || SSL_MODES.contains(sslMode);
    }

    @ValidationMethod(message = "postgres.sslRootCert must be a readable file")
    public boolean isSslRootCertReadable() {
        return Secrets.isReadableOrUnset(sslRootCert);
    }
}
