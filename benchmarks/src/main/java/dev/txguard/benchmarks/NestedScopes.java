package dev.txguard.benchmarks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Issue 4 part 3: an outer transaction with one insert, around a nested unit of work with one insert
 * (or none: an empty nested scope), done the ways an application can do it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NestedScopes {

    /** The nested work done by hand with setSavepoint/releaseSavepoint: the baseline. */
    static final String HANDWRITTEN = "handwritten-savepoint";
    /** Legacy code (an inner begin/commit/restore) through txguard. */
    static final String TXGUARD = "txguard";
    static final String TXGUARD_EMPTY = "txguard-empty-inner";
    /** The same legacy code, in a JVM with the agent and the benchmarks named as the application (see Main). */
    static final String ACTIVATIONS = "txguard-activations";
    static final String ACTIVATIONS_EMPTY = "txguard-activations-empty-inner";
    static final String SPRING = "spring-nested";
    static final String SPRING_EMPTY = "spring-nested-empty-inner";
    /** The same two inserts with no nesting at all: what the work costs without any savepoint. */
    static final String FLAT = "raw-flat";

    @Param({HANDWRITTEN, TXGUARD, TXGUARD_EMPTY, ACTIVATIONS, ACTIVATIONS_EMPTY, SPRING, SPRING_EMPTY, FLAT})
    public String variant;

    @Param({Connections.H2, Connections.POSTGRESQL, Connections.STUB})
    public String database;

    private Connection c;
    private PreparedStatement insert;
    private DataSource dataSource;
    private TransactionTemplate outer;
    private TransactionTemplate nested;
    private int nextId;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        boolean guarded = variant.startsWith("txguard");
        c = Connections.open(guarded ? Connections.TXGUARD : Connections.RAW, database);
        Connections.execute(c, "DROP TABLE IF EXISTS bench_nested", "CREATE TABLE bench_nested (id INT PRIMARY KEY)");
        insert = c.prepareStatement("INSERT INTO bench_nested (id) VALUES (?)");
        if (variant.startsWith("spring")) {
            dataSource = new org.springframework.jdbc.datasource.SingleConnectionDataSource(c, true);
            DataSourceTransactionManager manager = new DataSourceTransactionManager(dataSource);
            manager.setNestedTransactionAllowed(true);
            outer = new TransactionTemplate(manager);
            nested = new TransactionTemplate(manager);
            nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
        }
    }

    @Setup(Level.Iteration)
    public void empty() throws SQLException {
        Connections.execute(c, "TRUNCATE TABLE bench_nested");
        nextId = 0;
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        c.close();
    }

    @Benchmark
    public int outerWithNested() throws SQLException {
        switch (variant) {
            case HANDWRITTEN: return handwritten();
            case TXGUARD:
            case ACTIVATIONS:
                return legacyService(true);
            case TXGUARD_EMPTY:
            case ACTIVATIONS_EMPTY:
                return legacyService(false);
            case SPRING: return spring(true);
            case SPRING_EMPTY: return spring(false);
            case FLAT: return flat();
            default: throw new IllegalArgumentException(variant);
        }
    }

    private int insertOne() throws SQLException {
        insert.setInt(1, nextId++);
        return insert.executeUpdate();
    }

    private int handwritten() throws SQLException {
        c.setAutoCommit(false);
        try {
            int n = insertOne();
            Savepoint sp = c.setSavepoint();
            n += insertOne();
            c.releaseSavepoint(sp);
            c.commit();
            return n;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The service: begin, its own insert, the DAO, commit, restore. */
    private int legacyService(boolean daoWorks) throws SQLException {
        c.setAutoCommit(false);
        try {
            int n = insertOne();
            n += legacyDao(daoWorks);
            c.commit();
            return n;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The DAO: the same shape again, which txguard turns into a savepoint scope. */
    private int legacyDao(boolean works) throws SQLException {
        c.setAutoCommit(false);
        try {
            int n = works ? insertOne() : 0;
            c.commit();
            return n;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private int spring(boolean innerWorks) {
        Integer n = outer.execute(status -> {
            try {
                int done = springInsert();
                Integer inner = nested.execute(s -> {
                    try {
                        return innerWorks ? springInsert() : 0;
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                return done + inner;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        return n;
    }

    /**
     * As Spring code does: the transaction's connection, from DataSourceUtils (a proxy over {@code c} that
     * only suppresses close), then the statement prepared on {@code c} once, as the other variants use it.
     */
    private int springInsert() throws SQLException {
        DataSourceUtils.getConnection(dataSource);
        return insertOne();
    }

    private int flat() throws SQLException {
        c.setAutoCommit(false);
        try {
            int n = insertOne() + insertOne();
            c.commit();
            return n;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
