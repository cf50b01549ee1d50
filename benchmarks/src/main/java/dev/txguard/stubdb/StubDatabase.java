package dev.txguard.stubdb;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.returns;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
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
import java.util.Arrays;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import net.bytebuddy.dynamic.scaffold.subclass.ConstructorStrategy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.implementation.StubMethod;

/**
 * A database that does no work: {@code jdbc:stub:} answers every call at once, a query with one row (a
 * thousand for an {@code ORDER BY}). On H2 and PostgreSQL the database's own time and its spread hide what
 * a proxy adds to a call; against this stub, what is left of a call is the proxy's, so the difference from
 * the raw variant is the proxy's own cost per call, and its allocation, exactly.
 *
 * <p>Its connection, statements and result sets are plain classes: the abstract classes below hold what
 * the benchmarks need, and the hundreds of other JDBC methods are filled in, once, by generated subclasses
 * that answer 1 for an int or a long (an update count of one row) and the type's default otherwise (false,
 * 0, null; nothing for void). So a call allocates nothing the driver does not return. (It used to be made of
 * dynamic proxies, which allocate each call's argument array: whether the JIT removed that array varied
 * with what sat between the benchmark and the stub, so a proxy in front was charged with the stub's bytes.)
 *
 * <p>Its methods are never inlined: the runner starts every variant's JVM with a {@code dontinline} compile
 * command for this package. A stub the JIT can see through lets it fold the benchmark into almost nothing (a
 * prepared select in under a nanosecond, a batch of a hundred rows in 60 ns), and whether it manages that
 * varies from one JVM to the next, with or without a proxy in front (the same variant's batch took 63 ns in
 * one JVM and 533 ns in the next). A real driver's work is not folded away either; behind a call the JIT
 * cannot see into, what stays is the proxy's own.
 *
 * <p>Outside the benchmarks' package, which the agent's activation variants name as the application: a
 * database driver is not application code, and instrumenting the stub would charge those variants for it.
 */
public final class StubDatabase implements Driver {

    private static final String PREFIX = "jdbc:stub:";
    private static final int ROWS_ORDERED = 1000;

    private static final MethodHandle NEW_CONNECTION = constructor(StubConnection.class);
    private static final MethodHandle NEW_STATEMENT = constructor(StubStatement.class, Connection.class, String.class);
    private static final MethodHandle NEW_RESULT_SET = constructor(StubResultSet.class, int.class);
    private static final MethodHandle NEW_META_DATA = constructor(StubMetaData.class);
    private static final MethodHandle NEW_SAVEPOINT = constructor(StubSavepoint.class);
    private static final MethodHandle NEW_DATA_SOURCE = constructor(StubDataSource.class);

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
        try {
            return (StubDataSource) NEW_DATA_SOURCE.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
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
        try {
            return (StubConnection) NEW_CONNECTION.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The concrete class of one of the abstract classes below, loaded beside them, and its constructor: every
     * method the abstract class leaves out answers 1 when it returns an int or a long, and the type's default
     * otherwise. (Byte Buddy applies the last matching rule, so the general one comes first.)
     */
    private static MethodHandle constructor(Class<?> stub, Class<?>... parameters) {
        try {
            Class<?> type = new ByteBuddy()
                    .subclass(stub, ConstructorStrategy.Default.IMITATE_SUPER_CLASS)
                    .method(isAbstract()).intercept(StubMethod.INSTANCE)
                    .method(isAbstract().and(returns(int.class))).intercept(FixedValue.value(1))
                    .method(isAbstract().and(returns(long.class))).intercept(FixedValue.value(1L))
                    .make()
                    .load(stub.getClassLoader(), ClassLoadingStrategy.UsingLookup.of(MethodHandles.lookup()))
                    .getLoaded();
            return MethodHandles.lookup().findConstructor(type, MethodType.methodType(void.class, parameters))
                    .asType(MethodType.methodType(stub, parameters));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    abstract static class StubDataSource implements DataSource {
        @Override
        public Connection getConnection() {
            return connection();
        }

        @Override
        public Connection getConnection(String user, String password) {
            return connection();
        }
    }

    abstract static class StubConnection implements Connection {
        private final DatabaseMetaData metaData;
        private final Savepoint savepoint;
        private boolean autoCommit = true;

        StubConnection() {
            try {
                metaData = (StubMetaData) NEW_META_DATA.invokeExact();
                savepoint = (StubSavepoint) NEW_SAVEPOINT.invokeExact();
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        private PreparedStatement statement(String preparedSql) {
            try {
                return (StubStatement) NEW_STATEMENT.invokeExact((Connection) this, preparedSql);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public DatabaseMetaData getMetaData() {
            return metaData;
        }

        @Override
        public Statement createStatement() {
            return statement(null);
        }

        @Override
        public Statement createStatement(int type, int concurrency) {
            return statement(null);
        }

        @Override
        public Statement createStatement(int type, int concurrency, int holdability) {
            return statement(null);
        }

        @Override
        public PreparedStatement prepareStatement(String sql) {
            return statement(sql);
        }

        @Override
        public PreparedStatement prepareStatement(String sql, int generatedKeys) {
            return statement(sql);
        }

        @Override
        public PreparedStatement prepareStatement(String sql, int[] columnIndexes) {
            return statement(sql);
        }

        @Override
        public PreparedStatement prepareStatement(String sql, String[] columnNames) {
            return statement(sql);
        }

        @Override
        public PreparedStatement prepareStatement(String sql, int type, int concurrency) {
            return statement(sql);
        }

        @Override
        public PreparedStatement prepareStatement(String sql, int type, int concurrency, int holdability) {
            return statement(sql);
        }

        @Override
        public boolean getAutoCommit() {
            return autoCommit;
        }

        @Override
        public void setAutoCommit(boolean autoCommit) {
            this.autoCommit = autoCommit;
        }

        /** Spring refuses to release a null savepoint. */
        @Override
        public Savepoint setSavepoint() {
            return savepoint;
        }

        @Override
        public Savepoint setSavepoint(String name) {
            return savepoint;
        }

        @Override
        public boolean isValid(int timeout) {
            return true;
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("the stub database wraps nothing");
        }
    }

    /** A plain statement (no SQL of its own) or a prepared one. */
    abstract static class StubStatement implements PreparedStatement {
        private final Connection connection;
        private final int preparedRows;
        private int batched;

        StubStatement(Connection connection, String preparedSql) {
            this.connection = connection;
            this.preparedRows = preparedSql == null ? 0 : rows(preparedSql);
        }

        private static int rows(String sql) {
            return sql.contains("ORDER BY") ? ROWS_ORDERED : 1;
        }

        private static ResultSet resultSet(int rows) {
            try {
                return (StubResultSet) NEW_RESULT_SET.invokeExact(rows);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public ResultSet executeQuery() {
            return resultSet(preparedRows);
        }

        @Override
        public ResultSet executeQuery(String sql) {
            return resultSet(rows(sql));
        }

        @Override
        public void addBatch() {
            batched++;
        }

        @Override
        public void addBatch(String sql) {
            batched++;
        }

        @Override
        public int[] executeBatch() {
            int[] counts = new int[batched];
            Arrays.fill(counts, 1);
            batched = 0;
            return counts;
        }

        @Override
        public Connection getConnection() {
            return connection;
        }
    }

    abstract static class StubResultSet implements ResultSet {
        private final int rows;
        private int row;

        StubResultSet(int rows) {
            this.rows = rows;
        }

        @Override
        public boolean next() {
            return ++row <= rows;
        }

        @Override
        public String getString(int column) {
            return "owner";
        }

        @Override
        public String getString(String column) {
            return "owner";
        }
    }

    /** Named as H2 to the proxies that ask. On the paths measured here the product decides only which
     * savepoint statements txguard sends (H2's way: no RELEASE), and the stub answers them all alike. */
    abstract static class StubMetaData implements DatabaseMetaData {
        @Override
        public String getDatabaseProductName() {
            return "H2";
        }

        /** Spring's PROPAGATION_NESTED asks. */
        @Override
        public boolean supportsSavepoints() {
            return true;
        }
    }

    abstract static class StubSavepoint implements Savepoint {
    }
}
