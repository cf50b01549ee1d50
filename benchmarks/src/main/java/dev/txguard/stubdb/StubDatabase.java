package dev.txguard.stubdb;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A database that does no work: {@code jdbc:stub:} answers every call at once, a query with one row (a
 * thousand for an {@code ORDER BY}). On H2 and PostgreSQL the database's own time and its spread hide what
 * a proxy adds to a call; against this stub, what is left of a call is the proxy's, so the difference from
 * the raw variant is the proxy's own cost per call, and its allocation, exactly.
 *
 * <p>Outside the benchmarks' package, which the agent's activation variants name as the application: a
 * database driver is not application code, and instrumenting the stub would charge those variants for it.
 */
public final class StubDatabase implements Driver {

    private static final String PREFIX = "jdbc:stub:";
    private static final int ROWS_ORDERED = 1000;

    static {
        try {
            DriverManager.registerDriver(new StubDatabase());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Registers the driver with DriverManager, once. */
    public static void register() {
        // the static initialiser does it
    }

    public static DataSource dataSource() {
        return stub(DataSource.class, (p, m, a) -> m.getName().equals("getConnection") ? connection() : defaultFor(m.getReturnType()));
    }

    @Override
    public Connection connect(String url, Properties info) {
        return acceptsURL(url) ? connection() : null;
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("the stub database has no logger");
    }

    private static Connection connection() {
        // Named as H2 to the proxies that ask. On the paths measured here the product decides only which savepoint
        // statements txguard sends (H2's way: no RELEASE), and the stub answers them all alike.
        DatabaseMetaData metaData = stub(DatabaseMetaData.class, (p, m, a) -> {
            switch (m.getName()) {
                case "getDatabaseProductName": return "H2";
                case "supportsSavepoints": return Boolean.TRUE; // Spring's PROPAGATION_NESTED asks
                default: return defaultFor(m.getReturnType());
            }
        });
        Savepoint savepoint = stub(Savepoint.class, (p, m, a) -> defaultFor(m.getReturnType()));
        boolean[] autoCommit = {true};
        Connection[] self = new Connection[1];
        self[0] = stub(Connection.class, (p, m, a) -> {
            switch (m.getName()) {
                case "getMetaData": return metaData;
                case "prepareStatement": return statement(PreparedStatement.class, self[0], (String) a[0]);
                case "createStatement": return statement(Statement.class, self[0], null);
                case "getAutoCommit": return autoCommit[0];
                case "setAutoCommit":
                    autoCommit[0] = (Boolean) a[0];
                    return null;
                case "setSavepoint": return savepoint; // Spring refuses to release a null one
                case "isValid": return Boolean.TRUE;
                case "isWrapperFor": return Boolean.FALSE;
                case "unwrap": throw new SQLException("the stub database wraps nothing");
                default: return defaultFor(m.getReturnType());
            }
        });
        return self[0];
    }

    private static <T extends Statement> T statement(Class<T> type, Connection connection, String preparedSql) {
        int[] batch = {0};
        return stub(type, (p, m, a) -> {
            switch (m.getName()) {
                case "executeQuery": {
                    String sql = preparedSql != null ? preparedSql : (String) a[0];
                    return resultSet(sql.contains("ORDER BY") ? ROWS_ORDERED : 1);
                }
                case "addBatch":
                    batch[0]++;
                    return null;
                case "executeBatch": {
                    int[] counts = new int[batch[0]];
                    java.util.Arrays.fill(counts, 1);
                    batch[0] = 0;
                    return counts;
                }
                case "getConnection": return connection;
                case "isWrapperFor": return Boolean.FALSE;
                default: return defaultFor(m.getReturnType());
            }
        });
    }

    private static ResultSet resultSet(int rows) {
        int[] row = {0};
        return stub(ResultSet.class, (p, m, a) -> {
            switch (m.getName()) {
                case "next": return ++row[0] <= rows;
                case "getString": return "owner";
                case "isWrapperFor": return Boolean.FALSE;
                default: return defaultFor(m.getReturnType());
            }
        });
    }

    /** Constants only (small boxed values are the JDK's cached ones), so a call allocates the same each time. */
    private static Object defaultFor(Class<?> type) {
        if (type == boolean.class) return Boolean.FALSE;
        if (type == int.class) return 1;
        if (type == long.class) return 1L;
        if (type == short.class) return (short) 0;
        if (type == byte.class) return (byte) 0;
        if (type == float.class) return 0f;
        if (type == double.class) return 0d;
        return null;
    }

    @SuppressWarnings("unchecked")
    private static <T> T stub(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(StubDatabase.class.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
