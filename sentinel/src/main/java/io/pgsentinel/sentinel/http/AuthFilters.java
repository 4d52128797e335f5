package io.pgsentinel.sentinel.http;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;

/** The request filters that enforce {@link ApiAuth}. */
public final class AuthFilters {
    private AuthFilters() {
    }

    /** On every {@link Mutating} endpoint. */
    @Mutating
    @Priority(Priorities.AUTHENTICATION)
    public static final class MutatingFilter implements ContainerRequestFilter {
        private final ApiAuth auth;

        public MutatingFilter(ApiAuth auth) {
            this.auth = auth;
        }

        @Override
        public void filter(ContainerRequestContext request) {
            auth.check(request, request.getMethod() + " /" + request.getUriInfo().getPath());
        }
    }

    /** On every endpoint, when {@code api.readRequiresAuth}. */
    @Priority(Priorities.AUTHENTICATION)
    public static final class ReadFilter implements ContainerRequestFilter {
        private final ApiAuth auth;

        public ReadFilter(ApiAuth auth) {
            this.auth = auth;
        }

        @Override
        public void filter(ContainerRequestContext request) {
            // the status page holds no data: it asks for the token and sends it with its own reads
            if (request.getMethod().equals("GET") && StatusPageResource.isPage(request.getUriInfo().getPath())) {
                return;
            }
            auth.check(request, "this sentinel's API");
        }
    }
}
