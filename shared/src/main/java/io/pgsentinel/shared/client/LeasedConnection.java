package io.pgsentinel.shared.client;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * A connection lent by a {@link MemberPool} (or handed out by {@link PgSentinelDriver}): the
 * physical connection behind a proxy that can be revoked. Once revoked (its server stopped being the primary), every call on it and on the
 * statements made from it fails with SQLSTATE 08006, and the physical connection is aborted so
 * that a statement already running fails too, instead of being acknowledged by a demoted server.
 */
final class LeasedConnection {
    /** SQLSTATE "connection failure": pools and applications retry on it. */
    static final String REVOKED_SQLSTATE = "08006";
    private static final Set<String> ALWAYS_ALLOWED = Set.of("close", "isClosed", "isValid", "toString", "hashCode",
            "equals", "unwrap", "isWrapperFor", "getWarnings", "clearWarnings");
    private static final Executor ABORT_INLINE = Runnable::run;

    /** Who lent it: told when it is closed, named in its description. */
    interface Owner {
        void returned(LeasedConnection lease);

        String describe();
    }

    private final Connection physical;
    private final Owner pool;
    private final long epoch;
    private final Connection proxy;
    private volatile String revokedBecause;

    LeasedConnection(Connection physical, Owner pool, long epoch) {
        this.physical = physical;
        this.pool = pool;
        this.epoch = epoch;
        this.proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, new ConnectionHandler());
    }

    Connection proxy() {
        return proxy;
    }

    void revoke(String why) {
        revokedBecause = why;
        try {
            // the driver's connection, not HikariCP's proxy: abort closes the socket at once
            Connection driver = physical.isWrapperFor(Connection.class) ? physical.unwrap(Connection.class) : physical;
            driver.abort(ABORT_INLINE);
        } catch (SQLException | RuntimeException e) {
            // already broken: that is the goal
        }
    }

    private void checkNotRevoked() throws SQLException {
        String why = revokedBecause;
        if (why != null) {
            throw new SQLNonTransientConnectionException("connection revoked: " + why + " (it was lent at topology epoch "
                    + epoch + ")", REVOKED_SQLSTATE);
        }
    }

    private Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private final class ConnectionHandler implements InvocationHandler {
        @Override
        public Object invoke(Object self, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("close")) {
                pool.returned(LeasedConnection.this);
                return call(physical, method, args);
            }
            if (name.equals("equals")) {
                return self == args[0];
            }
            if (name.equals("hashCode")) {
                return System.identityHashCode(self);
            }
            if (name.equals("toString")) {
                return "RoutedConnection[" + pool.describe() + ", epoch " + epoch
                        + (revokedBecause == null ? "" : ", revoked") + "]";
            }
            if (!ALWAYS_ALLOWED.contains(name)) {
                checkNotRevoked();
            }
            Object result = call(physical, method, args);
            if (result instanceof Statement statement) {
                return wrapStatement(statement, method.getReturnType());
            }
            return result;
        }
    }

    private Object wrapStatement(Statement statement, Class<?> declared) {
        Class<?> iface = CallableStatement.class.isAssignableFrom(declared) ? CallableStatement.class
                : PreparedStatement.class.isAssignableFrom(declared) ? PreparedStatement.class : Statement.class;
        return Proxy.newProxyInstance(Statement.class.getClassLoader(), new Class<?>[] {iface}, (self, method, args) -> {
            String name = method.getName();
            if (name.equals("getConnection")) {
                return proxy;
            }
            if (name.equals("equals")) {
                return self == args[0];
            }
            if (name.equals("hashCode")) {
                return System.identityHashCode(self);
            }
            if (!ALWAYS_ALLOWED.contains(name)) {
                checkNotRevoked();
            }
            return call(statement, method, args);
        });
    }
}
